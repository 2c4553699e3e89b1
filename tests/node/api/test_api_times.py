"""The member API shows times in the circle's time zone, with their offset: deadlines, meeting
times, the logbook's times; a time without a zone is refused (422), and a review date falls
due at the circle's midnight.

Cast: the kitchen circle of tests/node/api/world.py (Ada secretary, Ben facilitator, Cleo,
Eli learning, Gus guest), whose rules name Pacific/Auckland (UTC+13 in March). The clock
starts at 2026-03-01 09:00 UTC.
"""

from __future__ import annotations

from datetime import UTC, datetime

from domain.values import Purpose
from node.demo.scripted import consent_to
from tests.conftest import Clock
from tests.node.api.world import Circle, assert_problem


def _in_auckland(c: Circle) -> None:
    consent_to(c.node, Purpose.CHANGE_RULES, {"time_zone": "Pacific/Auckland"})
    assert c.get("ada", "/circle").json()["time_zone"] == "Pacific/Auckland"


def test_a_deadline_is_an_instant_shown_in_the_circle_s_time(circle: Circle) -> None:
    c = circle
    _in_auckland(c)
    # When: Cleo drafts an asynchronous proposal with a deadline given in UTC.
    draft = {
        "title": "Rota",
        "text": "Weekly",
        "mode": "async",
        "deadline": "2026-03-10T09:00:00Z",
    }
    pid = c.ok("cleo", "/proposals", draft, 201)["id"]
    # Then: the API shows the same instant in Auckland's time, with its offset.
    assert c.get("ada", f"/proposals/{pid}").json()["deadline"] == "2026-03-10T22:00:00+13:00"
    (listed,) = [p for p in c.get("ada", "/proposals").json()["items"] if p["id"] == pid]
    assert listed["deadline"] == "2026-03-10T22:00:00+13:00"
    assert c.get("ada", f"/processes/{pid}").json()["deadline"] == "2026-03-10T22:00:00+13:00"
    # And: a deadline without a time zone is refused, naming what it lacks.
    naive = {**draft, "deadline": "2026-03-10T09:00:00"}
    response = c.post("cleo", "/proposals", naive)
    assert_problem(
        response,
        422,
        "invalid_request",
        "The deadline needs a time zone, e.g. 2026-03-01T09:00:00+01:00 or ...Z",
    )


def test_a_meeting_time_is_shown_in_the_circle_s_time(circle: Circle) -> None:
    c = circle
    _in_auckland(c)
    # When: Ben schedules a meeting at a time given with Los Angeles' offset.
    body = {"title": "March meeting", "when": "2026-03-05T18:00:00-08:00"}
    meeting = c.ok("ben", "/meetings", body, 201)
    # Then: it is shown at the same instant, in Auckland's time.
    assert meeting["when"] == "2026-03-06T15:00:00+13:00"
    assert c.get("gus", "/meetings").json()["items"][0]["when"] == "2026-03-06T15:00:00+13:00"


def test_a_review_falls_due_at_the_circle_s_midnight(circle: Circle, clock: Clock) -> None:
    c = circle
    _in_auckland(c)
    # Given: a policy to review on 3 March, consented at 22:00 on 1 March in Auckland.
    draft = {"title": "Sunday cover", "text": "Two on Sundays", "review_date": "2026-03-03"}
    pid = c.ok("ben", "/proposals", draft, 201)["id"]
    c.ok("ben", f"/proposals/{pid}/present")
    c.ok("ben", f"/proposals/{pid}/reaction-round")
    c.ok("ben", f"/processes/{pid}/consent-round")
    for who in ("ada", "ben", "cleo"):
        c.ok(who, f"/processes/{pid}/consents", {}, 201)
    decision = c.ok("ben", f"/processes/{pid}/close")["decision_id"]
    # When: the calendar runs at 23:30 on 2 March in Auckland (10:30 UTC): nothing is due.
    clock.now = datetime(2026, 3, 2, 10, 30, tzinfo=UTC)
    assert c.ok("ben", "/decisions/update-due-dates")["review_due"] == []
    # When: it runs at 00:30 on 3 March in Auckland, still 2 March (11:30) in UTC.
    clock.now = datetime(2026, 3, 2, 11, 30, tzinfo=UTC)
    # Then: the review has come due.
    assert c.ok("ben", "/decisions/update-due-dates")["review_due"] == [decision]
    assert c.get("ada", f"/decisions/{decision}").json()["status"] == "review_due"
