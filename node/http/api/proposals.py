"""Proposals before their consent round: drafting, presenting, questions, reactions, amending,
and a vote where the rules require one. The consent process they share with hat selections is
in `processes.py`."""

from __future__ import annotations

from datetime import date, datetime, tzinfo
from typing import TYPE_CHECKING, Annotated, Literal

from fastapi import APIRouter, Query, status
from pydantic import BaseModel, Field

from domain.circle import Circle
from domain.proposal import Proposal
from domain.values import Stage
from node.app.node import CircleNode
from node.http.api.auth import Node, Person
from node.http.api.consent import Outcome, ProcessFields, outcome_out, process_fields
from node.http.api.errors import ERROR_RESPONSES
from node.http.api.fields import Body, Ref, Say, Title, aware, in_zone
from node.http.api.paging import Page, Paging, window_of
from node.http.api.subjects import StoredSubject, SubjectFields, drafts_by_purpose
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
    deadline: datetime | None = Field(description="In the circle's time zone, with its offset")
    review_date: date | None
    round_number: int


class ProposalOut(ProcessFields):
    kind: Literal["proposal"] = "proposal"
    title: str
    text: str
    purpose: str = Field(description="What it does once consented")
    subject: StoredSubject
    topic: str | None
    proposer: str
    questions: list[QuestionOut]
    reactions: list[ReactionOut]
    amendments: list[str] = Field(description="Earlier texts, oldest first")
    vote: VoteOut | None = Field(description="A formal vote's result, where one was recorded")
    long_term_circle: str | None = Field(
        None,
        description="A long-term decision: the circle it belongs to (named by the rules), "
        "asked for its consent with the other asked circles; none if the circle decides it",
    )


def proposal_out(circle: Circle, proposal: Proposal) -> ProposalOut:
    return ProposalOut(
        **process_fields(circle, proposal),
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
        long_term_circle=proposal.long_term_circle,
    )


def proposal_view(node: CircleNode, proposal_id: str) -> ProposalOut:
    """The proposal with this id, as the API shows it."""
    return proposal_out(node.records.peek_circle(), node.records.get_proposal(proposal_id))


def _summary(proposal: Proposal, zone: tzinfo) -> ProposalSummary:
    return ProposalSummary(
        id=str(proposal.id),
        title=proposal.title,
        purpose=str(proposal.purpose),
        stage=str(proposal.stage),
        proposer=proposal.proposer,
        method=str(proposal.method),
        mode=str(proposal.mode),
        deadline=in_zone(proposal.deadline, zone),
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
    zone = node.records.time_zone()
    if stage is None:  # a page read alone, whatever the number of proposals
        window, total = node.records.window("proposal", Proposal, paging.offset, paging.limit)
        return window_of([_summary(p, zone) for p in window], total, paging)
    # Those at one stage, a page read alone too (node/app/filed_by_state.py).
    window, total = node.records.proposals_by_stage.window(stage, paging.offset, paging.limit)
    return window_of([_summary(p, zone) for p in window], total, paging)


@router.get(
    "/proposals/{proposal_id}",
    summary="One proposal: questions, reactions, answers, objections, integrations, rounds",
)
def get_proposal(node: Node, by: Person, proposal_id: str) -> ProposalOut:
    return proposal_view(node, proposal_id)


class DraftFields(BaseModel):
    """What every draft names; its `purpose` and the `subject` declared for that purpose are
    added per purpose (node/http/api/subjects.py)."""

    title: Title
    text: Body
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


# The draft request: one model per purpose, discriminated by `purpose` (adopt_policy if the
# draft names none), each with the subject its purpose declares.
if TYPE_CHECKING:

    class Draft(DraftFields):
        purpose: str
        subject: SubjectFields

    class ProposalIn(BaseModel):
        root: Draft

else:
    ProposalIn = drafts_by_purpose(DraftFields)


@router.post(
    "/proposals",
    status_code=status.HTTP_201_CREATED,
    summary="Draft a proposal (full and learning participants)",
)
def draft_proposal(node: Node, by: Person, draft: ProposalIn) -> ProposalOut:
    body = draft.root
    proposal_id = node.proposals.draft_proposal(
        by,
        body.title,
        body.text,
        purpose=body.purpose,
        subject=body.subject.model_dump(mode="json", exclude_unset=True),
        mode=body.mode,
        deadline=aware(body.deadline, "deadline"),
        review_date=body.review_date,
        topic=body.topic,
        ask_circles=body.ask_circles,
    )
    return proposal_view(node, proposal_id)


@router.post("/proposals/{proposal_id}/present", summary="Present your proposal to the circle")
def present(node: Node, by: Person, proposal_id: str) -> ProposalOut:
    node.proposals.present(by, proposal_id)
    return proposal_view(node, proposal_id)


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
    return proposal_view(node, proposal_id)


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
    return proposal_view(node, proposal_id)


class VoteIn(BaseModel):
    in_favour: int = Field(ge=0, le=MAX_COUNT)
    against: int = Field(ge=0, le=MAX_COUNT)
    abstentions: int = Field(0, ge=0, le=MAX_COUNT)


@router.post(
    "/proposals/{proposal_id}/vote",
    summary="Record a formal vote's result, where the rules require one (the secretary)",
)
def record_vote(node: Node, by: Person, proposal_id: str, body: VoteIn) -> Outcome:
    outcome = node.proposals.record_vote(
        by, proposal_id, body.in_favour, body.against, body.abstentions
    )
    return outcome_out(node, proposal_id, outcome)
