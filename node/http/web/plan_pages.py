"""The circle's budgets and plans: the list (by kind, current or past), each one's page, and the
forms to make or revise one.

A wearer of a hat whose domain covers the budget (for a budget) or the plans (for a plan) makes
and revises them with that hat; everyone else who may propose is led to the drafting form, to
adopt or revise one by consent. The page offers each form to those the rules would let use it;
the domain decides.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.responses import Response

from domain.circle import Circle
from domain.errors import DomainError
from domain.plan import HAT_AREA, Plan, PlanKind
from node.http.web.decision_pages import acting, beside, proposes
from node.http.web.forms import FieldRefused, Form
from node.http.web.names import Names
from node.http.web.visits import Member, MemberPost, PageRoute, Visit

router = APIRouter(route_class=PageRoute)

# The member API's operations these pages carry out (node.http.web.page_table).
OPERATIONS = {
    "GET /api/plans": "/plans",
    "POST /api/plans": "/plans",
    "GET /api/plans/{plan_id}": "/plans/{plan_id}",
    "POST /api/plans/{plan_id}/revise": "/plans/{plan_id}",
}

KINDS = ((PlanKind.BUDGET.value, "Budget"), (PlanKind.PLAN.value, "Plan"))
WHEN = (("current", "Current (its period has not ended)"), ("past", "Past"))

# The fields of the plans' forms, by the words the circle's sentences name them.
PLAN_FIELDS = {
    "review_date": "review date",
    "period_end": "period",
    "title": "title",
    "currency": "currency",
    "amount": "amount",
    "text": "text",
    "kind": "kind",
}


def plan_hats(circle: Circle, person: str, kind: str | None = None) -> list[tuple[str, str]]:
    """The hats this person wears whose domain covers a budget or a plan (of `kind`, if
    named): (hat id, label)."""
    if not acting(circle, person):
        return []
    areas = [HAT_AREA[PlanKind(kind)]] if kind else list(HAT_AREA.values())
    worn = [circle.hats[h] for h in circle.hats_worn_by(person) if h in circle.hats]
    return [
        (hat.hat_id, f"{hat.name} ({', '.join(hat.domain)})")
        for hat in worn
        if any(hat.covers(area) for area in areas)
    ]


def _row(found: Visit, plan: Plan, names: Names) -> dict[str, Any]:
    today = found.node.records.today()
    hats = found.node.records.peek_circle().hats
    hat = hats.get(plan.hat_id) if plan.hat_id else None
    return {
        "id": str(plan.id),
        "kind": plan.kind,
        "title": plan.title,
        "text": plan.text,
        "period_start": plan.period_start,
        "period_end": plan.period_end,
        "review_date": plan.review_date,
        "review_due": plan.review_due,
        "current": plan.is_current(today),
        "amount": plan.amount,
        "currency": plan.currency,
        "made_by": names(plan.made_by),
        "hat": hat.name if hat else (plan.hat_id or ""),
        "proposal_id": plan.proposal_id,
        "made_on": plan.made_on,
        "revisions": plan.revisions,
    }


def _plans_page(
    found: Visit, kind: str = "", when: str = "", status: int = 200, **extra: Any
) -> Response:
    node = found.node
    circle = node.records.peek_circle()
    me = found.person or ""
    names = Names(node)
    kind = kind if kind in dict(KINDS) else ""
    when = when if when in dict(WHEN) else ""
    plans = node.plans.list_plans(kind or None, None if not when else when == "current")
    return found.page(
        "plans.html",
        status,
        plans=[_row(found, plan, names) for plan in plans],
        kind=kind,
        when=when,
        kinds=KINDS,
        whens=WHEN,
        hats=plan_hats(circle, me),
        can_propose=proposes(circle, me),
        **extra,
    )


@router.get("/plans", include_in_schema=False)
def plans_page(found: Member, kind: str = "", when: str = "") -> Response:
    return _plans_page(found, kind, when)


def _day(form: Form, name: str, what: str) -> Any:
    day = form.day(name, what)
    if day is None:
        raise FieldRefused(name, f"Say {what}")
    return day


def _optional(form: Form, name: str) -> str | None:
    return form.get(name).strip() or None


@router.post("/plans", include_in_schema=False)
def make_plan(posted: MemberPost) -> Response:
    found, form = posted.visit, posted.form
    try:
        plan_id = found.node.plans.make_plan(
            posted.person,
            form.get("hat_id"),
            form.get("kind"),
            form.get("title"),
            form.get("text"),
            _day(form, "period_start", "the first day of its period"),
            _day(form, "period_end", "the last day of its period"),
            review_date=form.day("review_date", "review date"),
            amount=_optional(form, "amount"),
            currency=_optional(form, "currency"),
        )
    except DomainError as error:
        shown = beside(error, "plan", form, PLAN_FIELDS, main_field="title")
        return _plans_page(found, status=shown.status, refused=shown)
    return found.redirect(f"/plans/{plan_id}", "The budget or plan is made.")


def _plan_page(found: Visit, plan_id: str, status: int = 200, **extra: Any) -> Response:
    node = found.node
    plan = node.plans.get_plan(plan_id)  # NotFound: a 404 page
    circle = node.records.peek_circle()
    me = found.person or ""
    return found.page(
        "plan.html",
        status,
        plan=_row(found, plan, Names(node)),
        hats=plan_hats(circle, me, plan.kind),
        can_propose=proposes(circle, me),
        **extra,
    )


@router.get("/plans/{plan_id}", include_in_schema=False)
def plan_page(found: Member, plan_id: str) -> Response:
    return _plan_page(found, plan_id)


@router.post("/plans/{plan_id}/revise", include_in_schema=False)
def revise_plan(posted: MemberPost, plan_id: str) -> Response:
    found, form = posted.visit, posted.form
    node = found.node
    plan = node.plans.get_plan(plan_id)  # NotFound: a 404 page
    try:
        changes: dict[str, Any] = {
            "period_start": form.day("period_start", "first day of its period"),
            "period_end": form.day("period_end", "last day of its period"),
            "review_date": form.day("review_date", "review date"),
            "amount": _optional(form, "amount"),
            "currency": _optional(form, "currency"),
        }
        node.plans.revise_plan(
            posted.person,
            str(plan.id),
            form.get("hat_id"),
            form.get("text"),
            **{key: value for key, value in changes.items() if value is not None},
        )
    except DomainError as error:
        shown = beside(error, "revise", form, PLAN_FIELDS, main_field="text")
        return _plan_page(found, plan_id, shown.status, refused=shown)
    return found.redirect(f"/plans/{plan.id}", f"The {plan.kind} is revised.")
