"""Who may, and where: the rules the authorisation matrix holds each route to.

The groups of the world's people (tests/node/api/everyone.py) that a rule lets through, the
setups that bring a fresh circle to where a route's action is possible (each returns the path
parameters it made real), and `Rule`, which the member API's routes (test_authorisation_matrix)
and the web pages' forms (web_matrix) are both checked against.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from domain.records import AgendaItem
from node.demo.scripted import consent_to, select
from tests.node.api.everyone import START, Everyone

MEMBERS = ("gus", "eli", "cleo", "ben", "ada")
ALL = frozenset(MEMBERS)
SPEAKERS = frozenset({"eli", "cleo", "ben", "ada"})  # guests take part, they do not propose
FULL = frozenset({"cleo", "ben", "ada"})  # only full participants consent or object
FACILITATOR = frozenset({"ben"})
SECRETARY = frozenset({"ada"})
NOBODY: frozenset[str] = frozenset()
DATE = (START + timedelta(days=200)).date().isoformat()
WHEN = (START + timedelta(days=30)).isoformat()

Setup = Callable[[Everyone], dict[str, str]]


# Setups: bring a fresh circle to where a route's action is possible; return path parameters.


def _p(w: Everyone) -> str:
    return w.records["proposal_id"][0]


def _sel(w: Everyone) -> str:
    return w.records["selection_id"][0]


def _meeting(w: Everyone) -> str:
    return w.records["meeting_id"][0]


def proposal_drafted(w: Everyone) -> dict[str, str]:
    return {"proposal_id": _p(w), "process_id": _p(w)}


def proposal_presented(w: Everyone) -> dict[str, str]:
    w.node.proposals.present(w.ids["cleo"], _p(w))
    return proposal_drafted(w)


def proposal_questioned(w: Everyone) -> dict[str, str]:
    params = proposal_presented(w)
    number = w.node.proposals.ask_question(w.ids["eli"], _p(w), "Which days?")
    return {**params, "number": str(number)}


def proposal_in_reactions(w: Everyone) -> dict[str, str]:
    params = proposal_presented(w)
    w.node.proposals.open_reactions(w.ids["ben"], _p(w))
    return params


def proposal_in_consent_round(w: Everyone) -> dict[str, str]:
    params = proposal_in_reactions(w)
    w.node.consent.open_consent_round(w.ids["ben"], _p(w))
    return params


def proposal_answered(w: Everyone) -> dict[str, str]:
    """In its consent round, with the quorum's answers (two of the three full participants)."""
    params = proposal_in_consent_round(w)
    for who in ("ada", "ben"):
        w.node.consent.consent(w.ids[who], _p(w))
    return params


def proposal_objected(w: Everyone) -> dict[str, str]:
    params = proposal_in_consent_round(w)
    number = w.node.consent.raise_objection(w.ids["cleo"], _p(w), "Too often for the cooks")
    return {**params, "number": str(number)}


def proposal_integrating(w: Everyone) -> dict[str, str]:
    params = proposal_objected(w)
    w.node.consent.close_consent_round(w.ids["ben"], _p(w))
    return params


def selection_open(w: Everyone) -> dict[str, str]:
    return {"selection_id": _sel(w), "process_id": _sel(w)}


def selection_nominated(w: Everyone) -> dict[str, str]:
    for who in ("ada", "ben", "cleo"):
        w.node.hats.nominate(w.ids[who], _sel(w), w.ids["cleo"], "Cooks well")
    return selection_open(w)


def selection_in_change_round(w: Everyone) -> dict[str, str]:
    selection_nominated(w)
    w.node.hats.open_change_round(w.ids["ben"], _sel(w))
    return selection_open(w)


def selection_in_consent_round(w: Everyone) -> dict[str, str]:
    """Cleo is the candidate; the consent round on her is open."""
    params = selection_in_change_round(w)
    w.node.hats.propose_candidate(w.ids["ben"], _sel(w), w.ids["cleo"], "Most nominated")
    return params


def selection_answered(w: Everyone) -> dict[str, str]:
    """In its consent round, with the quorum's answers (two of the three full participants)."""
    params = selection_in_consent_round(w)
    for who in ("ada", "ben"):
        w.node.consent.consent(w.ids[who], _sel(w))
    return params


def selection_objected(w: Everyone) -> dict[str, str]:
    params = selection_in_consent_round(w)
    number = w.node.consent.raise_objection(w.ids["cleo"], _sel(w), "Not while I train")
    return {**params, "number": str(number)}


def selection_integrating(w: Everyone) -> dict[str, str]:
    params = selection_objected(w)
    w.node.consent.close_consent_round(w.ids["ben"], _sel(w))
    return params


def selection_integrated(w: Everyone) -> dict[str, str]:
    """Its objection integrated (a measure added): the consent round can open again."""
    params = selection_integrating(w)
    w.node.consent.integrate(w.ids["ben"], _sel(w), "add_measure", "Ada trains her", [1])
    return params


def applicant(w: Everyone) -> dict[str, str]:
    return {"person_id": w.node.people.apply_to_join("Dora")}


def on_trial(w: Everyone) -> dict[str, str]:
    person = w.node.people.apply_to_join("Dora")
    w.node.people.start_trial(w.ids["ada"], person, 2)
    return {"person_id": person}


