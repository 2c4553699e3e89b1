"""Proposals and the consent process: the list, and each proposal's page, where people take
the steps the circle's rules give them with plain forms (drafting is draft_pages.py; the steps
themselves proposal_steps.py).

The page offers each step to those the rules would let take it (the proposer presents, the
facilitator moves the process on, everyone in the circle may answer a consent round, the
secretary records a formal vote); the domain decides. When it refuses, the page is drawn again
with the domain's own sentence beside the field it is about (or at the top), the refusal's 4xx
status, and what the person had typed. Two steps ask to be confirmed first, on a page of their
own: closing a consent round while someone has not answered (it lists who), and withdrawing
someone else's proposal.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.responses import Response

from domain.circle import Circle
from domain.errors import DomainError, NotFound
from domain.hats import FACILITATOR, SECRETARY
from domain.proposal import Proposal
from domain.round_end import circle_seat
from domain.values import (
    ACTING,
    AbsenteePolicy,
    DecisionMethod,
    Integration,
    Level,
    Purpose,
    Stage,
)
from node.app.waiting import unanswered_rounds
from node.http.web.draft_pages import may_draft
from node.http.web.forms import Form
from node.http.web.names import Names
from node.http.web.proposal_steps import STEPS as STEPS_BY_NAME
from node.http.web.proposal_steps import form_name
from node.http.web.refusals import refusal
from node.http.web.rendering import words
from node.http.web.round_records import closed_rounds, objection_rows
from node.http.web.subject_forms import subject_fields
from node.http.web.visits import Member, MemberPost, PageRoute, Visit

router = APIRouter(route_class=PageRoute)

# The member API's operations these pages carry out (node.http.web.page_table).
OPERATIONS = {
    "GET /api/proposals": "/proposals",
    "GET /api/proposals/{proposal_id}": "/proposals/{proposal_id}",
    "GET /api/processes/{process_id}": "/proposals/{proposal_id}",
    "POST /api/proposals/{proposal_id}/present": "/proposals/{proposal_id}",
    "POST /api/proposals/{proposal_id}/questions": "/proposals/{proposal_id}",
    "POST /api/proposals/{proposal_id}/questions/{number}/answer": "/proposals/{proposal_id}",
    "POST /api/proposals/{proposal_id}/reaction-round": "/proposals/{proposal_id}",
    "POST /api/proposals/{proposal_id}/reactions": "/proposals/{proposal_id}",
    "POST /api/proposals/{proposal_id}/amend": "/proposals/{proposal_id}",
    "POST /api/proposals/{proposal_id}/vote": "/proposals/{proposal_id}",
    "POST /api/processes/{process_id}/answers-in-advance": "/proposals/{proposal_id}",
    "POST /api/processes/{process_id}/consent-round": "/proposals/{proposal_id}",
    "POST /api/processes/{process_id}/consents": "/proposals/{proposal_id}",
    "POST /api/processes/{process_id}/objections": "/proposals/{proposal_id}",
    "POST /api/processes/{process_id}/answer-changes": "/proposals/{proposal_id}",
    "POST /api/processes/{process_id}/objections/{number}/withdraw": "/proposals/{proposal_id}",
    "POST /api/processes/{process_id}/integrations": "/proposals/{proposal_id}",
    "POST /api/processes/{process_id}/close": "/proposals/{proposal_id}",
    "POST /api/processes/{process_id}/escalate": "/proposals/{proposal_id}",
    "POST /api/processes/{process_id}/withdraw": "/proposals/{proposal_id}",
}

# The stages of the consent process, in the order a proposal normally takes them.
STEPS = (
    Stage.DRAFT,
    Stage.PRESENTED,
    Stage.CLARIFYING,
    Stage.REACTIONS,
    Stage.CONSENT_ROUND,
    Stage.INTEGRATING,
    Stage.CONSENTED,
)

INTEGRATIONS = (
    (Integration.AMEND, "Amend the proposal (the text below replaces it)"),
    (Integration.ADD_MEASURE, "Add a measure"),
    (Integration.SHORTEN_TERM, "Shorten the term (give the earlier review date)"),
)


@router.get("/proposals", include_in_schema=False)
def proposals_page(found: Member) -> Response:
    node = found.node
    names = Names(node)
    assert found.person is not None
    unanswered = unanswered_rounds(node.records, found.person)
    rows = [
        {
            "id": str(p.id),
            "title": p.title,
            "purpose": p.purpose,
            "stage": p.stage,
            "final": p.is_final,
            "proposer": names(p.proposer),
            "mode": p.mode,
            "deadline": p.deadline and node.records.local(p.deadline),
            "round": p.round_number,
            "unanswered": str(p.id) in unanswered,
        }
        for p in node.records.list_proposals()
    ]
    rows.sort(key=lambda r: (r["final"], STEPS.index(r["stage"]) if r["stage"] in STEPS else 99))
    return found.page(
        "proposals.html",
        proposals=rows,
        may_draft=may_draft(node.records.peek_circle(), found.person),
    )


def _wears_or_full(circle: Circle, person: str, hat: str) -> bool:
    """Whether the circle's rules let this person act for a hat: its wearer, or any full
    participant while nobody wears it (as domain.membership decides for the facilitator and
    the secretary)."""
    participant = circle.participants.get(person)
    if participant is None or participant.status not in ACTING:
        return False
    wearers = circle.wearers(hat)
    return person in wearers if wearers else participant.level == Level.FULL


def waiting_for(circle: Circle, proposal: Proposal, names: Names) -> list[str]:
    """Who has not answered the consent round: full participants, and linked circles asked."""
    if proposal.stage != Stage.CONSENT_ROUND:
        return []
    answered = set(proposal.answers)
    people = [names(p) for p in circle.full_participants() if p not in answered]
    circles = [names.circle(c) for c in proposal.asked_circles if circle_seat(c) not in answered]
    return people + circles


# Keys of a subject that name a person, or another circle: shown by their name.
PERSON_KEYS = frozenset({"person", "person_id"})
CIRCLE_KEYS = frozenset({"circle", "offer", "long_term_circle", "care_and_counsel"})


def _shown(key: str, value: Any, names: Names) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list):
        return ", ".join(_shown(key, item, names) for item in value)
    if isinstance(value, dict):
        return "; ".join(f"{k}: {words(v)}" for k, v in value.items())
    if value is None or value == "":
        return "none"
    text = str(value)
    if key in PERSON_KEYS:
        return f"{names(text)} ({text})" if names(text) != text else text
    if key in CIRCLE_KEYS or key == "circles":
        named = names.circle(text)
        return f"{named} ({text})" if named != text else text
    return words(text) if key == "kind" else text


def what_it_names(proposal: Proposal, names: Names) -> list[tuple[str, str]]:
    """What the proposal's subject names, each key with its label (as the draft form has it)
    and its value as a member reads it."""
    try:
        labels = {field.name: field.label for field in subject_fields(Purpose(proposal.purpose))}
    except ValueError:
        labels = {}
    return [
        (labels.get(key, key.replace("_", " ").capitalize()), _shown(key, value, names))
        for key, value in proposal.subject.items()
    ]


def proposal_view(found: Visit, proposal: Proposal) -> dict[str, Any]:
    """What the proposal's page shows, and which forms it offers this person."""
    node = found.node
    circle = node.records.peek_circle()
    names = Names(node)
    me = found.person or ""
    participant = circle.participants.get(me)
    acting = participant is not None and participant.status in ACTING
    facilitator = _wears_or_full(circle, me, FACILITATOR)
    full = acting and participant is not None and participant.level == Level.FULL
    proposer = me == proposal.proposer
    stage = proposal.stage
    by_consent = proposal.method == DecisionMethod.CONSENT
    open_objections = proposal.open_objections()
    answered = set(proposal.answers)
    in_advance = circle.rules.absentee_policy == AbsenteePolicy.REACTED_IN_ADVANCE
    return {
        "proposal": proposal,
        "subject": what_it_names(proposal, names),
        "deadline": proposal.deadline and node.records.local(proposal.deadline),
        "id": str(proposal.id),
        "proposer": names(proposal.proposer),
        "steps": STEPS,
        "step_index": STEPS.index(stage) if stage in STEPS else -1,
        "questions": [
            {"number": q.number, "name": names(q.person_id), "text": q.text, "answer": q.answer}
            for q in proposal.questions
        ],
        "reactions": [{"name": names(r.person_id), "text": r.text} for r in proposal.reactions],
        "answers": [
            {
                "name": names(a.person_id),
                "consents": a.consents,
                "text": a.text,
                "in_advance": a.in_advance,
            }
            for a in proposal.answers.values()
        ],
        "waiting": waiting_for(circle, proposal, names),
        "advance_answers": [
            {"name": names(a.person_id), "consents": a.consents, "text": a.text}
            for a in proposal.advance_answers.values()
        ],
        "my_advance": proposal.advance_answers.get(me),
        "objections": objection_rows(proposal, names, me),
        "open_objections": [o.number for o in open_objections],
        "integrations": [
            {
                "number": i.number,
                "how": i.how,
                "text": i.text,
                "objections": i.objections,
                "by": names(i.by),
            }
            for i in proposal.integrations
        ],
        "rounds": closed_rounds(proposal, names),
        "my_answer": proposal.answers.get(me) if stage == Stage.CONSENT_ROUND else None,
        "integrations_offered": INTEGRATIONS,
        "can": {
            "present": proposer and stage == Stage.DRAFT,
            "amend": proposer and stage in (Stage.PRESENTED, Stage.CLARIFYING, Stage.REACTIONS),
            "ask": acting and stage in (Stage.PRESENTED, Stage.CLARIFYING),
            "answer": (proposer or facilitator) and stage == Stage.CLARIFYING,
            "open_reactions": facilitator and stage in (Stage.PRESENTED, Stage.CLARIFYING),
            "react": acting and stage == Stage.REACTIONS,
            "open_round": facilitator
            and stage in (*Proposal.ROUND_OPENS_FROM, Stage.INTEGRATING)
            and not open_objections,
            "answer_round": acting
            and by_consent
            and stage == Stage.CONSENT_ROUND
            and me not in answered,
            "change_answer": full
            and by_consent
            and stage == Stage.CONSENT_ROUND
            and me in answered,
            "advance": full and in_advance and stage in Proposal.ADVANCE_STAGES,
            "vote": _wears_or_full(circle, me, SECRETARY)
            and proposal.method == DecisionMethod.FORMAL_VOTE
            and stage == Stage.CONSENT_ROUND,
            "close_round": facilitator and by_consent and stage == Stage.CONSENT_ROUND,
            "escalate": me in circle.wearers(FACILITATOR)
            and bool(circle.parent)
            and stage in (Stage.CONSENT_ROUND, Stage.INTEGRATING),
            "integrate": (facilitator or proposer)
            and stage == Stage.INTEGRATING
            and bool(open_objections),
            "withdraw": (proposer or facilitator) and not proposal.is_final,
        },
        "by_consent": by_consent,
        "is_full": full,
    }


