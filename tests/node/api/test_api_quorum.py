"""Consent that means consent, over HTTP: the quorum a process shows, a round below quorum kept
open or lapsed with its reason, late asynchronous rounds closed by the calendar, a second
answer refused as a conflict (409), and changing one's answer by its own endpoint.

The kitchen circle has three full participants (Ada, Ben, Cleo): two are its quorum."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from node.app.logbook import read_logbook
from tests.conftest import Clock
from tests.node.api.world import Circle, assert_problem

ORGANISER = "care-commons-organiser"
HAT = {"name": "Care commons organiser", "purpose": "Keeps the care rota", "domain": ["rota"]}
WEEK = timedelta(days=7)


def in_a_week(clock: Clock) -> str:
    return (clock() + WEEK).isoformat()


def async_round(c: Circle, clock: Clock, title: str = "Paid travel time") -> str:
    """Cleo's asynchronous proposal, open for a week, taken to its consent round."""
    body = {"title": title, "text": "Travel is paid", "mode": "async", "deadline": in_a_week(clock)}
    pid: str = c.ok("cleo", "/proposals", body, 201)["id"]
    c.ok("cleo", f"/proposals/{pid}/present")
    c.ok("ben", f"/proposals/{pid}/reaction-round")
    c.ok("ben", f"/processes/{pid}/consent-round")
    return pid


def in_meeting_round(c: Circle) -> str:
    pid: str = c.ok("cleo", "/proposals", {"title": "Compost", "text": "Weekly"}, 201)["id"]
    c.ok("cleo", f"/proposals/{pid}/present")
    c.ok("ben", f"/proposals/{pid}/reaction-round")
    c.ok("ben", f"/processes/{pid}/consent-round")
    return pid


def test_an_unanswered_asynchronous_proposal_lapses_when_the_facilitator_closes_it(
    circle: Circle, clock: Clock
) -> None:
    c = circle
    # Cleo's asynchronous proposal reaches its round; it shows the quorum it needs.
    pid = async_round(c, clock)
    shown = c.get("gus", f"/processes/{pid}").json()
    assert shown["quorum"] == {"needed": 2, "answered": 0, "full_participants": 3}

    # Before the deadline, below quorum, the round cannot close: it stays open.
    assert_problem(
        c.post("ben", f"/processes/{pid}/close"),
        409,
        "wrong_stage",
        "Below quorum: 0 of 3 full participant(s) answered, and 2 are needed; the round stays "
        "open until its deadline",
    )

    # Nobody answers. After the deadline the facilitator closes it: lapsed, no policy.
    clock.advance(days=8)
    assert c.ok("ben", f"/processes/{pid}/close") == {"outcome": "lapsed", "decision_id": None}
    seen = c.get("ada", f"/proposals/{pid}").json()
    assert seen["stage"] == "lapsed"
    [record] = seen["rounds"]
    assert record["outcome"] == "lapsed" and record["consents"] == []
    assert record["reason"] == "Below quorum: 0 of 3 full participant(s) answered, and 2 are needed"
    assert c.get("ada", "/decisions").json()["total"] == 0

    # The logbook says why.
    assert list(read_logbook(c.node))[-1].text == (
        "Consent round 1 on 'Paid travel time' closed: lapsed (0 consent, 0 objection(s), "
        "3 absent): Below quorum: 0 of 3 full participant(s) answered, and 2 are needed"
    )


def test_the_calendar_closes_late_asynchronous_rounds_as_the_rules_say(
    circle: Circle, clock: Clock
) -> None:
    c, ids = circle, circle.ids
    # Two asynchronous proposals: nobody answers the first; Ada and Ben consent to the second.
    silent = async_round(c, clock, "Paid travel time")
    agreed = async_round(c, clock, "Shared car")
    for who in ("ada", "ben"):
        c.ok(who, f"/processes/{agreed}/consents", {}, 201)
    assert c.get("gus", f"/processes/{agreed}").json()["quorum"]["answered"] == 2

    # An asynchronous selection for the organiser's hat, Cleo its candidate; two consent.
    c.ok("cleo", "/hats", HAT, 201)
    sid = c.ok(
        "ben",
        "/selections",
        {"hat_id": ORGANISER, "mode": "async", "deadline": in_a_week(clock)},
        201,
    )["id"]
    c.ok("ada", f"/selections/{sid}/nominations", {"nominee": ids["cleo"], "reason": "Kind"}, 201)
    c.ok("ben", f"/selections/{sid}/change-round")
    c.ok("ben", f"/selections/{sid}/candidate", {"candidate": ids["cleo"], "reason": "Named"})
    for who in ("ada", "cleo"):
        c.ok(who, f"/processes/{sid}/consents", {}, 201)

    # Before the deadline the calendar closes nothing.
    assert c.ok("ada", "/decisions/update-due-dates")["closed"] == []

    # Once the deadline has passed, it closes each round, with no one asking.
    clock.advance(days=8)
    due = c.ok("ada", "/decisions/update-due-dates")
    assert due["closed"] == [silent, agreed, sid] and due["lapsed"] == []

    # Below quorum the first lapsed, with its reason; it never became a policy.
    first = c.get("ada", f"/proposals/{silent}").json()
    assert first["stage"] == "lapsed"
    assert first["rounds"][0]["reason"].startswith("Below quorum: 0 of 3")

    # The second was consented, and its policy is in force.
    assert c.get("ada", f"/proposals/{agreed}").json()["stage"] == "consented"
    (policy,) = c.get("ada", "/decisions").json()["items"]
    assert policy["proposal_id"] == agreed and policy["status"] == "in_force"

    # The selection was consented, and Cleo wears the hat.
    assert c.get("ada", f"/selections/{sid}").json()["stage"] == "consented"
    [wearer] = c.get("ada", f"/hats/{ORGANISER}").json()["wearers"]
    assert (wearer["person_id"], wearer["selection_id"]) == (ids["cleo"], sid)

    # The next hour, there is nothing left to close.
    assert c.ok("ada", "/decisions/update-due-dates")["closed"] == []


