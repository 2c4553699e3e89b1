"""What waits for a member, over HTTP (GET /api/me/waiting): each kind of item appears for the
person it is theirs and for nobody else, and goes once they have done what it waited for.

The kitchen circle: Ada (secretary), Ben (facilitator), Cleo (full), Eli (learning), Gus
(guest); the co-op and the kitchen on two nodes for the requests between circles."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from domain.values import Mode, Purpose
from node.app.persistence import open_node
from node.app.waiting import unanswered_rounds, waiting_for
from node.demo.scripted import consent_to, select
from node.settings import Settings
from tests.conftest import Clock
from tests.node.api.world import Circle, assert_problem, member_pair
from tests.node.circles import sync

EVERYONE = ("ada", "ben", "cleo", "eli", "gus")


def waiting(c: Circle, who: str) -> list[dict[str, Any]]:
    response = c.get(who, "/me/waiting")
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


def kinds(c: Circle) -> dict[str, list[tuple[str, str]]]:
    """Everyone's waiting items, as (what, record id)."""
    return {who: [(i["what"], i["record_id"]) for i in waiting(c, who)] for who in EVERYONE}


def test_a_round_waits_for_each_full_participant_until_they_answer(circle: Circle) -> None:
    c = circle
    # Given an asynchronous round with a deadline (the circle's time zone is UTC).
    deadline = datetime(2026, 3, 8, 17, 0, tzinfo=UTC)
    pid = c.node.proposals.draft_proposal(
        c.ids["cleo"], "Paid travel time", "Travel is paid", mode=Mode.ASYNC, deadline=deadline
    )
    c.node.proposals.present(c.ids["cleo"], pid)
    c.node.proposals.open_reactions(c.ids["ben"], pid)
    c.node.consent.open_consent_round(c.ids["ben"], pid)

    # Then it waits for the full participants, with its deadline; not for Eli or Gus.
    (item,) = waiting(c, "cleo")
    assert item == {
        "what": "consent_round",
        "record": "proposal",
        "record_id": pid,
        "title": "Paid travel time",
        "why": "Round 1 needs your consent or objection",
        "deadline": "2026-03-08T17:00:00Z",
        "due_on": None,
    }
    assert kinds(c) == {
        "ada": [("consent_round", pid)],
        "ben": [("consent_round", pid)],
        "cleo": [("consent_round", pid)],
        "eli": [],
        "gus": [],
    }

    # Its key tells it apart from the same proposal's later rounds (a notice is sent once).
    (listed,) = waiting_for(c.node.records, c.ids["cleo"])
    assert listed.key == f"consent_round:proposal:{pid}:Paid travel time:{item['why']}"

    # When Cleo consents and Ada objects, it waits for Ben alone.
    c.ok("cleo", f"/processes/{pid}/consents", {}, 201)
    c.ok("ada", f"/processes/{pid}/objections", {"argument": "No budget yet"}, 201)
    assert kinds(c)["cleo"] == [] and kinds(c)["ada"] == []
    assert kinds(c)["ben"] == [("consent_round", pid)]


def test_a_selections_round_waits_too(circle: Circle) -> None:
    c, ben = circle, circle.ids["ben"]
    selection = c.node.hats.open_selection(ben, "leader")
    for who in ("ada", "ben", "cleo"):
        c.node.hats.nominate(c.ids[who], selection, c.ids["cleo"], "Steady")
    c.node.hats.open_change_round(ben, selection)
    c.node.hats.propose_candidate(ben, selection, c.ids["cleo"], "Nominated by all")
    (item,) = waiting(c, "ada")
    assert (item["what"], item["record"], item["record_id"]) == (
        "consent_round",
        "selection",
        selection,
    )
    assert item["title"] == "Selection for the leader hat" and item["deadline"] is None


def test_questions_wait_for_the_proposer_until_answered(circle: Circle) -> None:
    c = circle
    pid = c.ok("cleo", "/proposals", {"title": "Rota", "text": "A rota"}, 201)["id"]
    c.ok("cleo", f"/proposals/{pid}/present")
    c.ok("gus", f"/proposals/{pid}/questions", {"question": "Weekends too?"}, 201)
    c.ok("eli", f"/proposals/{pid}/questions", {"question": "Who starts?"}, 201)

    (item,) = waiting(c, "cleo")
    assert (item["what"], item["record_id"]) == ("question", pid)
    assert item["why"] == "2 questions asked of your proposal wait for your answer"
    assert all(kinds(c)[who] == [] for who in ("ada", "ben", "eli", "gus"))

    c.ok("cleo", f"/proposals/{pid}/questions/1/answer", {"answer": "Yes"})
    assert waiting(c, "cleo")[0]["why"] == "1 question asked of your proposal waits for your answer"
    c.ok("cleo", f"/proposals/{pid}/questions/2/answer", {"answer": "Ben"})
    assert waiting(c, "cleo") == []


