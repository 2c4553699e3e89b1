"""Long-term decisions: which proposals belong to the circle the rules name for them.

A decision whose effect lasts six months or more, or whose topic the rules name as long-term,
belongs to the co-op's members' meeting or purpose circle (the circle named by the rules'
`long_term_circle`, possibly on another node): a circle that is part of it asks for its
consent as federated consent does, and cannot adopt it alone. A circle whose rules name no
long-term circle, or name itself (a co-op's own top circle), decides them itself.

Which proposals this reads:
- by their effect, those that make or prolong a policy: adopting a policy, amending or
  renewing a decision. The effect lasts until the proposal's review date, or the default
  review for its kind when it names none; amending or renewing an everyday decision (a hat's)
  without naming a review date stays everyday, as hat wearers' decisions are;
- by their period, a plan or budget adopted or revised by consent: its effect lasts until its
  period ends (a review date after that end prolongs nothing: the plan governs its period);
- by their topic (a topic the rules name), those and the circle's other records decided by
  consent: revoking a decision, its aim, its domain, a plan or budget;
- always, a change of the rules that would change the long-term circle or topics themselves
  (else a circle could take back alone what is not its own to decide).
A plan made or revised by a hat wearer whose period ends six months or more away is refused
when the rules name a long-term circle other than this one: it goes to the circle as a
proposal. Everyday decisions stay with the hats (see docs/governance.md).
Hat selections and the steps of relationships with other circles are never long-term here:
they are the circle's own, or already need the other circle's consent.
"""

from __future__ import annotations

import calendar
from datetime import date, timedelta
from typing import Any

from domain.errors import NotPermitted, WrongStage
from domain.records import GoverningRules
from domain.values import DecisionKind, Purpose

LONG_TERM_MONTHS = 6
# Proposals whose effect is read from their review date.
BY_EFFECT = frozenset({Purpose.ADOPT_POLICY, Purpose.AMEND_DECISION, Purpose.RENEW_DECISION})
# Proposals whose effect is read from the period of the plan they adopt or revise.
BY_PERIOD = frozenset({Purpose.ADOPT_PLAN, Purpose.REVISE_PLAN})
# Proposals that are long-term when their topic is one the rules name.
BY_TOPIC = BY_EFFECT | frozenset(
    {
        Purpose.REVOKE_DECISION,
        Purpose.CHANGE_AIM,
        Purpose.CHANGE_DOMAIN,
        Purpose.ADOPT_PLAN,
        Purpose.REVISE_PLAN,
    }
)
# The rules that say what is long-term, and where it goes.
LONG_TERM_RULES = ("long_term_circle", "long_term_topics")
# A policy's review when its proposal names none (domain/decision.py DEFAULT_REVIEW_DAYS,
# which imports proposals and so cannot be imported here; a test keeps the two equal).
POLICY_REVIEW_DAYS = 365


def add_months(day: date, months: int) -> date:
    """The same day `months` later (the month's last day where it has fewer days)."""
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def lasts_long(until: date, today: date) -> bool:
    """Whether an effect lasting until `until` lasts six months or more from `today`."""
    return until >= add_months(today, LONG_TERM_MONTHS)


def is_long_term(
    rules: GoverningRules,
    purpose: str,
    today: date,
    *,
    review_date: date | None = None,
    topic: str | None = None,
    subject: dict[str, Any] | None = None,
    decision_kind: str | None = None,
    period_end: date | None = None,
) -> bool:
    """Whether a proposal of `purpose` is a long-term decision under these rules.

    `decision_kind` is the kind of the decision an amendment or renewal is about (a policy
    when not known); `period_end` the end of the period of the plan a proposal adopts or
    revises (as revised)."""
    if purpose == Purpose.CHANGE_RULES:
        return any(key in (subject or {}) for key in LONG_TERM_RULES)
    if purpose in BY_TOPIC and topic is not None and topic.strip() in rules.long_term_topics:
        return True
    if purpose in BY_PERIOD:
        return period_end is not None and lasts_long(period_end, today)
    if purpose not in BY_EFFECT:
        return False
    if review_date is None:
        kind = DecisionKind.POLICY if purpose == Purpose.ADOPT_POLICY else decision_kind
        if kind == DecisionKind.OPERATIONAL:
            return False
        review_date = today + timedelta(days=POLICY_REVIEW_DAYS)
    return lasts_long(review_date, today)


def long_term_circle(
    rules: GoverningRules,
    purpose: str,
    today: date,
    *,
    this_circle: str | None = None,
    **proposal: Any,
) -> str | None:
    """The circle whose consent a proposal needs because it is long-term (None: the circle
    decides it itself, because it is not long-term, or the rules name no such circle, or
    name `this_circle`, its own reference: a co-op's top circle)."""
    if rules.long_term_circle is None or rules.long_term_circle == this_circle:
        return None
    if not is_long_term(rules, purpose, today, **proposal):
        return None
    return rules.long_term_circle


def check_hat_may_plan(
    rules: GoverningRules, this_circle: str | None, kind: str, period_end: date, today: date
) -> None:
    """A hat wearer makes or revises a plan alone only for a period ending within six months:
    a longer one is a long-term decision, where the rules name a circle other than this one
    for them (shorter ones, and a co-op's top circle's own, stay with the hat)."""
    ref = rules.long_term_circle
    if ref is None or ref == this_circle or not lasts_long(period_end, today):
        return
    raise NotPermitted(
        f"A {kind} whose period ends six months or more from today is a long-term decision, "
        f"which belongs to the circle {ref}: bring a proposal to the circle, which asks it"
    )


def check_long_term_answered(long_term: str | None, answers: dict[str, Any], seat: str) -> None:
    """A long-term decision is not consented without the answer of the circle it belongs to."""
    if long_term is not None and seat not in answers:
        raise WrongStage(
            f"This is a long-term decision: it belongs to the circle {long_term}, whose "
            "consent it needs; wait for its answer (its own consent process) before closing"
        )


def check_long_term_consented(long_term: str | None, answers: dict[str, Any], seat: str) -> None:
    """A vote that carries a long-term decision needs the long-term circle's consent too."""
    check_long_term_answered(long_term, answers, seat)
    if long_term is not None and not answers[seat].consents:
        raise WrongStage(
            f"The circle {long_term}, to which this long-term decision belongs, objected: "
            "no vote carries it without that circle's consent"
        )