def test_a_second_answer_is_a_conflict_and_an_answer_is_changed_by_its_own_endpoint(
    circle: Circle,
) -> None:
    c, ids = circle, circle.ids
    pid = in_meeting_round(c)
    change = f"/processes/{pid}/answer-changes"

    # Someone who has not answered answers; they cannot change an answer not given.
    assert_problem(
        c.post("ada", change, {"consents": True}),
        409,
        "wrong_stage",
        "You have not answered in this round yet; consent or object instead",
    )

    # Ada objects; a second answer is a conflict with where the round stands.
    c.ok("ada", f"/processes/{pid}/objections", {"argument": "No budget yet"}, 201)
    assert_problem(
        c.post("ada", f"/processes/{pid}/consents", {}),
        409,
        "wrong_stage",
        "You have already answered in this round; change your answer instead",
    )

    # She changes her answer to consent, with a concern: her objection is withdrawn.
    changed: dict[str, Any] = c.ok(
        "ada", change, {"consents": True, "text": "Watch the budget"}, 201
    )
    assert changed == {
        "person_id": ids["ada"],
        "consents": True,
        "text": "Watch the budget",
        "in_advance": False,
        "objection": None,
    }
    process = c.get("gus", f"/processes/{pid}").json()
    assert process["objections"][0]["withdrawn"] is True
    assert process["quorum"] == {"needed": 2, "answered": 1, "full_participants": 3}

    # Ben consents, then changes to an objection: it needs its argument, and gets a number.
    c.ok("ben", f"/processes/{pid}/consents", {}, 201)
    assert_problem(
        c.post("ben", change, {"consents": False}),
        422,
        "invalid_request",
        "An objection needs its argument",
    )
    assert_problem(
        c.post("ben", change, {"consents": True}),
        422,
        "invalid_request",
        "That is your answer already",
    )
    raised = c.ok("ben", change, {"consents": False, "text": "The rota is full"}, 201)
    assert raised["consents"] is False and raised["objection"] == 2

    # Guests and learning participants neither answer nor change answers.
    for who in ("gus", "eli"):
        assert c.post(who, change, {"consents": True}).status_code == 403

    # Ben's objection blocks; once the round is closed, answers stand as they are.
    assert c.ok("ben", f"/processes/{pid}/close")["outcome"] == "integrating"
    assert_problem(
        c.post("ada", change, {"consents": False, "text": "On reflection"}),
        409,
        "wrong_stage",
        "Cannot change an answer while it is integrating",
    )

    # The logbook tells both changes.
    told = [entry.text for entry in read_logbook(c.node)]
    assert "Ada changed their answer to 'Compost' to consent (concern: Watch the budget)" in told
    assert "Ben changed their answer to 'Compost' to an objection: The rota is full" in told


def test_no_change_of_answer_after_the_deadline(circle: Circle, clock: Clock) -> None:
    c = circle
    pid = async_round(c, clock)
    c.ok("ada", f"/processes/{pid}/consents", {}, 201)
    clock.advance(days=8)
    assert_problem(
        c.post("ada", f"/processes/{pid}/answer-changes", {"consents": False, "text": "Late"}),
        409,
        "wrong_stage",
        "The deadline for this round has passed",
    )


def test_a_meeting_below_quorum_stays_open(circle: Circle) -> None:
    c = circle
    pid = in_meeting_round(c)
    c.ok("cleo", f"/processes/{pid}/consents", {}, 201)
    assert_problem(
        c.post("ben", f"/processes/{pid}/close"),
        409,
        "wrong_stage",
        "Below quorum: 1 of 3 full participant(s) took part in the meeting's round, and 2 are "
        "needed; the round stays open until the quorum is met",
    )
    assert c.get("ada", f"/processes/{pid}").json()["stage"] == "consent_round"
