"""The consent process, shared by proposals and hat selections: a process by id, the consent
round, answers in advance, consents, objections, changes of answer and integration, closing,
escalating and withdrawing."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, status
from pydantic import BaseModel, Field

from domain.proposal import Proposal
from domain.selection import HatSelection
from node.app.node import CircleNode
from node.http.api.auth import Node, Person
from node.http.api.consent import (
    AnswerOut,
    IntegrationOut,
    ObjectionOut,
    Outcome,
    outcome_out,
    process_by_id,
)
from node.http.api.errors import ERROR_RESPONSES
from node.http.api.fields import Body, Say
from node.http.api.hats import SelectionOut, selection_out
from node.http.api.proposals import ProposalOut, proposal_out
from node.http.api.threaded import ThreadedRoute

router = APIRouter(
    route_class=ThreadedRoute, tags=["proposals and the consent process"], responses=ERROR_RESPONSES
)

ProcessOut = Annotated[ProposalOut | SelectionOut, Field(discriminator="kind")]


def process_out(node: CircleNode, process_id: str) -> ProposalOut | SelectionOut:
    process = process_by_id(node, process_id)
    circle = node.records.peek_circle()
    if isinstance(process, HatSelection):
        return selection_out(circle, process)
    assert isinstance(process, Proposal)
    return proposal_out(circle, process)


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
    return AnswerOut(**vars(process_by_id(node, process_id).advance_answers[by]))


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
    objection = process_by_id(node, process_id).objections[number - 1]
    return ObjectionOut(**vars(objection), open=objection.is_open)


class AnswerChangeIn(BaseModel):
    consents: bool = Field(description="Your answer now: true to consent, false to object")
    text: Say = Field("", description="The objection's argument (required), or a concern")


class ChangedAnswerOut(AnswerOut):
    objection: int | None = Field(
        description="The number of the objection a change to an objection raised"
    )


@router.post(
    "/processes/{process_id}/answer-changes",
    status_code=status.HTTP_201_CREATED,
    summary="Change your answer before the round closes: to consent withdraws your objection "
    "of this round, to an objection raises one (full participants who answered)",
)
def change_answer(
    node: Node, by: Person, process_id: str, body: AnswerChangeIn
) -> ChangedAnswerOut:
    answer, raised = node.consent.change_answer(by, process_id, body.consents, body.text)
    return ChangedAnswerOut(**vars(answer), objection=raised)


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
    return IntegrationOut(**vars(process_by_id(node, process_id).integrations[-1]))


@router.post(
    "/processes/{process_id}/close",
    summary="Close the consent round (the facilitator); returns where it leads",
)
def close_consent_round(node: Node, by: Person, process_id: str) -> Outcome:
    outcome = node.consent.close_consent_round(by, process_id)
    return outcome_out(node, process_id, outcome)


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
