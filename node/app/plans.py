"""The circle's budget and plans: made or revised by the hat whose domain it is, carried out
when a proposal to adopt or revise one is consented, listed, and their reviews coming due."""

from __future__ import annotations

from datetime import date
from typing import Any, Protocol

from domain.circle import Circle
from domain.plan import Plan
from domain.proposal import Proposal
from domain.values import Purpose
from node.app.work import UnitOfWork, Work
from node.store.retry import retry_on_conflict as command

PLAN_PURPOSES = frozenset({Purpose.ADOPT_PLAN, Purpose.REVISE_PLAN})


class OwnReference(Protocol):
    """What plans ask of the circle's relations (node/app/relations.py)."""

    def own_reference(self) -> str | None: ...


class Plans:
    """Budgets and plans by a hat wearer, and the listings."""

    def __init__(self, work: Work, relations: OwnReference) -> None:
        self._work = work
        self._relations = relations

    @command
    def make_plan(
        self,
        by: str,
        hat_id: str,
        kind: str,
        title: str,
        text: str,
        period_start: date,
        period_end: date,
        *,
        review_date: date | None = None,
        amount: str | None = None,
        currency: str | None = None,
    ) -> str:
        with UnitOfWork(self._work) as uow:
            plan = Plan.make(
                uow.shared_circle(),  # read, not changed
                by,
                hat_id,
                kind,
                title,
                text,
                uow.today,
                period_start=period_start,
                period_end=period_end,
                review_date=review_date,
                amount=amount,
                currency=currency,
                this_circle=self._relations.own_reference(),
            )
            uow.file("plan", plan)
            return str(plan.id)

    @command
    def revise_plan(self, by: str, plan_id: str, hat_id: str, text: str, **changes: Any) -> None:
        """Revise a plan with the hat whose domain it is; `changes` may name period_start,
        period_end, review_date, amount and currency."""
        with UnitOfWork(self._work) as uow:
            plan = uow.record(Plan, plan_id, "plan")
            plan.revise_by_hat(
                uow.shared_circle(),
                by,
                hat_id,
                text,
                uow.today,
                this_circle=self._relations.own_reference(),
                **changes,
            )

    def get_plan(self, plan_id: str) -> Plan:
        plan: Plan = self._work.get_record(Plan, plan_id, "plan")
        return plan

    def list_plans(self, kind: str | None = None, current: bool | None = None) -> list[Plan]:
        """Budgets and plans in the order they were made: of one kind, and current (their
        period has not ended) or past, when asked."""
        today = self._work.today()
        return [
            plan
            for plan in self._work.list_plans()
            if (kind is None or plan.kind == kind)
            and (current is None or plan.is_current(today) == current)
        ]


def check_plan_draft(
    work: Work, purpose: str, subject: dict[str, Any], review_date: date | None
) -> date | None:
    """At drafting: a revision names a plan of this circle, and terms that fit it; the end
    of the period it would give the plan (None for other proposals)."""
    if purpose != Purpose.REVISE_PLAN:
        return None
    plan: Plan = work.get_record(Plan, str(subject["plan_id"]), "plan")
    return plan.revised_terms(subject, review_date, work.today()).period_end


def carry_out_plan(work: Work, circle: Circle, proposal: Proposal, today: date) -> list[Any]:
    """A consented proposal to adopt or revise a plan: what to save with it."""
    if proposal.purpose == Purpose.ADOPT_PLAN:
        plan = Plan.adopt(circle, proposal, today)
        return [plan, *work.filed("plan", plan.id)]
    plan = work.get_record(Plan, str(proposal.subject["plan_id"]), "plan")
    plan.revise(circle, proposal, today)
    return [plan]


@command
def mark_plan_reviews_due(work: Work) -> dict[str, list[str]]:
    """Mark the plans whose review date has come (a step of `update_due_dates`), in one save;
    their ids, as `plans_review_due`."""
    due = []
    with UnitOfWork(work) as uow:
        for listed in work.list_plans():  # shared: what changes is the unit's copy
            if listed.is_review_due(uow.today) and not listed.review_due:
                plan = uow.record(Plan, listed.id, "plan")
                plan.mark_review_due(uow.today)
                due.append(str(plan.id))
    return {"plans_review_due": due}


def plans_for_export(work: Work) -> list[dict[str, Any]]:
    """Every budget and plan, current and past, as plain values (for `circle-node export`)."""
    return [
        {
            "id": str(plan.id),
            "kind": plan.kind,
            "title": plan.title,
            "text": plan.text,
            "period_start": plan.period_start.isoformat(),
            "period_end": plan.period_end.isoformat(),
            "review_date": plan.review_date.isoformat(),
            "review_due": plan.review_due,
            "amount": plan.amount,
            "currency": plan.currency,
            "made_by": plan.made_by,
            "hat_id": plan.hat_id,
            "proposal_id": plan.proposal_id,
            "made_on": plan.made_on.isoformat(),
            "revisions": plan.revisions,
        }
        for plan in work.list_plans()
    ]