def _proposal_page(found: Visit, proposal: Proposal, status: int = 200, **extra: Any) -> Response:
    return found.page("proposal.html", status, **proposal_view(found, proposal), **extra)


@router.get("/proposals/{proposal_id}", include_in_schema=False)
def proposal_page(found: Member, proposal_id: str) -> Response:
    return _proposal_page(found, found.node.records.get_proposal(proposal_id))


def _to_confirm(found: Visit, proposal: Proposal, step: str, form: Form) -> Response | None:
    """The page that asks to confirm a consequential step before it is taken (a post that
    carries `confirmed=yes` has been confirmed): closing a round someone has not answered, and
    withdrawing someone else's proposal. None: the step needs no confirming, or this person
    may not take it (the domain then refuses it with its sentence)."""
    if form.get("confirmed") == "yes" or step not in ("close-round", "withdraw"):
        return None
    view = proposal_view(found, proposal)
    if step == "close-round" and view["can"]["close_round"] and view["waiting"]:
        return found.page(
            "proposal_confirm.html",
            proposal=proposal,
            id=view["id"],
            step=step,
            heading="Close the round with answers missing?",
            question=(
                f"Consent round {proposal.round_number} still waits for an answer from these "
                "people. Closed now, the circle's rules say what their silence means."
            ),
            listed=view["waiting"],
            button="Yes, close the round",
            back="No, keep the round open",
        )
    if step == "withdraw" and view["can"]["withdraw"] and proposal.opened_by != found.person:
        return found.page(
            "proposal_confirm.html",
            proposal=proposal,
            id=view["id"],
            step=step,
            heading="Withdraw someone else's proposal?",
            question=(
                f"This is {view['proposer']}'s proposal. Withdrawn, it ends here for everyone, "
                "and cannot be taken up again."
            ),
            listed=[],
            button="Yes, withdraw the proposal",
            back="No, keep the proposal",
        )
    return None


@router.post("/proposals/{proposal_id}/{step}", include_in_schema=False)
def take_step(posted: MemberPost, proposal_id: str, step: str) -> Response:
    found, form = posted.visit, posted.form
    node = found.node
    proposal = node.records.get_proposal(proposal_id)  # NotFound: a 404 page
    action = STEPS_BY_NAME.get(step)
    if action is None:
        raise NotFound(f"A proposal has no step called {step!r}")
    confirm = _to_confirm(found, proposal, step, form)
    if confirm is not None:
        return confirm
    try:
        notice = action.action(node, posted.person, str(proposal.id), form)
    except DomainError as error:
        shown = refusal(error, form_name(step, form), form, main_field=action.main_field)
        return _proposal_page(
            found, node.records.get_proposal(proposal_id), shown.status, refused=shown
        )
    return found.redirect(f"/proposals/{proposal.id}", notice)
