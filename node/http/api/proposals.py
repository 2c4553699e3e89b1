"""Proposals and the consent process: drafting, presenting, questions, reactions, amending, a
vote where the rules require one; and, for proposals and hat selections alike, the consent
round, objections and their integration, closing, escalating and withdrawing."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, status
from pydantic import BaseModel, Field

from domain.consent import ConsentProcess
from domain.errors import InvalidRequest, NotFound
from domain.proposal import SUBJECT_KEYS, Proposal
from domain.selection import HatSelection
from domain.values import Purpose, Stage
from node.app.node import CircleNode
from node.app.relations import RELATION_PURPOSES
from node.http.api.auth import Node, Person
from node.http.api.consent import (
    AnswerOut,
    IntegrationOut,
    ObjectionOut,
    ProcessFields,
    process_fields,
)
from node.http.api.errors import ERROR_RESPONSES
from node.http.api.fields import Body, Ref, Say, Subject, Title, aware
from node.http.api.hats import SelectionOut, selection_out
from node.http.api.paging import Page, Paging, page_of
from node.http.api.threaded import ThreadedRoute

router = APIRouter(
    route_class=ThreadedRoute, tags=["proposals and the consent process"], responses=ERROR_RESPONSES
)

MAX_COUNT = 1_000_000  # a vote count


class QuestionOut(BaseModel):
    number: int
    person_id: str
    text: str
    answer: str | None


class ReactionOut(BaseModel):
    person_id: str
    text: str


class VoteOut(BaseModel):
    in_favour: int
    against: int
    abstentions: int


class ProposalSummary(BaseModel):
    id: str
    title: str
    purpose: str
    stage: str
    proposer: str
    method: str
    mode: str
    deadline: datetime | None
    review_date: date | None
    round_number: int


class ProposalOut(ProcessFields):
    kind: Literal["proposal"] = "proposal"
    title: str
    text: str
    purpose: str
    subject: dict[str, Any]
    topic: str | None
    proposer: str
    questions: list[QuestionOut]
    reactions: list[ReactionOut]
    amendments: list[str] = Field(description="Earlier texts, oldest first")
    vote: VoteOut | None = Field(description="A formal vote's result, where one was recorded")


ProcessOut = Annotated[ProposalOut | SelectionOut, Field(discriminator="kind")]


def proposal_out(proposal: Proposal) -> ProposalOut:
    return ProposalOut(
        **process_fields(proposal),
        title=proposal.title,
        text=proposal.text,
        purpose=str(proposal.purpose),
        subject=dict(proposal.subject),
        topic=proposal.topic,
        proposer=proposal.proposer,
        questions=[QuestionOut(**vars(q)) for q in proposal.questions],
        reactions=[ReactionOut(**vars(r)) for r in proposal.reactions],
        amendments=list(proposal.amendments),
        vote=VoteOut(**vars(proposal.vote)) if proposal.vote else None,
    )


def _summary(proposal: Proposal) -> ProposalSummary:
    return ProposalSummary(
        id=str(proposal.id),
        title=proposal.title,
        purpose=str(proposal.purpose),
        stage=str(proposal.stage),
        proposer=proposal.proposer,
        method=str(proposal.method),
        mode=str(proposal.mode),
        deadline=proposal.deadline,
        review_date=proposal.review_date,
        round_number=proposal.round_number,
    )


@router.get("/proposals", summary="Proposals, in the order they were drafted (paginated)")
def list_proposals(
    node: Node,
    by: Person,
    paging: Paging,
    stage: Annotated[Stage | None, Query(description="Only proposals at this stage")] = None,
) -> Page[ProposalSummary]:
    proposals = [p for p in node.records.list_proposals() if stage is None or p.stage == stage]
    return page_of([_summary(p) for p in proposals], paging)


@router.get(
    "/proposals/{proposal_id}",
    summary="One proposal: questions, reactions, answers, objections, integrations, rounds",
)
def get_proposal(node: Node, by: Person, proposal_id: str) -> ProposalOut:
    return proposal_out(node.records.get_proposal(proposal_id))


class ProposalIn(BaseModel):
    title: Title
    text: Body
    purpose: str = Field(
        Purpose.ADOPT_POLICY.value,
        description="What it does once consented: " + ", ".join(p.value for p in Purpose),
    )
    subject: Subject = Field(default_factory=dict)
    mode: str = Field("meeting", description="meeting or async")
    deadline: datetime | None = Field(
        None, description="Needed for an asynchronous proposal: with a time zone"
    )
    review_date: date | None = Field(None, description="When the decision it makes is reviewed")
    topic: Title | None = Field(
        None, description="A topic the circle's rules decide by another method (e.g. a vote)"
    )
    ask_circles: list[Ref] = Field(
        default_factory=list,
        max_length=50,
        description="Linked circles (node ids) whose consent it also needs",
    )


def check_subject(purpose: str, subject: dict[str, Any]) -> None:
    """Refuse a subject the node would trip over before the circle's own checks see it (for
    relationships: a missing key, a round that is not a number, circles that are no list)."""
    try:
        known = Purpose(purpose)
    except ValueError:
        return  # the circle refuses it, naming the purposes it knows
    if known not in RELATION_PURPOSES:
        return
    for key in SUBJECT_KEYS[known]:
        if not str(subject.get(key) or "").strip():
            raise InvalidRequest(f"A proposal to {known.replace('_', ' ')} must name {key}")
    round_number = subject.get("round", 1)
    if type(round_number) is not int or not 1 <= round_number <= MAX_COUNT:
        raise InvalidRequest("The round of a consent request is a whole number from 1")
    circles = subject.get("circles")
    if circles is not None and (
        not isinstance(circles, list) or not all(isinstance(ref, str) for ref in circles)
    ):
        raise InvalidRequest("Name the circles to ask as a list of node ids, or ask the network")


@router.post(
    "/proposals",
    status_code=status.HTTP_201_CREATED,
    summary="Draft a proposal (full and learning participants)",
)
def draft_proposal(node: Node, by: Person, body: ProposalIn) -> ProposalOut:
    check_subject(body.purpose, body.subject)
    proposal_id = node.proposals.draft_proposal(
        by,
        body.title,
        body.text,
        purpose=body.purpose,
        subject=body.subject,
        mode=body.mode,
        deadline=aware(body.deadline, "deadline"),
        review_date=body.review_date,
        topic=body.topic,
        ask_circles=body.ask_circles,
    )
    return proposal_out(node.records.get_proposal(proposal_id))


@router.post("/proposals/{proposal_id}/present", summary="Present your proposal to the circle")
def present(node: Node, by: Person, proposal_id: str) -> ProposalOut:
    node.proposals.present(by, proposal_id)
    return proposal_out(node.records.get_proposal(proposal_id))


class QuestionIn(BaseModel):
    question: Say


@router.post(
    "/proposals/{proposal_id}/questions",
    status_code=status.HTTP_201_CREATED,
    summary="Ask a clarifying question (anyone in the circle, guests included)",
)
def ask_question(node: Node, by: Person, proposal_id: str, body: QuestionIn) -> QuestionOut:
    number = node.proposals.ask_question(by, proposal_id, body.question)
    return QuestionOut(**vars(node.records.get_proposal(proposal_id).questions[number - 1]))


class AnswerIn(BaseModel):
    answer: Say


@router.post(
    "/proposals/{proposal_id}/questions/{number}/answer",
    summary="Answer a question (the proposer, or the facilitator for them)",
)
def answer_question(
    node: Node, by: Person, proposal_id: str, number: int, body: AnswerIn
) -> QuestionOut:
    node.proposals.answer_question(by, proposal_id, number, body.answer)
    return QuestionOut(**vars(node.records.get_proposal(proposal_id).questions[number - 1]))


@router.post(
    "/proposals/{proposal_id}/reaction-round",
    summary="Open the reaction round (the facilitator; every question answered)",
)
def open_reactions(node: Node, by: Person, proposal_id: str) -> ProposalOut:
    node.proposals.open_reactions(by, proposal_id)
    return proposal_out(node.records.get_proposal(proposal_id))


class ReactionIn(BaseModel):
    reaction: Say


@router.post(
    "/proposals/{proposal_id}/reactions",
    status_code=status.HTTP_201_CREATED,
    summary="React to a proposal in the reaction round",
)
def react(node: Node, by: Person, proposal_id: str, body: ReactionIn) -> ReactionOut:
    node.proposals.react(by, proposal_id, body.reaction)
    return ReactionOut(**vars(node.records.get_proposal(proposal_id).reactions[-1]))


class AmendmentIn(BaseModel):
    text: Body


@router.post(
    "/proposals/{proposal_id}/amend",
    summary="Amend your proposal before the consent round (the proposer)",
)
def amend(node: Node, by: Person, proposal_id: str, body: AmendmentIn) -> ProposalOut:
    node.proposals.amend(by, proposal_id, body.text)
    return proposal_out(node.records.get_proposal(proposal_id))


class VoteIn(BaseModel):
    in_favour: int = Field(ge=0, le=MAX_COUNT)
    against: int = Field(ge=0, le=MAX_COUNT)
    abstentions: int = Field(0, ge=0, le=MAX_COUNT)


class Outcome(BaseModel):
    outcome: str = Field(
        description="What the round led to: consented, integrating, lapsed or not_carried"
    )
    decision_id: str | None = Field(
        description="The policy a consented proposal to adopt one made, if any"
    )


@router.post(
    "/proposals/{proposal_id}/vote",
    summary="Record a formal vote's result, where the rules require one (the secretary)",
)
def record_vote(node: Node, by: Person, proposal_id: str, body: VoteIn) -> Outcome:
    outcome = node.proposals.record_vote(
        by, proposal_id, body.in_favour, body.against, body.abstentions
    )
    return _outcome(node, proposal_id, outcome)


def _outcome(node: CircleNode, process_id: str, outcome: str) -> Outcome:
    made = None
    if outcome == Stage.CONSENTED and isinstance(_process(node, process_id), Proposal):
        made = next(
            (str(d.id) for d in node.records.list_decisions() if d.proposal_id == process_id), None
        )
    return Outcome(outcome=str(outcome), decision_id=made)


# The consent process, shared by proposals and selections.


def _process(node: CircleNode, process_id: str) -> ConsentProcess:
    try:
        return node.records.get_proposal(process_id)
    except NotFound:
        pass
    try:
        return node.records.get_selection(process_id)
    except NotFound:
        raise NotFound(f"No proposal or selection with id {process_id}") from None


def process_out(node: CircleNode, process_id: str) -> ProposalOut | SelectionOut:
    process = _process(node, process_id)
    if isinstance(process, HatSelection):
        return selection_out(node.records.peek_circle(), process)
    assert isinstance(process, Proposal)
    return proposal_out(process)


@router.get(
    "/processes/{process_id}",
    summary="A proposal or a selection, by id: where its consent process stands",
)
def get_process(node: Node, by: Person, process_id: str) -> ProcessOut:
    return process_out(node, process_id)


@router.post(
    "/processes/{process_id}/consent-round",
    summary="Open a consent round (the facilitator; objections integrated first)",
)
def open_consent_round(node: Node, by: Person, process_id: str) -> ProcessOut:
    node.consent.open_consent_round(by, process_id)
    return process_out(node, process_id)


class AdvanceAnswerIn(BaseModel):
    consents: bool
    text: Say = Field("", description="An objection's argument (required), or a concern")


@router.post(
    "/processes/{process_id}/answers-in-advance",
    status_code=status.HTTP_201_CREATED,
    summary="Answer in advance, for someone who will be absent (where the rules allow)",
)
def answer_in_advance(node: Node, by: Person, process_id: str, body: AdvanceAnswerIn) -> AnswerOut:
    node.consent.answer_in_advance(by, process_id, body.consents, body.text)
    return AnswerOut(**vars(_process(node, process_id).advance_answers[by]))


class ConsentIn(BaseModel):
    concern: Say = Field("", description="A concern to record; it does not block")


@router.post(
    "/processes/{process_id}/consents",
    status_code=status.HTTP_201_CREATED,
    summary="Consent: you can live with it (full participants)",
)
def consent(node: Node, by: Person, process_id: str, body: ConsentIn) -> AnswerOut:
    return AnswerOut(**vars(node.consent.consent(by, process_id, body.concern)))


class ObjectionIn(BaseModel):
    argument: Say = Field(description="How it would harm the circle's ability to reach its aim")


@router.post(
    "/processes/{process_id}/objections",
    status_code=status.HTTP_201_CREATED,
    summary="Raise a paramount, reasoned objection (full participants); returns its number",
)
def raise_objection(node: Node, by: Person, process_id: str, body: ObjectionIn) -> ObjectionOut:
    number = node.consent.raise_objection(by, process_id, body.argument)
    objection = _process(node, process_id).objections[number - 1]
    return ObjectionOut(**vars(objection), open=objection.is_open)


@router.post(
    "/processes/{process_id}/objections/{number}/withdraw",
    summary="Withdraw your objection",
)
def withdraw_objection(node: Node, by: Person, process_id: str, number: int) -> ProcessOut:
    node.consent.withdraw_objection(by, process_id, number)
    return process_out(node, process_id)


class IntegrationIn(BaseModel):
    how: str = Field(description="amend, shorten_term or add_measure")
    text: Body = Field(description="The amended text, the measure, or how the term is shortened")
    objections: list[int] = Field(max_length=1000, description="The objections it integrates")
    review_date: date | None = Field(None, description="The earlier review date (shorten_term)")


@router.post(
    "/processes/{process_id}/integrations",
    status_code=status.HTTP_201_CREATED,
    summary="Integrate objections: amend, shorten the term, or add a measure",
)
def integrate(node: Node, by: Person, process_id: str, body: IntegrationIn) -> IntegrationOut:
    node.consent.integrate(by, process_id, body.how, body.text, body.objections, body.review_date)
    return IntegrationOut(**vars(_process(node, process_id).integrations[-1]))


@router.post(
    "/processes/{process_id}/close",
    summary="Close the consent round (the facilitator); returns where it leads",
)
def close_consent_round(node: Node, by: Person, process_id: str) -> Outcome:
    outcome = node.consent.close_consent_round(by, process_id)
    return _outcome(node, process_id, outcome)


class EscalationIn(BaseModel):
    reason: Say


@router.post(
    "/processes/{process_id}/escalate",
    summary="Pass a deadlocked decision to the broader circle (the facilitator)",
)
def escalate(node: Node, by: Person, process_id: str, body: EscalationIn) -> ProcessOut:
    node.consent.escalate(by, process_id, body.reason)
    return process_out(node, process_id)


@router.post(
    "/processes/{process_id}/withdraw",
    summary="Withdraw a proposal or selection (who opened it, or the facilitator)",
)
def withdraw(node: Node, by: Person, process_id: str) -> ProcessOut:
    node.consent.withdraw(by, process_id)
    return process_out(node, process_id)
