"""The circle's budget and plans: made and revised by consent, or by the hat whose domain it is
(Dan wears the treasurer hat, whose domain is the budget; Cleo the care commons organiser's,
whose domain is the rota and supplies); each has a period and a review date that comes due.

NOW is Monday 2 March 2026.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from domain.errors import InvalidRequest, NotPermitted, WrongStage
from domain.plan import Plan, PlanKind, plan_terms
from domain.proposal import Proposal
from domain.records import GoverningRules
from domain.values import Purpose

FOUNDED = date(2026, 1, 5)  # as tests/domain/conftest.py founds the circle
ORGANISER = "care-commons-organiser"

TREASURER = "treasurer"
COOP = "node-coop"
SIX_MONTHS = date(2026, 9, 2)  # six months after NOW
QUARTER = {"period_start": "2026-04-01", "period_end": "2026-06-30"}


@pytest.fixture
def circle(found_circle):
    """The kitchen circle, with Dan wearing the treasurer hat (domain: budget)."""
    circle = found_circle()
    circle.define_hat("ada", "Treasurer", "Keeps the accounts", ["Budget"], ["budget"], 12)
    circle.put_on_hat(TREASURER, "dan", FOUNDED, date(2026, 12, 31))
    circle.collect_events()
    return circle


def budget_by_dan(circle, today, **terms):
    args = {"period_start": date(2026, 4, 1), "period_end": date(2026, 6, 30)} | terms
    return Plan.make(
        circle, "dan", TREASURER, PlanKind.BUDGET, "Spring budget", "Food and fuel", today, **args
    )


# By consent.


def test_a_consented_proposal_adopts_a_budget(circle, consented, today):
    # The circle consents to Cleo's budget for the spring quarter, reviewed in May.
    proposal = consented(
        circle,
        title="Spring budget",
        text="Food 800, fuel 400",
        purpose=Purpose.ADOPT_PLAN,
        subject={"kind": "budget", **QUARTER, "amount": "1200.00", "currency": "gbp"},
        review_date=date(2026, 5, 15),
    )

    # It becomes the circle's budget for that period.
    plan = Plan.adopt(circle, proposal, today)
    assert (plan.kind, plan.title, plan.text) == ("budget", "Spring budget", "Food 800, fuel 400")
    assert (plan.period_start, plan.period_end) == (date(2026, 4, 1), date(2026, 6, 30))
    assert plan.review_date == date(2026, 5, 15)
    assert (plan.amount, plan.currency) == ("1200.00", "GBP")
    assert plan.proposal_id == str(proposal.id) and plan.hat_id is None
    assert plan.made_by == "cleo" and plan.is_current(today)


def test_a_plan_without_a_review_date_is_reviewed_at_its_periods_end(circle, consented, today):
    proposal = consented(circle, purpose=Purpose.ADOPT_PLAN, subject={"kind": "plan", **QUARTER})
    plan = Plan.adopt(circle, proposal, today)
    assert plan.review_date == date(2026, 6, 30) and plan.amount is None


def test_only_a_consented_plan_proposal_adopts_a_plan(circle, to_consent_round, consented, today):
    in_round = to_consent_round(
        circle, purpose=Purpose.ADOPT_PLAN, subject={"kind": "plan", **QUARTER}
    )
    with pytest.raises(WrongStage, match="Only a consented proposal makes or revises a plan"):
        Plan.adopt(circle, in_round, today)
    policy = consented(circle)
    with pytest.raises(InvalidRequest, match="That proposal is to adopt policy"):
        Plan.adopt(circle, policy, today)


@pytest.mark.parametrize(
    ("subject", "reason"),
    [
        ({"kind": "wish", **QUARTER}, "kind of plan"),
        ({"kind": "plan", "period_start": "April", "period_end": "2026-06-30"}, "is a date"),
        ({"kind": "plan", "period_start": "2026-06-30", "period_end": "2026-04-01"}, "ends on"),
        ({"kind": "plan", "period_start": "2025-01-01", "period_end": "2025-12-31"}, "has ended"),
        ({"kind": "plan", **QUARTER, "amount": "5"}, "Only a budget has an amount"),
        ({"kind": "budget", **QUARTER, "amount": "-5", "currency": "GBP"}, "a number from 0"),
        ({"kind": "budget", **QUARTER, "amount": "lots", "currency": "GBP"}, "is a number"),
        ({"kind": "budget", **QUARTER, "amount": 5}, "three-letter code"),
        ({"kind": "budget", **QUARTER, "currency": "GBP"}, "A currency goes with an amount"),
    ],
)
def test_a_plan_proposal_must_name_terms_that_fit(circle, now, subject, reason):
    with pytest.raises(InvalidRequest, match=reason):
        Proposal.draft(
            circle, "cleo", "Plan", "Text", now, purpose=Purpose.ADOPT_PLAN, subject=subject
        )


def test_a_plan_proposal_names_its_kind_and_period(circle, now):
    with pytest.raises(InvalidRequest, match="A proposal to adopt plan must name period_end"):
        Proposal.draft(
            circle,
            "cleo",
            "Plan",
            "Text",
            now,
            purpose=Purpose.ADOPT_PLAN,
            subject={"kind": "plan", "period_start": "2026-04-01"},
        )


def test_a_consented_revision_changes_what_it_names(circle, consented, today):
    plan = budget_by_dan(circle, today, amount="1000", currency="EUR")
    revision = consented(
        circle,
        text="Food 900, fuel 400",
        purpose=Purpose.REVISE_PLAN,
        subject={"plan_id": str(plan.id), "amount": "1300", "period_end": "2026-07-31"},
    )
    plan.revise(circle, revision, today)
    assert plan.text == "Food 900, fuel 400" and plan.revisions == 1
    assert (plan.amount, plan.currency) == ("1300", "EUR")
    assert plan.period_end == date(2026, 7, 31) and plan.period_start == date(2026, 4, 1)


def test_a_revision_about_another_plan_is_refused(circle, consented, today, unchanged):
    plan = budget_by_dan(circle, today)
    other = budget_by_dan(circle, today)
    revision = consented(circle, purpose=Purpose.REVISE_PLAN, subject={"plan_id": str(other.id)})
    with unchanged(plan), pytest.raises(InvalidRequest, match="about another plan"):
        plan.revise(circle, revision, today)


# By the hat whose domain it is.


def test_the_treasurer_makes_and_revises_the_budget(circle, today):
    # Dan, the treasurer, sets the spring budget.
    plan = budget_by_dan(circle, today, amount=1200, currency="GBP")
    assert (plan.made_by, plan.hat_id, plan.proposal_id) == ("dan", TREASURER, None)
    assert plan.amount == "1200" and plan.review_date == date(2026, 6, 30)

    # He revises it: a new text and a review date; the rest stays.
    plan.revise_by_hat(circle, "dan", TREASURER, "Food 900", today, review_date=date(2026, 5, 1))
    assert plan.text == "Food 900" and plan.review_date == date(2026, 5, 1)
    assert plan.amount == "1200" and plan.revisions == 1


def test_a_hat_whose_domain_does_not_cover_it_cannot_make_a_budget_or_plan(circle, today):
    # Cleo's hat covers the rota and supplies: not the budget, nor plans.
    for kind in (PlanKind.BUDGET, PlanKind.PLAN):
        with pytest.raises(NotPermitted, match="outside the domain of the care commons organiser"):
            Plan.make(
                circle,
                "cleo",
                ORGANISER,
                kind,
                "Budget",
                "Text",
                today,
                period_start=date(2026, 4, 1),
                period_end=date(2026, 6, 30),
            )
    # The treasurer's hat covers the budget, not plans.
    with pytest.raises(NotPermitted, match="must cover 'plans'"):
        Plan.make(
            circle,
            "dan",
            TREASURER,
            PlanKind.PLAN,
            "Plan",
            "Text",
            today,
            period_start=date(2026, 4, 1),
            period_end=date(2026, 6, 30),
        )


def test_only_the_hats_wearer_makes_or_revises_with_it(circle, today, unchanged):
    with pytest.raises(NotPermitted):
        Plan.make(
            circle,
            "ben",
            TREASURER,
            PlanKind.BUDGET,
            "Budget",
            "Text",
            today,
            period_start=date(2026, 4, 1),
            period_end=date(2026, 6, 30),
        )
    plan = budget_by_dan(circle, today)
    with unchanged(plan), pytest.raises(NotPermitted):
        plan.revise_by_hat(circle, "ben", TREASURER, "Mine now", today)


def test_a_revision_by_hat_must_fit(circle, today, unchanged):
    plan = budget_by_dan(circle, today)
    with unchanged(plan), pytest.raises(InvalidRequest, match="ends on or after"):
        plan.revise_by_hat(circle, "dan", TREASURER, "Text", today, period_end=date(2026, 3, 1))
    with unchanged(plan), pytest.raises(InvalidRequest, match="needs its text"):
        plan.revise_by_hat(circle, "dan", TREASURER, "  ", today)


def test_a_long_lasting_plan_by_hat_goes_to_the_circle_where_the_rules_name_another(
    found_circle, today, unchanged
):
    # Given: Dan's treasurer hat, in a circle whose rules send long-term decisions to the co-op.
    circle = found_circle(rules=GoverningRules(long_term_circle=COOP))
    circle.define_hat("ada", "Treasurer", "Keeps the accounts", ["Budget"], ["budget"], 12)
    circle.put_on_hat(TREASURER, "dan", FOUNDED, date(2026, 12, 31))

    # When: Dan makes a budget that runs six months or more: refused, with what to do instead.
    with pytest.raises(NotPermitted, match="bring a proposal to the circle"):
        budget_by_dan(circle, today, period_end=SIX_MONTHS)

    # A shorter one stays with the hat, but cannot be revised to run six months or more.
    plan = budget_by_dan(circle, today, period_end=SIX_MONTHS - timedelta(days=1))
    with unchanged(plan), pytest.raises(NotPermitted, match="long-term decision"):
        plan.revise_by_hat(circle, "dan", TREASURER, "Longer", today, period_end=SIX_MONTHS)


def test_a_circle_naming_itself_or_nobody_lets_the_hat_plan_for_a_year(found_circle, today):
    for rules, this_circle in ((GoverningRules(long_term_circle=COOP), COOP), (None, None)):
        circle = found_circle(rules=rules)
        circle.define_hat("ada", "Treasurer", "Keeps the accounts", ["Budget"], ["budget"], 12)
        circle.put_on_hat(TREASURER, "dan", FOUNDED, date(2026, 12, 31))
        plan = Plan.make(
            circle,
            "dan",
            TREASURER,
            PlanKind.BUDGET,
            "Budget",
            "A year",
            today,
            period_start=date(2026, 4, 1),
            period_end=date(2027, 3, 31),
            this_circle=this_circle,
        )
        plan.revise_by_hat(
            circle,
            "dan",
            TREASURER,
            "Longer",
            today,
            this_circle=this_circle,
            period_end=date(2027, 6, 30),
        )
        assert plan.period_end == date(2027, 6, 30)


def test_dates_are_read_in_the_circles_time_zone(found_circle):
    # A circle in Los Angeles at 03:00 UTC on 2 March: still 1 March there.
    circle = found_circle(rules=GoverningRules(time_zone="America/Los_Angeles"))
    evening = datetime(2026, 3, 2, 3, 0, tzinfo=UTC)
    subject = {"kind": "plan", "period_start": "2026-02-01", "period_end": "2026-03-01"}

    # A plan for a period ending on 1 March has not ended: it is accepted.
    proposal = Proposal.draft(
        circle,
        "cleo",
        "Plan",
        "Text",
        evening,
        purpose=Purpose.ADOPT_PLAN,
        subject=subject,
        review_date=date(2026, 3, 15),
    )
    assert proposal.subject["period_end"] == "2026-03-01"


# Its review.


def test_a_plans_review_comes_due(circle, today, unchanged):
    plan = budget_by_dan(circle, today, review_date=date(2026, 5, 1))
    with unchanged(plan), pytest.raises(WrongStage, match="not due for review until 2026-05-01"):
        plan.mark_review_due(today)
    plan.mark_review_due(date(2026, 5, 1))
    assert plan.review_due
    with unchanged(plan), pytest.raises(WrongStage, match="already due"):
        plan.mark_review_due(date(2026, 5, 2))

    # A revision sets the next review.
    plan.revise_by_hat(
        circle, "dan", TREASURER, "Again", date(2026, 5, 2), review_date=date(2026, 6, 1)
    )
    assert not plan.review_due


def test_a_plan_is_current_until_its_period_ends(circle, today):
    plan = budget_by_dan(circle, today)
    assert plan.is_current(today)  # not started yet: still to come
    assert plan.is_current(date(2026, 6, 30))
    assert not plan.is_current(date(2026, 7, 1))


def test_terms_checked_at_drafting_are_not_undone_by_a_slow_consent():
    # Carried out after the period ended: no date is checked against today again.
    terms = plan_terms("plan", "2026-04-01", "2026-06-30", None, None, None, None)
    assert terms.review_date == date(2026, 6, 30)
