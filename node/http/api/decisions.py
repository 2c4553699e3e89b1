"""Decisions: the circle's policies and everyday decisions, challenges, and reviews coming due."""

from __future__ import annotations

from datetime import date
from typing import Annotated

import msgspec
from fastapi import APIRouter, Query, status
from pydantic import BaseModel, Field

from domain.decision import Decision
from domain.membership import check_full_participant
from node.app.published_records import decision_record
from node.http.api.auth import Node, Person
from node.http.api.errors import ERROR_RESPONSES
from node.http.api.fields import Body, Ref, Title
from node.http.api.paging import Page, Paging, page_of, window_of
from node.http.api.threaded import ThreadedRoute

router = APIRouter(route_class=ThreadedRoute, tags=["decisions"], responses=ERROR_RESPONSES)


# The fields of the decision's wire record (node.network.messages.DecisionRecord, `id` for its
# `decision_id`) and more; tests/node/api/test_api_wire_records.py keeps them the record's.
class DecisionOut(BaseModel):
    id: str
    kind: str = Field(description="policy (by consent) or operational (everyday, by a hat)")
    title: str
    text: str
    area: str | None = Field(description="The area of the hat's domain (everyday decisions)")
    hat_id: str | None
    taken_by: str = Field(description="The proposer, or the hat wearer who took it")
    proposal_id: str | None
    effective: date
    review_date: date
    term_end: date | None
    measures: list[str]
    binding: bool = Field(description="A co-op policy that binds the circles part of it")
    status: str = Field(
        description="in_force, review_due, renewed, amended, expired, superseded or revoked"
    )
    review_due: bool = Field(description="In force, and its review date has come")
    challenges: list[str] = Field(description="Proposals that challenge it")
    superseded_by: str | None


def decision_out(decision: Decision, today: date) -> DecisionOut:
    """The decision as its record says it (the one the feed publishes), with what only its own
    circle knows of it."""
    record = msgspec.structs.asdict(decision_record(decision))
    return DecisionOut(
        id=record.pop("decision_id"),
        **record,
        taken_by=decision.taken_by,
        proposal_id=decision.proposal_id,
        review_due=decision.is_review_due(today),
        challenges=list(decision.challenges),
        superseded_by=decision.superseded_by,
    )


@router.get("/decisions", summary="The circle's decisions (paginated)")
def list_decisions(
    node: Node,
    by: Person,
    paging: Paging,
    review_due: Annotated[
        bool | None,
        Query(description="true: only those due for review; false: only those not due"),
    ] = None,
) -> Page[DecisionOut]:
    today = node.records.today()
    if review_due is None:  # a page read alone, whatever the number of decisions
        window, total = node.records.window("decision", Decision, paging.offset, paging.limit)
        return window_of([decision_out(d, today) for d in window], total, paging)
    decisions = [
        decision_out(d, today)
        for d in node.records.list_decisions()
        if d.is_review_due(today) == review_due
    ]
    return page_of(decisions, paging)


@router.get("/decisions/reviews-due", summary="Decisions in force whose review has come")
def reviews_due(node: Node, by: Person, paging: Paging) -> Page[DecisionOut]:
    today = node.records.today()
    return page_of([decision_out(d, today) for d in node.decisions.reviews_due()], paging)


class DueDates(BaseModel):
    review_due: list[str] = Field(description="Decisions whose review came due")
    expired: list[str] = Field(description="Decisions whose term ended")
    lapsed: list[str] = Field(description="Asynchronous proposals and selections that lapsed")
    closed: list[str] = Field(
        description="Asynchronous proposals and selections whose consent round closed at its "
        "deadline, as the rules say (consented, integrating, or lapsed with its reason)"
    )
    plans_review_due: list[str] = Field(
        default_factory=list, description="Budgets and plans whose review came due"
    )


@router.post(
    "/decisions/update-due-dates",
    summary="Mark reviews that came due, end decisions whose term is over, lapse late processes, "
    "close late consent rounds",
)
def update_due_dates(node: Node, by: Person) -> DueDates:
    check_full_participant(node.records.peek_circle(), by, "update the circle's due dates")
    return DueDates(**node.decisions.update_due_dates())


@router.get("/decisions/{decision_id}", summary="One decision")
def get_decision(node: Node, by: Person, decision_id: str) -> DecisionOut:
    return decision_out(node.records.get_decision(decision_id), node.records.today())


class EverydayDecisionIn(BaseModel):
    hat_id: Ref = Field(description="The hat you take it with")
    area: Title = Field(description="The area of the hat's domain it is in")
    title: Title
    text: Body
    review_date: date | None = Field(None, description="Default: in six months")
    term_end: date | None = Field(None, description="When it ends, if it has a term")


@router.post(
    "/decisions",
    status_code=status.HTTP_201_CREATED,
    summary="Take an everyday decision within your hat's domain",
)
def take_everyday_decision(node: Node, by: Person, body: EverydayDecisionIn) -> DecisionOut:
    decision_id = node.decisions.take_everyday_decision(
        by,
        body.hat_id,
        body.area,
        body.title,
        body.text,
        review_date=body.review_date,
        term_end=body.term_end,
    )
    return decision_out(node.records.get_decision(decision_id), node.records.today())


class ChallengeIn(BaseModel):
    text: Body = Field(description="What you propose instead, or why it should go")
    revoke: bool = Field(False, description="Propose to revoke it rather than amend it")


class Challenge(BaseModel):
    decision_id: str
    proposal_id: str = Field(description="The proposal the challenge opened (a draft)")


@router.post(
    "/decisions/{decision_id}/challenge",
    status_code=status.HTTP_201_CREATED,
    summary="Challenge an everyday decision: it becomes a proposal to amend or revoke it",
)
def challenge(node: Node, by: Person, decision_id: str, body: ChallengeIn) -> Challenge:
    proposal_id = node.decisions.challenge_decision(by, decision_id, body.text, revoke=body.revoke)
    return Challenge(
        decision_id=str(node.records.get_decision(decision_id).id), proposal_id=proposal_id
    )