def test_minutes_wait_for_the_facilitator_until_consented(circle: Circle, clock: Clock) -> None:
    c, ada, ben = circle, circle.ids["ada"], circle.ids["ben"]
    meeting = c.node.meetings.schedule_meeting(ben, "March meeting", clock.now + timedelta(days=1))
    c.node.meetings.record_attendance(ada, meeting, [ada, ben, c.ids["cleo"]])
    c.node.meetings.consent_agenda(ben, meeting, ["Rota"])
    c.node.meetings.record_minutes(ada, meeting, "We agreed the rota")

    assert kinds(c)["ben"] == [("minutes", meeting)]
    assert waiting(c, "ben")[0]["due_on"] == "2026-03-02"
    assert all(kinds(c)[who] == [] for who in ("ada", "cleo", "eli", "gus"))

    c.ok("ben", f"/meetings/{meeting}/minutes/consent")
    assert kinds(c)["ben"] == []


def test_hat_terms_and_reviews_coming_due(circle: Circle, clock: Clock) -> None:
    c, ben = circle, circle.ids["ben"]
    # Ben took an everyday decision in the facilitator's domain, reviewed in 40 days.
    review = clock.now.date() + timedelta(days=40)
    decision = c.node.decisions.take_everyday_decision(
        ben, "facilitator", "meetings", "Meet on Mondays", "We meet on Mondays", review
    )
    # Not yet within 30 days: nothing waits.
    assert all(items == [] for items in kinds(c).values())

    # Ten days later its review comes due within 30 days: for Ben, who took it, and Ada, who
    # keeps the review dates; not for the others.
    clock.advance(days=10)
    assert kinds(c)["ben"] == [("review", decision)]
    assert kinds(c)["ada"] == [("review", decision)]
    assert all(kinds(c)[who] == [] for who in ("cleo", "eli", "gus"))
    (item,) = waiting(c, "ben")
    assert item["due_on"] == review.isoformat() and item["title"] == "Meet on Mondays"
    assert item["why"] == "You took this decision: its review is due, to renew, amend or revoke it"

    # Near the end of the year the facilitator's and secretary's terms come up for review.
    clock.advance(days=340)
    ben_terms = [i for i in waiting(c, "ben") if i["what"] == "hat_term"]
    assert [(i["record"], i["record_id"], i["title"]) for i in ben_terms] == [
        ("hat", "facilitator", "Your facilitator hat")
    ]
    assert date.fromisoformat(ben_terms[0]["due_on"]) <= clock.now.date() + timedelta(days=30)
    assert ("hat_term", "secretary") in kinds(c)["ada"]
    assert [what for what, _ in kinds(c)["cleo"]] == []


def test_an_appeal_waits_for_the_facilitator_while_the_circle_hears_it(circle: Circle) -> None:
    c, ben = circle, circle.ids["ben"]
    decision = c.node.decisions.take_everyday_decision(
        ben, "facilitator", "meetings", "Meet at dawn", "We meet at six"
    )
    appeal = c.node.appeals.lodge(c.ids["cleo"], decision, "Too early for carers")
    c.node.appeals.join(c.ids["eli"], appeal)
    # Two appellants: it gathers, and waits for nobody yet.
    assert [what for what, _ in kinds(c)["ben"]] == []
    c.node.appeals.join(c.ids["ada"], appeal)

    assert kinds(c)["ben"] == [("appeal", appeal)]
    assert all(("appeal", appeal) not in kinds(c)[who] for who in ("ada", "cleo", "eli", "gus"))
    c.node.appeals.answer_as_circle(ben, appeal, upheld=False, reason="Dawn suits the bakers")
    assert kinds(c)["ben"] == []


def test_a_trial_waits_for_the_secretary_until_its_person_is_admitted(circle: Circle) -> None:
    c, ada = circle, circle.ids["ada"]
    dora = c.node.people.apply_to_join("Dora")
    assert kinds(c)["ada"] == []
    c.node.people.start_trial(ada, dora, 2)

    (item,) = waiting(c, "ada")
    assert (item["what"], item["record"], item["record_id"]) == ("trial_session", "person", dora)
    assert (
        item["title"] == "Trial of Dora" and item["why"] == "0 of 2 trial sessions counted so far"
    )
    assert all(kinds(c)[who] == [] for who in ("ben", "cleo", "eli", "gus"))

    c.node.people.hold_trial_session(ada, dora)
    c.node.people.hold_trial_session(ada, dora)
    assert waiting(c, "ada")[0]["why"] == (
        "All 2 sessions of their trial were held: admit them, or end the trial"
    )
    c.node.people.admit(ada, dora)
    assert kinds(c)["ada"] == []


