"""The circle's budget and plans: listed (current and past, by kind), and made or revised by
the wearer of the hat whose domain it is. By consent, a proposal to `adopt_plan` or
`revise_plan` makes or revises one (`POST /api/proposals`)."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from fastapi import APIRouter, Query, status
from pydantic import BaseModel, Field

from domain.plan import Plan, PlanKind
from node.http.api.auth import Node, Person
from node.http.api.errors import ERROR_RESPONSES
from node.http.api.fields import Body, Ref, Title
from node.http.api.paging import Page, Paging, page_of
from node.http.api.threaded import ThreadedRoute

router = APIRouter(route_class=ThreadedRoute, tags=["budget and plans"], responses=ERROR_RESPONSES)

Amount = Annotated[
    str, Field(max_length=40, description="A budget's amount, as decimal text (e.g. 1200.50)")
]
Currency = Annotated[str, Field(max_length=3, description="Its three-letter code, e.g. GBP")]


class PlanOut(BaseModel):
    id: str
    kind: str = Field(description="budget or plan")
    title: str
    text: str
    period_start: date
    period_end: date
    review_date: date
    review_due: bool = Field(description="Its review came due (marked by the calendar)")
    current: bool = Field(description="Its period has not ended")
    amount: str | None = Field(description="A budget's amount, as decimal text")
    currency: str | None
    made_by: str = Field(description="The proposer, or the hat wearer who made it")
    hat_id: str | None = Field(description="The hat it was made with (none: by consent)")
    proposal_id: str | None = Field(description="The consented proposal that made it")
    made_on: date
    revisions: int


def plan_out(plan: Plan, today: date) -> PlanOut:
    return PlanOut(
        id=str(plan.id),
        kind=plan.kind,
        title=plan.title,
        text=plan.text,
        period_start=plan.period_start,
        period_end=plan.period_end,
        review_date=plan.review_date,
        review_due=plan.review_due,
        current=plan.is_current(today),
        amount=plan.amount,
        currency=plan.currency,
        made_by=plan.made_by,
        hat_id=plan.hat_id,
        proposal_id=plan.proposal_id,
        made_on=plan.made_on,
        revisions=plan.revisions,
    )


@router.get("/plans", summary="The circle's budgets and plans, in the order made (paginated)")
def list_plans(
    node: Node,
    by: Person,
    paging: Paging,
    kind: Annotated[PlanKind | None, Query(description="Only budgets, or only plans")] = None,
    when: Annotated[
        Literal["current", "past"] | None,
        Query(description="current: their period has not ended; past: it has"),
    ] = None,
) -> Page[PlanOut]:
    today = node.clock().date()
    current = None if when is None else when == "current"
    plans = node.plans.list_plans(kind, current)
    return page_of([plan_out(p, today) for p in plans], paging)


@router.get("/plans/{plan_id}", summary="One budget or plan")
def get_plan(node: Node, by: Person, plan_id: str) -> PlanOut:
    return plan_out(node.plans.get_plan(plan_id), node.clock().date())


class PlanIn(BaseModel):
    hat_id: Ref = Field(
        description='The hat you make it with: its domain covers "budget" or "plans"'
    )
    kind: PlanKind
    title: Title
    text: Body
    period_start: date
    period_end: date
    review_date: date | None = Field(None, description="Default: the period's end")
    amount: Amount | None = None
    currency: Currency | None = None


@router.post(
    "/plans",
    status_code=status.HTTP_201_CREATED,
    summary="Make a budget or plan with the hat whose domain it is",
)
def make_plan(node: Node, by: Person, body: PlanIn) -> PlanOut:
    plan_id = node.plans.make_plan(
        by,
        body.hat_id,
        body.kind,
        body.title,
        body.text,
        body.period_start,
        body.period_end,
        review_date=body.review_date,
        amount=body.amount,
        currency=body.currency,
    )
    return plan_out(node.plans.get_plan(plan_id), node.clock().date())


class RevisionIn(BaseModel):
    hat_id: Ref = Field(description="The hat you revise it with")
    text: Body = Field(description="The plan's revised text")
    period_start: date | None = Field(None, description="Default: as it is")
    period_end: date | None = Field(None, description="Default: as it is")
    review_date: date | None = Field(None, description="Default: the period's end")
    amount: Amount | None = Field(None, description="Default: as it is")
    currency: Currency | None = Field(None, description="Default: as it is")


@router.post(
    "/plans/{plan_id}/revise", summary="Revise a budget or plan with the hat whose domain it is"
)
def revise_plan(node: Node, by: Person, plan_id: str, body: RevisionIn) -> PlanOut:
    changes = body.model_dump(exclude={"hat_id", "text"}, exclude_none=True)
    node.plans.revise_plan(by, plan_id, body.hat_id, body.text, **changes)
    return plan_out(node.plans.get_plan(plan_id), node.clock().date())
