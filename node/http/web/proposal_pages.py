"""Proposals and the consent process: the list, and each proposal's page, where people take
the steps the circle's rules give them with plain forms (drafting is draft_pages.py).

The page offers each step to those the rules would let take it (the proposer presents, the
facilitator moves the process on, everyone in the circle may answer a consent round); the
domain decides. When it refuses, the page is drawn again with the domain's own sentence, the
refusal's 4xx status, and what the person had typed.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import APIRouter
from fastapi.responses import Response

from domain.errors import DomainError, NotFound
from domain.proposal import Proposal
from domain.values import ACTING, DecisionMethod, Integration, Stage
from node.app.node import CircleNode
from node.app.waiting import unanswered_rounds
from node.http.api.errors import domain_problem
from node.http.web.circle_pages import facilitates
from node.http.web.forms import Form
from node.http.web.names import Names
from node.http.web.rendering import words
from node.http.web.round_records import closed_rounds
from node.http.web.visits import Member, MemberPost, PageRoute, Visit

router = APIRouter(route_class=PageRoute)

# The member API's operations these pages carry out (node.http.web.page_table).
OPERATIONS = {
    "GET /api/proposals": "/proposals",
    "GET /api/proposals/{proposal_id}": "/proposals/{proposal_id}",
    "POST /api/proposals/{proposal_id}/present": "/proposals/{proposal_id}",
    "POST /api/proposals/{proposal_id}/questions": "/proposals/{proposal_id}",
    "POST /api/proposals/{proposal_id}/questions/{number}/answer": "/proposals/{proposal_id}",
    "POST /api/proposals/{proposal_id}/reaction-round": "/proposals/{proposal_id}",
    "POST /api/proposals/{proposal_id}/reactions": "/proposals/{proposal_id}",
    "POST /api/proposals/{proposal_id}/amend": "/proposals/{proposal_id}",
    "POST /api/processes/{process_id}/consent-round": "/proposals/{proposal_id}",
    "POST /api/processes/{process_id}/consents": "/proposals/{proposal_id}",
    "POST /api/processes/{process_id}/objections": "/proposals/{proposal_id}",
    "POST /api/processes/{process_id}/objections/{number}/withdraw": "/proposals/{proposal_id}",
    "POST /api/processes/{process_id}/integrations": "/proposals/{proposal_id}",
    "POST /api/processes/{process_id}/close": "/proposals/{proposal_id}",
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
    return found.page("proposals.html", proposals=rows)


def proposal_view(found: Visit, proposal: Proposal) -> dict[str, Any]:
    """What the proposal's page shows, and which forms it offers this person."""
    node = found.node
    circle = node.records.peek_circle()
    names = Names(node)
    me = found.person or ""
    participant = circle.participants.get(me)
    acting = participant is not None and participant.status in ACTING
    facilitator = facilitates(circle, me)
    proposer = me == proposal.proposer
    stage = proposal.stage
    by_consent = proposal.method == DecisionMethod.CONSENT
    open_objections = proposal.open_objections()
    answered = set(proposal.answers)
    waiting = (
        [names(p) for p in circle.full_participants() if p not in answered]
        if stage == Stage.CONSENT_ROUND
        else []
    )
    return {
        "proposal": proposal,
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
        "waiting": waiting,
        "objections": [
            {
                "number": o.number,
                "name": names(o.person_id),
                "argument": o.argument,
                "round": o.round,
                "open": o.is_open,
                "withdrawn": o.withdrawn,
                "resolved_by": o.resolved_by,
                "mine": o.person_id == me,
            }
            for o in proposal.objections
        ],
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
            "close_round": facilitator and by_consent and stage == Stage.CONSENT_ROUND,
            "integrate": (facilitator or proposer)
            and stage == Stage.INTEGRATING
            and bool(open_objections),
            "withdraw": (proposer or facilitator) and not proposal.is_final,
        },
        "by_consent": by_consent,
        "is_full": participant is not None and participant.level == "full",
    }


def _proposal_page(found: Visit, proposal: Proposal, status: int = 200, **extra: Any) -> Response:
    context: dict[str, Any] = {"refusal": "", "failed": "", "entered": {}, **extra}
    return found.page("proposal.html", status, **proposal_view(found, proposal), **context)