def test_someone_who_stepped_back_is_told_they_do_not_act(circle: Circle) -> None:
    c = circle
    pid = c.node.proposals.draft_proposal(c.ids["ada"], "Rota", "A rota")
    c.node.proposals.present(c.ids["ada"], pid)
    c.node.proposals.open_reactions(c.ids["ben"], pid)
    c.node.consent.open_consent_round(c.ids["ben"], pid)
    assert kinds(c)["cleo"] == [("consent_round", pid)]
    c.ok("cleo", f"/people/{c.ids['cleo']}/step-back", {})
    # Nothing waits for her while she has stepped back (the notices read the same list)...
    assert waiting_for(c.node.records, c.ids["cleo"]) == []
    assert unanswered_rounds(c.node.records, c.ids["cleo"]) == set()
    # ...and she is told why when she asks.
    assert_problem(
        c.get("cleo", "/me/waiting"),
        403,
        "not_permitted",
        "This person has stepped back; they can act again once they return",
    )


def test_without_a_secretary_what_waits_for_it_waits_for_every_full_participant(
    tmp_path: Path, clock: Clock
) -> None:
    # A forming circle: Ada founded it, Ben is full, Eli learning; no hat is worn yet.
    node = open_node(Settings(data_dir=tmp_path / "forming"), clock)
    try:
        ada = node.circle.found_circle(
            name="Garden", aim="Grow food", domain="The garden", founder_name="Ada"
        )
        ben = node.people.add_founding_member(ada, "Ben", "full")
        eli = node.people.add_founding_member(ada, "Eli", "learning")
        dora = node.people.apply_to_join("Dora")
        node.people.start_trial(ben, dora, 1)

        def trials(person: str) -> list[str]:
            return [
                i.record_id for i in waiting_for(node.records, person) if i.what == "trial_session"
            ]

        assert trials(ada) == [dora] and trials(ben) == [dora]
        assert trials(eli) == [] and trials(dora) == []
    finally:
        node.close()


@pytest.fixture
def pair(tmp_path: Path, clock: Clock) -> Iterator[tuple[Circle, Circle]]:
    """The co-op and the kitchen, the kitchen's delegate (Ada) seated in the co-op."""
    nodes, coop, kitchen_circle = member_pair(tmp_path, clock)
    select(nodes["kitchen"], "delegate", kitchen_circle.ids["ada"])
    sync(nodes)
    yield coop, kitchen_circle
    for node in nodes.values():
        node.close()


def test_linked_circles_requests_wait_for_the_facilitator_and_the_seat(
    pair: tuple[Circle, Circle],
) -> None:
    coop, kitchen_circle = pair
    nodes = {"coop": coop.node, "kitchen": kitchen_circle.node}
    coop_id, kitchen_id = coop.node.feed.node_id, kitchen_circle.node.feed.node_id

    # The co-op's round asks the kitchen's delegate seat: it waits for Ada, who holds it.
    seat_round = consent_to(coop.node, Purpose.ADOPT_POLICY, {}, text="Training", close=False)
    sync(nodes)
    assert kinds(kitchen_circle)["ada"] == [("seat_request", coop_id)]
    (item,) = waiting(kitchen_circle, "ada")
    assert (
        item["why"] == "Equal Care Co-op asks for the answer of the delegate seat, which you hold"
    )
    assert kinds(kitchen_circle)["ben"] == []
    kitchen_circle.ok("ada", f"/seats/{coop_id}/{seat_round}", {"consents": True})
    assert kinds(kitchen_circle)["ada"] == []

    # A proposal of the co-op that asks the kitchen's consent waits for its facilitator.
    consent_to(
        coop.node,
        Purpose.ADOPT_POLICY,
        {},
        title="Shared van",
        ask_circles=[kitchen_id],
        close=False,
    )
    sync(nodes)
    ben_items = waiting(kitchen_circle, "ben")
    assert [(i["what"], i["record_id"], i["title"]) for i in ben_items] == [
        ("consent_request", coop_id, "Shared van")
    ]
    assert ben_items[0]["why"] == (
        "Equal Care Co-op asks for this circle's consent; bring it to the circle"
    )
    assert ("consent_request", coop_id) not in kinds(kitchen_circle)["cleo"]
