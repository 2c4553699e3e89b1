"""Long-term decisions: a proposal whose effect lasts six months or more, or whose topic the
rules name, belongs to the circle the rules name for it (the co-op's members' meeting or
purpose circle, on another node). The kitchen circle asks it as federated consent asks, by
itself, whoever drafts the proposal, and cannot adopt the decision without its consent.

The co-op's circle is COOP (a reference, its node id); NOW is Monday 2 March 2026.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from domain.consent import circle_seat
from domain.decision import DEFAULT_REVIEW_DAYS
from domain.errors import WrongStage
from domain.long_term import POLICY_REVIEW_DAYS, add_months, is_long_term
from domain.proposal import Proposal
from domain.records import GoverningRules
from domain.values import DecisionKind, DecisionMethod, Integration, Mode, Purpose, Stage

COOP = "node-coop"
GARDEN = "node-garden"
SIX_MONTHS = date(2026, 9, 2)  # six months after NOW
RULES = GoverningRules(long_term_circle=COOP, long_term_topics=["budget", "premises"])


@pytest.fixture
def member_circle(found_circle):
    """The kitchen circle, part of the co-op: its rules send long-term decisions there."""
    return found_circle(rules=RULES)


def everyone_consents(proposal, circle, now):
    for person_id in circle.full_participants():
        proposal.consent(circle, person_id, now)


# What is long-term.


def test_six_months_is_counted_in_calendar_months():
    assert add_months(date(2026, 3, 2), 6) == SIX_MONTHS
    # A month with fewer days ends on its last day.
    assert add_months(date(2026, 8, 31), 6) == date(2027, 2, 28)
    assert add_months(date(2026, 12, 15), 1) == date(2027, 1, 15)


def test_a_policy_reviewed_six_months_or_more_ahead_is_long_term(today):
    # A policy reviewed six months from today or later is long-term; one reviewed sooner is not.
    assert is_long_term(RULES, Purpose.ADOPT_POLICY, today, review_date=SIX_MONTHS)
    assert is_long_term(RULES, Purpose.ADOPT_POLICY, today, review_date=date(2027, 3, 1))
    last_short_day = SIX_MONTHS - timedelta(days=1)
    assert not is_long_term(RULES, Purpose.ADOPT_POLICY, today, review_date=last_short_day)

    # A policy proposal that names no review date is reviewed after a year: long-term.
    assert is_long_term(RULES, Purpose.ADOPT_POLICY, today)
    assert DEFAULT_REVIEW_DAYS[DecisionKind.POLICY] == POLICY_REVIEW_DAYS


def test_amending_or_renewing_reads_the_default_review_of_the_decisions_kind(today):
    for purpose in (Purpose.AMEND_DECISION, Purpose.RENEW_DECISION):
        # A policy amended or renewed without a review date: another year, long-term.
        assert is_long_term(RULES, purpose, today, decision_kind=DecisionKind.POLICY)
        assert is_long_term(RULES, purpose, today)  # a kind not known counts as a policy
        # An everyday decision amended or renewed without one stays everyday.
        assert not is_long_term(RULES, purpose, today, decision_kind=DecisionKind.OPERATIONAL)
        # Unless the proposal names a review date six months or more ahead.
        assert is_long_term(
            RULES, purpose, today, review_date=SIX_MONTHS, decision_kind=DecisionKind.OPERATIONAL
        )


def test_a_topic_the_rules_name_is_long_term_whatever_its_term(today):
    soon = today + timedelta(days=30)
    for purpose in (
        Purpose.ADOPT_POLICY,
        Purpose.REVOKE_DECISION,
        Purpose.CHANGE_AIM,
        Purpose.CHANGE_DOMAIN,
        Purpose.ADOPT_PLAN,
        Purpose.REVISE_PLAN,
    ):
        assert is_long_term(RULES, purpose, today, review_date=soon, topic=" budget ")
        assert not is_long_term(RULES, purpose, today, review_date=soon, topic="rota")


def test_selections_and_relationship_steps_are_never_long_term(today):
    for purpose in (
        Purpose.REQUEST_PEERING,
        Purpose.APPLY_TO_COOP,
        Purpose.ANSWER_CONSENT_REQUEST,
        Purpose.REQUEST_SUPPORT,
        Purpose.GO_INDEPENDENT,
        Purpose.REMOVE_PARTICIPANT,
    ):
        assert not is_long_term(RULES, purpose, today, topic="budget")


def test_changing_who_decides_long_term_decisions_is_itself_long_term(today):
    # A circle cannot take back alone what is not its own to decide.
    for subject in ({"long_term_circle": None}, {"long_term_topics": []}):
        assert is_long_term(RULES, Purpose.CHANGE_RULES, today, subject=subject)
    # Its other rules are its own.
    assert not is_long_term(RULES, Purpose.CHANGE_RULES, today, subject={"quorum_percent": 60})


def test_a_plan_by_consent_is_long_term_when_its_period_ends_six_months_or_more_ahead(today):
    # A budget or plan governs its period: the period's end is how long it lasts.
    for purpose in (Purpose.ADOPT_PLAN, Purpose.REVISE_PLAN):
        assert is_long_term(RULES, purpose, today, period_end=SIX_MONTHS)
        last_short_day = SIX_MONTHS - timedelta(days=1)
        assert not is_long_term(RULES, purpose, today, period_end=last_short_day)
        # A review date after a short period prolongs nothing.
        assert not is_long_term(
            RULES, purpose, today, period_end=last_short_day, review_date=date(2027, 3, 1)
        )


# Drafting asks the long-term circle.


def test_a_long_term_proposal_asks_the_long_term_circle_whoever_drafts_it(member_circle, now):
    # Cleo drafts a policy for a year without naming the co-op; Dan one that asks the garden.
    proposal = Proposal.draft(member_circle, "cleo", "Lease", "Rent the hall for a year.", now)
    also = Proposal.draft(
        member_circle, "dan", "Shared hall", "Share it.", now, ask_circles=[GARDEN, COOP]
    )

    # Both ask the co-op, once, and record that the decision belongs there.
    assert proposal.asked_circles == [COOP]
    assert proposal.long_term_circle == COOP
    assert also.asked_circles == sorted([GARDEN, COOP])
    assert also.long_term_circle == COOP


def test_an_everyday_proposal_asks_nobody_it_does_not_name(member_circle, now):
    review = now.date() + timedelta(days=90)
    proposal = Proposal.draft(
        member_circle, "cleo", "Trial rota", "Try a rota.", now, review_date=review
    )
    assert proposal.asked_circles == []
    assert proposal.long_term_circle is None


def test_a_circle_whose_rules_name_no_long_term_circle_decides_them_itself(circle, now):
    # The co-op's own circle: its rules name none, so a policy for years is its own.
    proposal = Proposal.draft(circle, "cleo", "Lease", "Rent the hall.", now, topic="budget")
    assert proposal.asked_circles == []
    assert proposal.long_term_circle is None


def test_a_circle_whose_rules_name_itself_decides_them_itself(found_circle, now):
    # The co-op's own circle names itself in its rules (its node id is COOP).
    coop = found_circle(rules=RULES, parent=None)
    proposal = Proposal.draft(coop, "cleo", "Lease", "Rent the hall.", now, this_circle=COOP)
    assert proposal.asked_circles == [] and proposal.long_term_circle is None


# Closing the round.


def test_a_long_term_decision_is_consented_with_the_long_term_circles_consent(
    member_circle, now, to_consent_round
):
    # The circle consents to Cleo's year-long policy; the co-op consents by its own process.
    proposal = to_consent_round(member_circle, title="Lease", text="Rent the hall for a year.")
    everyone_consents(proposal, member_circle, now)
    proposal.record_circle_answer(member_circle, COOP, 1, True)

    # The round closes: consented, the co-op's consent on record.
    assert proposal.close_consent_round(member_circle, "ben", now) == Stage.CONSENTED
    assert circle_seat(COOP) in proposal.rounds[-1].consents


def test_a_long_term_decision_past_its_deadline_is_not_consented_without_the_long_term_circle(
    member_circle, now, to_consent_round, unchanged
):
    # An asynchronous year-long policy; everyone consents, the co-op has not answered.
    deadline = now + timedelta(days=7)
    proposal = to_consent_round(member_circle, mode=Mode.ASYNC, deadline=deadline)
    everyone_consents(proposal, member_circle, now)

    # Before the deadline the round waits for it, as for any asked circle; after it, the
    # silent co-op does not count as consenting (as an absent member would).
    for when in (now, deadline + timedelta(hours=1)):
        with (
            unchanged(proposal, member_circle),
            pytest.raises(WrongStage, match=f"long-term decision: it belongs to the circle {COOP}"),
        ):
            proposal.close_consent_round(member_circle, "ben", when)

    # Nor does the calendar close it at its deadline.
    with (
        unchanged(proposal, member_circle),
        pytest.raises(WrongStage, match="long-term decision"),
    ):
        proposal.close_at_deadline(member_circle, deadline + timedelta(hours=1))

    # Once it answers, the round closes.
    proposal.record_circle_answer(member_circle, COOP, 1, True)
    assert proposal.close_consent_round(member_circle, "ben", deadline) == Stage.CONSENTED


def test_the_long_term_circles_objection_blocks_and_is_integrated(
    member_circle, now, to_consent_round
):
    # The co-op objects to Cleo's year-long lease; everyone here consented.
    proposal = to_consent_round(member_circle, title="Lease", text="Rent the hall for a year.")
    everyone_consents(proposal, member_circle, now)
    proposal.record_circle_answer(member_circle, COOP, 1, False, "The co-op's budget is set")

    # Its objection blocks: the proposal goes to integration.
    assert proposal.close_consent_round(member_circle, "ben", now) == Stage.INTEGRATING
    [objection] = proposal.open_objections()
    assert objection.person_id == circle_seat(COOP)

    # The term is shortened; the next round asks the co-op again, which consents.
    proposal.integrate(
        member_circle,
        "cleo",
        Integration.SHORTEN_TERM,
        "Three months, then we look again",
        [1],
        now.date() + timedelta(days=90),
    )
    proposal.open_consent_round(member_circle, "ben", now)
    everyone_consents(proposal, member_circle, now)
    proposal.record_circle_answer(member_circle, COOP, 2, True)
    assert proposal.close_consent_round(member_circle, "ben", now) == Stage.CONSENTED


def test_an_own_objection_sends_a_long_term_decision_to_integration_without_waiting(
    member_circle, now, to_consent_round
):
    # An asynchronous round past its deadline: Dan objected; the co-op did not answer.
    deadline = now + timedelta(days=7)
    proposal = to_consent_round(member_circle, mode=Mode.ASYNC, deadline=deadline)
    proposal.raise_objection(member_circle, "dan", "We cannot afford a year", now)
    assert proposal.close_consent_round(member_circle, "ben", deadline) == Stage.INTEGRATING


def test_a_vote_does_not_carry_a_long_term_decision_without_the_long_term_circle(
    found_circle, now, to_consent_round, unchanged
):
    # The circle decides by formal vote; its year-long policy reaches the round.
    circle = found_circle(
        rules=GoverningRules(decision_method=DecisionMethod.FORMAL_VOTE, long_term_circle=COOP)
    )
    proposal = to_consent_round(circle)

    # The secretary cannot record a vote that carries it before the co-op answered.
    with unchanged(proposal, circle), pytest.raises(WrongStage, match="long-term decision"):
        proposal.record_vote(circle, "ada", 4, 0, 0)

    # Nor after the co-op objected.
    proposal.record_circle_answer(circle, COOP, 1, False, "Not for a year")
    with unchanged(proposal, circle), pytest.raises(WrongStage, match="objected"):
        proposal.record_vote(circle, "ada", 4, 0, 0)

    # A vote that does not carry it is recorded as any.
    assert proposal.record_vote(circle, "ada", 1, 3, 0) == Stage.NOT_CARRIED


def test_a_vote_carries_a_long_term_decision_the_long_term_circle_consented_to(
    found_circle, now, to_consent_round
):
    circle = found_circle(
        rules=GoverningRules(decision_method=DecisionMethod.FORMAL_VOTE, long_term_circle=COOP)
    )
    proposal = to_consent_round(circle)
    proposal.record_circle_answer(circle, COOP, 1, True)
    assert proposal.record_vote(circle, "ada", 4, 0, 0) == Stage.CONSENTED


# Budgets and plans.


def test_a_years_budget_by_consent_asks_the_long_term_circle(member_circle, now):
    # Cleo proposes the year's budget; Dan a budget for the spring quarter.
    year = {"kind": "budget", "period_start": "2026-04-01", "period_end": "2027-03-31"}
    quarter = {**year, "period_end": "2026-06-30"}
    budget = Proposal.draft(
        member_circle, "cleo", "Budget", "A year", now, purpose=Purpose.ADOPT_PLAN, subject=year
    )
    spring = Proposal.draft(
        member_circle,
        "dan",
        "Spring",
        "A quarter",
        now,
        purpose=Purpose.ADOPT_PLAN,
        subject=quarter,
    )

    # The year's belongs to the co-op; the quarter's is the circle's own.
    assert budget.long_term_circle == COOP and budget.asked_circles == [COOP]
    assert spring.long_term_circle is None and spring.asked_circles == []


def test_a_revision_by_consent_reads_the_period_it_gives_the_plan(member_circle, now):
    # The node reads the period a revision gives the plan (node/app/proposals.py `draft`).
    def revision(period_end):
        return Proposal.draft(
            member_circle,
            "cleo",
            "Longer",
            "Run on",
            now,
            purpose=Purpose.REVISE_PLAN,
            subject={"plan_id": "p1"},
            plan_period_end=period_end,
        )

    assert revision(SIX_MONTHS).long_term_circle == COOP
    assert revision(SIX_MONTHS - timedelta(days=1)).long_term_circle is None


LOS_ANGELES = GoverningRules(
    long_term_circle=COOP, long_term_topics=[], time_zone="America/Los_Angeles"
)
EVENING_OF_1_MARCH = datetime(2026, 3, 2, 3, 0, tzinfo=UTC)  # 19:00 on 1 March there


def test_drafting_reads_dates_in_the_circles_time_zone(found_circle):
    # Given: a circle in Los Angeles, on the evening of 1 March (2 March in UTC).
    circle = found_circle(rules=LOS_ANGELES)

    def plan(period_end):
        subject = {"kind": "plan", "period_start": "2026-03-01", "period_end": period_end}
        return Proposal.draft(
            circle,
            "cleo",
            "Plan",
            "Text",
            EVENING_OF_1_MARCH,
            purpose=Purpose.ADOPT_PLAN,
            subject=subject,
            review_date=date(2026, 3, 15),
        )

    # Then: a plan for a period ending today there has not ended,
    assert plan("2026-03-01").long_term_circle is None
    # and six months are counted from 1 March: a plan to 1 September is long-term.
    assert plan("2026-09-01").long_term_circle == COOP
