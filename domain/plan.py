"""The circle's budget and plans: each for a period, with a review date.

A budget or a plan is made, and revised, in one of two ways: by consent (a proposal to adopt
or revise a plan, carried out when it is consented), or by the hat whose domain it is (a
wearer of a hat whose domain covers "budget", for a budget, or "plans", for a plan), as
everyday decisions are taken, for a period ending within six months when the rules name a
long-term circle other than this one (a longer one is a long-term decision,
domain/long_term.py). Its review comes due on its review date, as a decision's does.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from typing import Any, Protocol
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from domain.circle import Circle
from domain.errors import InvalidRequest, NotPermitted, WrongStage
from domain.inputs import choice, required_text
from domain.long_term import check_hat_may_plan
from domain.membership import check_open, check_wears
from domain.records import Copied
from domain.rules import ConsentDecision, check_consented
from domain.values import Purpose


class PlanKind(StrEnum):
    BUDGET = "budget"
    PLAN = "plan"


# The area of a hat's domain that lets its wearer make or revise a plan of each kind.
HAT_AREA = {PlanKind.BUDGET: "budget", PlanKind.PLAN: "plans"}
MAX_AMOUNT = Decimal("1e15")


class PlanDecision(ConsentDecision, Protocol):
    """What a plan reads of the consent decision that makes or revises it (a `Proposal`):
    what the circle reads of any, and its title, text, review date and proposer."""

    @property
    def title(self) -> str: ...

    @property
    def text(self) -> str: ...

    @property
    def review_date(self) -> date | None: ...

    @property
    def proposer(self) -> str: ...


@dataclass(frozen=True)
class PlanTerms:
    """A plan's period, review date and (for a budget) amount, checked (its fields are the
    plan's events' own: plain values)."""

    period_start: date
    period_end: date
    review_date: date
    amount: str | None
    currency: str | None


def plan_terms(
    kind: str,
    period_start: date | str | None,
    period_end: date | str | None,
    review_date: date | str | None,
    amount: Any,
    currency: Any,
    today: date | None,
) -> PlanTerms:
    """Check a plan's terms: a period that ends on or after it starts and has not ended, a
    review date in the future (the period's end when none is named), and for a budget an
    optional amount (not negative) with its currency. Amounts are kept as decimal text.

    `today` None: the dates were checked when the proposal was drafted, and a consent that
    took a while does not undo it (a review date that has passed meanwhile is simply due)."""
    start = _date(period_start, "period_start")
    end = _date(period_end, "period_end")
    if end < start:
        raise InvalidRequest("A plan's period ends on or after the day it starts")
    if today is not None and end < today:
        raise InvalidRequest("That period has ended; a plan is for a period still to come or now")
    review = _date(review_date, "review_date") if review_date not in (None, "") else end
    if today is not None and review <= today:
        raise InvalidRequest("The review date must be in the future")
    if amount in (None, ""):
        if currency not in (None, ""):
            raise InvalidRequest("A currency goes with an amount")
        return PlanTerms(start, end, review, None, None)
    if kind != PlanKind.BUDGET:
        raise InvalidRequest("Only a budget has an amount")
    return PlanTerms(start, end, review, _amount(amount), _currency(currency))


def _date(value: date | str | None, name: str) -> date:
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value or "").strip())
    except ValueError:
        raise InvalidRequest(f"{name} is a date, such as 2026-04-01") from None


def _amount(value: Any) -> str:
    if isinstance(value, bool) or not isinstance(value, (int, str, float)):
        raise InvalidRequest("A budget's amount is a number, such as 1200.50")
    try:
        amount = Decimal(str(value).strip())
    except InvalidOperation:
        raise InvalidRequest("A budget's amount is a number, such as 1200.50") from None
    if not amount.is_finite() or amount < 0 or amount >= MAX_AMOUNT:
        raise InvalidRequest("A budget's amount is a number from 0")
    return str(amount)


def _currency(value: Any) -> str:
    code = str(value or "").strip().upper()
    if len(code) != 3 or not code.isalpha() or not code.isascii():
        raise InvalidRequest("Name the amount's currency by its three-letter code, such as GBP")
    return code


def check_plan_subject(
    purpose: str, subject: dict[str, Any], review_date: date | None, today: date
) -> PlanTerms | None:
    """At drafting: a proposal to adopt a plan names its kind and a period that fits (its
    terms; None for other proposals)."""
    if purpose != Purpose.ADOPT_PLAN:
        return None
    kind = choice(PlanKind, str(subject.get("kind")), "kind of plan")
    return plan_terms(
        kind,
        subject.get("period_start"),
        subject.get("period_end"),
        review_date,
        subject.get("amount"),
        subject.get("currency"),
        today,
    )


class Plan(Copied, Aggregate):
    """A budget or a plan of the circle, for a period, reviewed on its review date."""

    @classmethod
    def adopt(cls, circle: Circle, proposal: PlanDecision, today: date) -> Plan:
        """A consented proposal to adopt a plan becomes a plan of the circle."""
        check_consented(circle, proposal, Purpose.ADOPT_PLAN, "makes or revises a plan")
        subject = proposal.subject
        kind = choice(PlanKind, str(subject["kind"]), "kind of plan")
        terms = plan_terms(
            kind,
            subject["period_start"],
            subject["period_end"],
            proposal.review_date,
            subject.get("amount"),
            subject.get("currency"),
            None,
        )
        return cls(
            circle_id=circle.id,
            kind=kind,
            title=proposal.title,
            text=proposal.text,
            **vars(terms),
            made_by=proposal.proposer,
            hat_id=None,
            proposal_id=str(proposal.id),
            today=today,
        )

    @classmethod
    def make(
        cls,
        circle: Circle,
        by: str,
        hat_id: str,
        kind: str,
        title: str,
        text: str,
        today: date,
        *,
        period_start: date,
        period_end: date,
        review_date: date | None = None,
        amount: str | None = None,
        currency: str | None = None,
        this_circle: str | None = None,
    ) -> Plan:
        """A plan made by the wearer of the hat whose domain it is; `this_circle` is the
        circle's own reference (rules naming it as the long-term circle mean it decides
        long-lasting plans itself)."""
        check_open(circle)
        kind = choice(PlanKind, kind, "kind of plan")
        _check_hat(circle, by, hat_id, kind)
        terms = plan_terms(kind, period_start, period_end, review_date, amount, currency, today)
        check_hat_may_plan(circle.rules, this_circle, kind, terms.period_end, today)
        return cls(
            circle_id=circle.id,
            kind=kind,
            title=required_text(title, "A plan needs a title"),
            text=required_text(text, "A plan needs its text"),
            **vars(terms),
            made_by=by,
            hat_id=hat_id,
            proposal_id=None,
            today=today,
        )

    @event("Made")
    def __init__(
        self,
        circle_id: UUID,
        kind: str,
        title: str,
        text: str,
        period_start: date,
        period_end: date,
        review_date: date,
        amount: str | None,
        currency: str | None,
        made_by: str,
        hat_id: str | None,
        proposal_id: str | None,
        today: date,
    ) -> None:
        self.circle_id = circle_id
        self.kind = kind
        self.title = title
        self.made_by = made_by
        self.hat_id = hat_id
        self.proposal_id = proposal_id
        self.made_on = today
        self.revisions = 0
        self.review_due = False
        self._apply(text, period_start, period_end, review_date, amount, currency)

    def _apply(
        self,
        text: str,
        period_start: date,
        period_end: date,
        review_date: date,
        amount: str | None,
        currency: str | None,
    ) -> None:
        self.text = text
        self.period_start = period_start
        self.period_end = period_end
        self.review_date = review_date
        self.amount = amount
        self.currency = currency

    # Queries.

    def is_current(self, today: date) -> bool:
        """Whether its period has not ended (it may not have started yet)."""
        return self.period_end >= today

    def is_review_due(self, today: date) -> bool:
        return self.review_date <= today

    # Revising it.

    def revise(self, circle: Circle, proposal: PlanDecision, today: date) -> None:
        """A consented proposal to revise this plan: its text (the proposal's), and the
        period, review date and amount it names (the current ones for the rest)."""
        if circle.id != self.circle_id:
            raise InvalidRequest("That plan belongs to another circle")
        check_consented(circle, proposal, Purpose.REVISE_PLAN, "makes or revises a plan")
        subject = proposal.subject
        if subject.get("plan_id") != str(self.id):
            raise InvalidRequest("That proposal is about another plan")
        terms = self.revised_terms(subject, proposal.review_date, None)
        self._revised(
            proposal.text,
            **vars(terms),
            by=proposal.proposer,
            hat_id=None,
            proposal_id=str(proposal.id),
            today=today,
        )

    def revise_by_hat(
        self,
        circle: Circle,
        by: str,
        hat_id: str,
        text: str,
        today: date,
        *,
        this_circle: str | None = None,
        **changes: Any,
    ) -> None:
        """The wearer of the hat whose domain it is revises the plan. `changes` may name
        period_start, period_end, review_date, amount and currency; `this_circle` as for
        `make`."""
        if circle.id != self.circle_id:
            raise InvalidRequest("That plan belongs to another circle")
        check_open(circle)
        _check_hat(circle, by, hat_id, self.kind)
        text = required_text(text, "A revised plan needs its text")
        terms = self.revised_terms(changes, changes.get("review_date"), today)
        check_hat_may_plan(circle.rules, this_circle, self.kind, terms.period_end, today)
        self._revised(text, **vars(terms), by=by, hat_id=hat_id, proposal_id=None, today=today)

    def revised_terms(
        self, changes: dict[str, Any], review_date: date | str | None, today: date | None
    ) -> PlanTerms:
        """The terms a revision naming `changes` would give the plan (checked at drafting, so
        that a consented revision can be carried out)."""

        def named(key: str, current: Any) -> Any:
            value = changes.get(key)
            return current if value is None else value

        amount = named("amount", self.amount)
        return plan_terms(
            self.kind,
            named("period_start", self.period_start),
            named("period_end", self.period_end),
            review_date,
            amount,
            named("currency", self.currency)
            if amount not in (None, "")
            else changes.get("currency"),
            today,
        )

    @event("Revised")
    def _revised(
        self,
        text: str,
        period_start: date,
        period_end: date,
        review_date: date,
        amount: str | None,
        currency: str | None,
        by: str,
        hat_id: str | None,
        proposal_id: str | None,
        today: date,
    ) -> None:
        self._apply(text, period_start, period_end, review_date, amount, currency)
        self.revisions += 1
        self.review_due = False

    # Its review.

    def mark_review_due(self, today: date) -> None:
        if self.review_due:
            raise WrongStage("This plan's review is already due")
        if self.review_date > today:
            raise WrongStage(f"This plan is not due for review until {self.review_date}")
        self._review_came_due(today)

    @event("ReviewCameDue")
    def _review_came_due(self, today: date) -> None:
        self.review_due = True


def _check_hat(circle: Circle, by: str, hat_id: str, kind: str) -> None:
    hat = circle.hat(hat_id)
    check_wears(circle, by, hat_id, f"make or revise a {kind} with this hat")
    area = HAT_AREA[PlanKind(kind)]
    if not hat.covers(area):
        raise NotPermitted(
            f"A {kind} is outside the domain of the {hat.name.lower()} hat "
            f"({', '.join(hat.domain) or 'none'}); its domain must cover {area!r}, or bring "
            "a proposal to the circle instead"
        )