def target(who: str) -> Setup:
    return lambda w: {"person_id": w.ids[who]}


def gus_stepped_back(w: Everyone) -> dict[str, str]:
    w.node.people.step_back(w.ids["gus"], w.ids["gus"])
    return {"person_id": w.ids["gus"]}


def hat(hat_id: str) -> Setup:
    return lambda w: {"hat_id": hat_id}


def meeting(w: Everyone) -> dict[str, str]:
    return {"meeting_id": _meeting(w)}


def meeting_open(w: Everyone) -> dict[str, str]:
    w.node.meetings.record_attendance(w.ids["ada"], _meeting(w), [w.ids[who] for who in MEMBERS])
    return meeting(w)


def meeting_with_agenda(w: Everyone) -> dict[str, str]:
    meeting_open(w)
    w.node.meetings.consent_agenda(w.ids["ben"], _meeting(w), ["The rota"])
    return {"meeting_id": _meeting(w), "number": "1"}


def meeting_with_confidential_item(w: Everyone) -> dict[str, str]:
    meeting_open(w)
    w.node.meetings.consent_agenda(
        w.ids["ben"], _meeting(w), [AgendaItem("Pay", confidential=True)]
    )
    return {"meeting_id": _meeting(w), "number": "1"}


def meeting_with_minutes(w: Everyone) -> dict[str, str]:
    meeting_with_agenda(w)
    w.node.meetings.record_minutes(w.ids["ada"], _meeting(w), "We met.")
    return meeting(w)


def decision(w: Everyone) -> dict[str, str]:
    return {"decision_id": w.records["decision_id"][0]}


def treasurer(w: Everyone) -> dict[str, str]:
    """Ben also wears the treasurer hat, whose domain is the budget."""
    hat_id = w.node.hats.define_hat(w.ids["ada"], "Treasurer", "Keeps the accounts", [], ["budget"])
    select(w.node, hat_id, w.ids["ben"])
    return {}


def budget(w: Everyone) -> dict[str, str]:
    """A budget Ben made as treasurer."""
    treasurer(w)
    plan = w.node.plans.make_plan(
        w.ids["ben"],
        "treasurer",
        "budget",
        "Spring",
        "Food",
        START.date(),
        START.date() + timedelta(days=90),
    )
    return {"plan_id": plan}


def support_request(w: Everyone) -> dict[str, str]:
    consent_to(
        w.node,
        "request_support",
        {"kind": "people", "circles": [w.records["other"][0]]},
        "Two cooks for the festival",
    )
    (request,) = w.node.support.support_requests()
    return {"request_id": str(request.id)}


def peer(w: Everyone) -> dict[str, str]:
    return {"other": w.records["other"][0]}


def seat(w: Everyone) -> dict[str, str]:
    # `other`: the same circle, as the page of the co-op names it (/circles/{other}/seats/...).
    return {"co_op": w.records["other"][0], "other": w.records["other"][0], "proposal": _p(w)}


def member_circle(w: Everyone) -> dict[str, str]:
    """The peer (Garden) applied to be part of this circle, and the circle admitted it."""
    garden = w.records["other"][0]
    consent_to(w.peer, "apply_to_coop", {"circle": w.node.feed.node_id})
    push = w.peer.outbox.pending_push(w.node.feed.feed_id)
    assert push is not None
    w.node.intake.receive_push(push)
    consent_to(w.node, "admit_member", {"circle": garden})
    return {"circle": garden}


def back_stop_named(w: Everyone) -> dict[str, str]:
    w.node.hats.name_back_stop(w.ids["ada"], "facilitator", w.ids["cleo"])
    return {"hat_id": "facilitator"}


def appeal_lodged(w: Everyone) -> dict[str, str]:
    """Cleo appeals Ben's everyday decision (he took it: he may not appeal it)."""
    return {"appeal_id": w.node.appeals.lodge(w.ids["cleo"], decision(w)["decision_id"], "Late")}


def appeal_heard(w: Everyone) -> dict[str, str]:
    params = appeal_lodged(w)
    for who in ("eli", "ada"):
        w.node.appeals.join(w.ids[who], params["appeal_id"])
    return params


def appeal_not_upheld(w: Everyone) -> dict[str, str]:
    """Heard, and not upheld by the circle: its appellants may take it further."""
    params = appeal_heard(w)
    w.node.appeals.answer_as_circle(w.ids["ben"], params["appeal_id"], False, "Tuesdays suit")
    return params


def token_of_gus(w: Everyone) -> dict[str, str]:
    return {"token_id": w.token_ids["gus"]}


def nothing(w: Everyone) -> dict[str, str]:
    return {}


def calendar_links_made(w: Everyone) -> dict[str, str]:
    for who in MEMBERS:
        w.node.calendars.make_link(w.ids[who])
    return {}


@dataclass(frozen=True)
class Rule:
    """Who may (members outside `allowed` get 403), where, and with what body."""

    allowed: frozenset[str]
    setup: Setup = nothing
    body: Callable[[Everyone], Any] | dict[str, Any] | None = None
    why: str = ""


def read(setup: Setup = nothing) -> Rule:
    return Rule(ALL, setup, why="every participant reads the circle's records")
