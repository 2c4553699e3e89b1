"""What the member API shows of a consent process, for proposals and hat selections alike:
the current round's answers and quorum, objections, integrations, closed rounds and measures,
and where a round led; and the process with a given id, whichever of the two it is."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from pydantic import BaseModel, Field

from domain.circle import Circle
from domain.consent import ConsentProcess
from domain.decision import Decision
from domain.errors import NotFound
from domain.proposal import Proposal
from domain.round_end import quorum_of
from domain.values import Purpose, Stage
from node.app.node import CircleNode
from node.http.api.fields import in_zone


class AnswerOut(BaseModel):
    person_id: str = Field(description="A person id, a linked seat, or circle:<node id>")
    consents: bool
    text: str = Field(description="The objection's argument, or a concern that does not block")
    in_advance: bool


class ObjectionOut(BaseModel):
    number: int
    person_id: str
    argument: str
    round: int
    resolved_by: int | None = Field(description="The number of the integration that resolved it")
    withdrawn: bool
    open: bool


class IntegrationOut(BaseModel):
    number: int
    how: str = Field(description="amend, shorten_term or add_measure")
    text: str
    objections: list[int]
    by: str


class RoundOut(BaseModel):
    number: int
    consents: list[str]
    objections: list[int]
    concerns: list[str]
    missing: list[str]
    outcome: str
    reason: str = Field(
        description="Why it lapsed (below quorum, or absentees who must consent later); empty "
        "otherwise, and for rounds closed before reasons were recorded"
    )


class QuorumOut(BaseModel):
    needed: int = Field(
        description="How many full participants must take part for the round to count: the "
        "rules' share of the full participants, rounded up, at least one"
    )
    answered: int = Field(
        description="Full participants who take part in the current round: who answered (in a "
        "meeting, who answered in the round itself; answers given in advance do not count)"
    )
    full_participants: int


class ProcessFields(BaseModel):
    """The fields every consent process has."""

    id: str
    stage: str
    opened_by: str
    method: str = Field(description="consent, or formal_vote where the circle's rules say so")
    mode: str = Field(description="meeting or async")
    deadline: datetime | None = Field(
        description="An asynchronous process's deadline, in the circle's time zone, with its offset"
    )
    review_date: date | None
    round_number: int
    answers: list[AnswerOut] = Field(description="Answers given in the current round")
    advance_answers: list[AnswerOut] = Field(
        description="Answers of absent full participants, given before the first round"
    )
    objections: list[ObjectionOut]
    integrations: list[IntegrationOut]
    rounds: list[RoundOut] = Field(description="Closed consent rounds")
    measures: list[str]
    asked_circles: list[str] = Field(
        description="Linked circles whose consent this also needs (node ids); they do not count "
        "towards the quorum"
    )
    quorum: QuorumOut = Field(description="The quorum of its consent round, and where it stands")


def process_fields(circle: Circle, process: ConsentProcess) -> dict[str, Any]:
    """The common fields of a process view, as keyword arguments (its deadline in the
    circle's time zone)."""
    quorum = quorum_of(circle, process)
    zone = ZoneInfo(circle.rules.time_zone)
    return {
        "id": str(process.id),
        "stage": str(process.stage),
        "opened_by": process.opened_by,
        "method": str(process.method),
        "mode": str(process.mode),
        "deadline": in_zone(process.deadline, zone),
        "review_date": process.review_date,
        "round_number": process.round_number,
        "answers": [_answer(a) for a in process.answers.values()],
        "advance_answers": [_answer(a) for a in process.advance_answers.values()],
        "objections": [
            ObjectionOut(
                number=o.number,
                person_id=o.person_id,
                argument=o.argument,
                round=o.round,
                resolved_by=o.resolved_by,
                withdrawn=o.withdrawn,
                open=o.is_open,
            )
            for o in process.objections
        ],
        "integrations": [IntegrationOut(**vars(i)) for i in process.integrations],
        "rounds": [RoundOut(**vars(r)) for r in process.rounds],
        "measures": list(process.measures),
        "asked_circles": list(process.asked_circles),
        "quorum": QuorumOut(
            needed=quorum.needed,
            answered=quorum.taking_part,
            full_participants=quorum.full_participants,
        ),
    }


def _answer(answer: object) -> AnswerOut:
    return AnswerOut(**vars(answer))


class Outcome(BaseModel):
    outcome: str = Field(
        description="What the round led to: consented, integrating, lapsed or not_carried"
    )
    decision_id: str | None = Field(
        description="The policy a consented proposal to adopt one made, if any"
    )


def process_by_id(node: CircleNode, process_id: str) -> ConsentProcess:
    """The proposal or the hat selection with this id."""
    try:
        return node.records.get_proposal(process_id)
    except NotFound:
        pass
    try:
        return node.records.get_selection(process_id)
    except NotFound:
        raise NotFound(f"No proposal or selection with id {process_id}") from None


def outcome_out(node: CircleNode, process_id: str, outcome: str) -> Outcome:
    """Where a closed round or a vote led, with the policy a consented proposal made."""
    made = None
    process = process_by_id(node, process_id) if outcome == Stage.CONSENTED else None
    if isinstance(process, Proposal) and process.purpose == Purpose.ADOPT_POLICY:
        # The policy was filed by the save that closed the round: among the newest decisions.
        decisions = node.records.newest_first("decision", Decision)
        made = next((str(d.id) for d in decisions if d.proposal_id == process_id), None)
    return Outcome(outcome=str(outcome), decision_id=made)