@router.get("/proposals/{proposal_id}", include_in_schema=False)
def proposal_page(found: Member, proposal_id: str) -> Response:
    return _proposal_page(found, found.node.records.get_proposal(proposal_id))


# The steps a proposal's page can post: each takes the node, who, the proposal and the form,
# and returns the sentence shown once the step is done.
Step = Callable[[CircleNode, str, str, Form], str]


def _present(node: CircleNode, by: str, pid: str, form: Form) -> str:
    node.proposals.present(by, pid)
    return "The proposal is presented. Clarifying questions come next."


def _ask(node: CircleNode, by: str, pid: str, form: Form) -> str:
    number = node.proposals.ask_question(by, pid, form.get("question"))
    return f"Your question is recorded as question {number}."


def _answer(node: CircleNode, by: str, pid: str, form: Form) -> str:
    number = form.number("number", "the question you answer")
    node.proposals.answer_question(by, pid, number, form.get("answer"))
    return f"Question {number} is answered."


def _amend(node: CircleNode, by: str, pid: str, form: Form) -> str:
    node.proposals.amend(by, pid, form.get("text"))
    return "The proposal is amended."


def _open_reactions(node: CircleNode, by: str, pid: str, form: Form) -> str:
    node.proposals.open_reactions(by, pid)
    return "The reaction round is open."


def _react(node: CircleNode, by: str, pid: str, form: Form) -> str:
    node.proposals.react(by, pid, form.get("reaction"))
    return "Your reaction is recorded."


def _open_round(node: CircleNode, by: str, pid: str, form: Form) -> str:
    node.consent.open_consent_round(by, pid)
    return "The consent round is open."


def _consent(node: CircleNode, by: str, pid: str, form: Form) -> str:
    node.consent.consent(by, pid, form.get("concern"))
    return "Your consent is recorded."


def _object(node: CircleNode, by: str, pid: str, form: Form) -> str:
    number = node.consent.raise_objection(by, pid, form.get("argument"))
    return f"Your objection is recorded as objection {number}."


def _close_round(node: CircleNode, by: str, pid: str, form: Form) -> str:
    outcome = node.consent.close_consent_round(by, pid)
    return f"The consent round is closed: {words(outcome)}."


def _integrate(node: CircleNode, by: str, pid: str, form: Form) -> str:
    numbers = form.numbers("objection", "the objections this integrates")
    node.consent.integrate(
        by,
        pid,
        form.get("how"),
        form.get("text"),
        numbers,
        form.day("review_date", "new review date"),
    )
    listed = ", ".join(str(n) for n in numbers)
    return f"Objection {listed} integrated; the consent round can open again."


def _withdraw_objection(node: CircleNode, by: str, pid: str, form: Form) -> str:
    number = form.number("number", "the objection to withdraw")
    node.consent.withdraw_objection(by, pid, number)
    return f"Objection {number} is withdrawn."


def _withdraw(node: CircleNode, by: str, pid: str, form: Form) -> str:
    node.consent.withdraw(by, pid)
    return "The proposal is withdrawn."


STEPS_BY_NAME: dict[str, Step] = {
    "present": _present,
    "question": _ask,
    "answer": _answer,
    "amend": _amend,
    "open-reactions": _open_reactions,
    "react": _react,
    "open-round": _open_round,
    "consent": _consent,
    "object": _object,
    "close-round": _close_round,
    "integrate": _integrate,
    "withdraw-objection": _withdraw_objection,
    "withdraw": _withdraw,
}


@router.post("/proposals/{proposal_id}/{step}", include_in_schema=False)
def take_step(posted: MemberPost, proposal_id: str, step: str) -> Response:
    found, form = posted.visit, posted.form
    node = found.node
    proposal = node.records.get_proposal(proposal_id)  # NotFound: a 404 page
    action = STEPS_BY_NAME.get(step)
    if action is None:
        raise NotFound(f"A proposal has no step called {step!r}")
    try:
        notice = action(node, posted.person, str(proposal.id), form)
    except DomainError as refusal:
        problem = domain_problem(refusal)
        return _proposal_page(
            found,
            node.records.get_proposal(proposal_id),
            problem.status,
            refusal=problem.detail,
            failed=step,
            entered=form.values(),
        )
    return found.redirect(f"/proposals/{proposal.id}", notice)
