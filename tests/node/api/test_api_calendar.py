"""Personal calendars over HTTP: each person's secret calendar link, made, replaced and revoked
by the member API and the account page, and the iCalendar feed it opens.

Cast: the kitchen circle of tests/node/api/world.py (Ada secretary, Ben facilitator, Cleo full,
Eli learning, Gus guest), whose rules name Europe/Paris as its time zone (UTC+1 in March).
The clock starts at 2026-03-01 09:00 UTC.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import icalendar
import pytest
from fastapi.testclient import TestClient

from domain.errors import NotPermitted
from domain.records import AgendaItem
from domain.values import Purpose
from node.demo.scripted import consent_to
from node.http.web.rendering import SECURITY_HEADERS
from tests.node.api.world import Circle, assert_problem

PARIS = ZoneInfo("Europe/Paris")


def _path(url: str) -> str:
    assert url.startswith("http://testserver/calendar/cal_") and url.endswith(".ics"), url
    return url.removeprefix("http://testserver")


def _link(c: Circle, who: str) -> str:
    """A new calendar link for `who`, by the member API; returns its path."""
    return _path(c.ok(who, "/me/calendar", status=201)["url"])


def _events(c: Circle, path: str) -> dict[str, icalendar.Event]:
    """The events of the calendar at `path`, by uid (without the node's part)."""
    response = c.client.get(path)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "text/calendar; charset=utf-8"
    calendar = icalendar.Calendar.from_ical(response.content)
    return {str(event["UID"]).removesuffix("@circle-node"): event for event in calendar.events}


def _in_paris(c: Circle) -> None:
    consent_to(c.node, Purpose.CHANGE_RULES, {"time_zone": "Europe/Paris"}, by=c.ids["ada"])


def test_my_calendar_holds_the_meetings_my_deadlines_the_reviews_and_my_terms(
    circle: Circle,
) -> None:
    c = circle
    ids, node = c.ids, c.node
    # Given: a circle in Paris; a meeting at 18:00 Paris time whose agenda has a confidential
    # item; an asynchronous proposal with its deadline; an everyday decision with its review.
    _in_paris(c)
    meeting = node.meetings.schedule_meeting(
        ids["ben"], "March meeting", datetime(2026, 3, 10, 18, 0, tzinfo=PARIS)
    )
    node.meetings.record_attendance(ids["ada"], meeting, [ids["ada"], ids["ben"], ids["cleo"]])
    node.meetings.consent_agenda(
        ids["ben"],
        meeting,
        [AgendaItem("The rota"), AgendaItem("Cleo's health", confidential=True)],
    )
    deadline = datetime(2026, 3, 8, 12, 0, tzinfo=UTC)
    proposal = node.proposals.draft_proposal(
        ids["cleo"], "Compost", "A compost bin", mode="async", deadline=deadline
    )
    decision = node.decisions.take_everyday_decision(
        ids["ben"], "facilitator", "meetings", "Tuesdays", "We meet on Tuesdays"
    )
    circle = node.records.peek_circle()
    (ben_term,) = [t for t in circle.terms if t.person_id == ids["ben"]]

    # When: Ben makes his calendar link and his calendar application reads it.
    path = _link(c, "ben")
    response = c.client.get(path)
    events = _events(c, path)

    # Then: it is iCalendar, with the pages' security headers, and holds each kind of item.
    for name, value in SECURITY_HEADERS.items():
        assert response.headers[name] == value
    assert set(events) == {
        f"meeting-{meeting}",
        f"deadline-{proposal}",
        f"review-{decision}",
        f"term-{circle.id}-facilitator-{ids['ben']}",
    }
    meeting_event = events[f"meeting-{meeting}"]
    # The meeting at its time in the circle's zone, its open agenda item named, never the
    # confidential one.
    start = meeting_event.start
    assert start == datetime(2026, 3, 10, 18, 0, tzinfo=PARIS)
    assert str(start.tzinfo) == "Europe/Paris"
    assert meeting_event["SUMMARY"] == "Kitchen meeting: March meeting"
    assert "The rota" in meeting_event["DESCRIPTION"]
    assert "Cleo's health" not in response.text
    assert "health" not in response.text
    # The deadline of the round Ben takes part in, at its moment (13:00 in Paris).
    assert events[f"deadline-{proposal}"].start == deadline
    assert events[f"deadline-{proposal}"]["SUMMARY"] == "Kitchen: deadline for «Compost»"
    assert events[f"deadline-{proposal}"]["URL"] == f"http://testserver/proposals/{proposal}"
    # The review date of the decision in force, and the end of Ben's term: whole days.
    review = events[f"review-{decision}"]
    assert review.start == node.records.get_decision(decision).review_date
    assert review.end == review.start + timedelta(days=1)
    term = events[f"term-{circle.id}-facilitator-{ids['ben']}"]
    assert term.start == ben_term.review_date
    assert not isinstance(term.start, datetime) and isinstance(term.start, date)
    assert term["SUMMARY"] == "Kitchen: your term as facilitator ends"

    # When: the feed is read again after the meeting's minutes are recorded.
    node.meetings.record_minutes(ids["ada"], meeting, "We agreed the rota")
    again = _events(c, path)
    # Then: the same uids (the application updates its events), the meeting's changed.
    assert set(again) == set(events)
    assert int(again[f"meeting-{meeting}"]["SEQUENCE"]) > int(meeting_event["SEQUENCE"])


def test_another_persons_calendar_shows_their_own_items(circle: Circle) -> None:
    c = circle
    ids, node = c.ids, c.node
    # Given: an asynchronous proposal; Ben wears the facilitator's hat, Ada the secretary's.
    proposal = node.proposals.draft_proposal(
        ids["cleo"],
        "Compost",
        "A compost bin",
        mode="async",
        deadline=datetime(2026, 3, 8, 12, 0, tzinfo=UTC),
    )
    circle = node.records.peek_circle()

    # When: Ada and Ben read their own calendars.
    ada = _events(c, _link(c, "ada"))
    ben = _events(c, _link(c, "ben"))

    # Then: each holds their own term's end, not the other's; both the round's deadline.
    assert f"term-{circle.id}-secretary-{ids['ada']}" in ada
    assert f"term-{circle.id}-facilitator-{ids['ben']}" not in ada
    assert f"term-{circle.id}-facilitator-{ids['ben']}" in ben
    assert f"term-{circle.id}-secretary-{ids['ada']}" not in ben
    assert f"deadline-{proposal}" in ada and f"deadline-{proposal}" in ben
    # The calendar names whose it is.
    response = c.client.get(_link(c, "ada"))
    assert "X-WR-CALNAME:Kitchen (Ada)" in response.text


def test_a_replaced_or_revoked_link_answers_404(circle: Circle) -> None:
    c = circle
    # Given: Cleo has no calendar link.
    assert c.get("cleo", "/me/calendar").json() == {"exists": False, "made": None}
    assert_problem(
        c.client.delete("/api/me/calendar", headers=c.as_("cleo")),
        404,
        "not_found",
        "You have no calendar link to revoke",
    )

    # When: she makes one, then replaces it.
    first = _link(c, "cleo")
    assert c.get("cleo", "/me/calendar").json() == {
        "exists": True,
        "made": "2026-03-01T09:00:00Z",
    }
    second = _link(c, "cleo")

    # Then: the first answers 404, the second her calendar.
    assert c.client.get(first).status_code == 404
    assert c.client.get(second).status_code == 200

    # When: she revokes it.
    response = c.client.delete("/api/me/calendar", headers=c.as_("cleo"))
    assert response.status_code == 204, response.text

    # Then: it answers 404, with the security headers, and she has none.
    gone = c.client.get(second)
    assert gone.status_code == 404
    assert gone.headers["X-Content-Type-Options"] == "nosniff"
    assert c.get("cleo", "/me/calendar").json() == {"exists": False, "made": None}
    # A secret of another shape, or a personal token, opens nothing.
    assert c.client.get(f"/calendar/{c.tokens['cleo']}.ics").status_code == 404
    assert c.client.get("/calendar/cal_.ics").status_code == 404


def test_a_link_ends_with_its_persons_access(circle: Circle) -> None:
    c = circle
    ids, node = c.ids, c.node
    # Given: Gus and Cleo have calendar links; Eli has two tokens and a link.
    gus, cleo, eli = _link(c, "gus"), _link(c, "cleo"), _link(c, "eli")
    second_eli_token = node.tokens.issue_token(ids["eli"])[0]

    # When: the secretary revokes Gus's only token.
    (gus_token,) = node.tokens.tokens_of(ids["gus"])
    assert c.client.delete(f"/api/tokens/{gus_token}", headers=c.as_("ada")).status_code == 204

    # Then: his calendar link is revoked with it, and a new token does not bring it back.
    assert c.client.get(gus).status_code == 404
    node.tokens.issue_token(ids["gus"])
    assert c.client.get(gus).status_code == 404
    assert node.calendars.link_made(ids["gus"]) is None

    # When: Eli revokes one of her two tokens: her link still works.
    node.tokens.revoke_token(second_eli_token, ids["eli"])
    assert c.client.get(eli).status_code == 200

    # When: Cleo leaves the circle.
    node.people.leave(ids["cleo"], ids["cleo"])
    # Then: her link opens nothing, and nobody who left makes one.
    assert c.client.get(cleo).status_code == 404
    response = c.client.post("/api/me/calendar", headers={"Authorization": "Bearer x"})
    assert response.status_code == 401
    with pytest.raises(NotPermitted, match="Someone who has left the circle gets no calendar"):
        node.calendars.make_link(ids["cleo"])


# The account page: the link made and shown once, then revoked, by forms with CSRF tokens.


def _signed_in(client: TestClient, token: str) -> str:
    page = client.get("/sign-in")
    found = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert found is not None
    response = client.post(
        "/sign-in", data={"csrf": found.group(1), "token": token, "next": "/account"}
    )
    assert response.status_code == 303, response.text
    account = client.get("/account")
    csrf = re.search(r'name="csrf" value="([^"]+)"', account.text)
    assert account.status_code == 200 and csrf is not None
    return csrf.group(1)


def test_the_account_page_makes_shows_once_and_revokes_my_calendar_link(circle: Circle) -> None:
    c = circle
    # Given: Eli, signed in on the pages.
    browser = TestClient(c.client.app, follow_redirects=False)
    csrf = _signed_in(browser, c.tokens["eli"])
    page = browser.get("/account")
    assert "You have no calendar link." in page.text
    assert page.headers["Content-Security-Policy"] == SECURITY_HEADERS["Content-Security-Policy"]

    # When: she makes her calendar link.
    made = browser.post("/account/calendar", data={"csrf": csrf})

    # Then: the page shows its address this once, and it opens her calendar.
    assert made.status_code == 200, made.text
    found = re.search(r'<code id="calendar-url">([^<]+)</code>', made.text)
    assert found is not None
    path = _path(found.group(1))
    assert c.client.get(path).status_code == 200
    page = browser.get("/account")
    assert "You have a calendar link, made 2026-03-01 09:00 UTC" in page.text
    assert path not in page.text

    # When: she revokes it.
    revoked = browser.post("/account/calendar/revoke", data={"csrf": csrf})

    # Then: she is back on the page, told so, and the address answers 404.
    assert revoked.status_code == 303 and revoked.headers["location"] == "/account"
    assert "Your calendar link is revoked." in browser.get("/account").text
    assert c.client.get(path).status_code == 404


def test_a_review_on_the_last_day_a_date_can_be_does_not_break_the_calendar(
    circle: Circle,
) -> None:
    c = circle
    # Given: an everyday decision to be reviewed on 9999-12-31, which has no next day.
    c.node.decisions.take_everyday_decision(
        c.ids["ben"], "facilitator", "meetings", "For ever", "x", review_date=date.max
    )

    # When: Cleo's calendar is read.
    events = _events(c, _link(c, "cleo"))

    # Then: the review is in it, on that day.
    (review,) = [e for e in events.values() if "For ever" in str(e["SUMMARY"])]
    assert review.decoded("DTSTART") == date.max
