"""Decisions: policies adopted by consent, everyday decisions within a hat's domain, challenges,
reviews, renewal, amendment, revocation, supersession and expiry."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from domain.decision import Decision
from domain.errors import InvalidRequest, NotPermitted, WrongStage
from domain.proposal import Proposal
from domain.values import DecisionKind, DecisionStatus, Integration, Purpose, Stage

ORGANISER = "care-commons-organiser"


def everyday(circle, today, **args) -> Decision:
    """Cleo, the care commons organiser, decides who cooks on Tuesdays."""
    return Decision.take_everyday(
        circle,
        "cleo",
        ORGANISER,
        "rota",
        "Tuesday cooks",
        "Dan and Eli cook on Tuesdays",
        today,
        **args,
    )


def changing(decision: Decision, purpose: str) -> dict:
    return {"purpose": purpose, "subject": {"decision_id": str(decision.id)}}


# Policies by consent.


def test_a_consented_policy_proposal_becomes_a_policy(circle, now, today, to_consent_round):
    # Cleo's proposal meets Dan's objection, integrated by adding a measure; then consented.
    proposal = to_consent_round(circle, review_date=date(2026, 9, 1))
    proposal.raise_objection(circle, "dan", "We will not know if it harms the rota", now)
    proposal.close_consent_round(circle, "ben", now)
    proposal.integrate(circle, "cleo", Integration.ADD_MEASURE, "Check the rota monthly", [1])
    proposal.open_consent_round(circle, "ben", now)
    for person_id in ("ada", "ben", "cleo", "dan"):
        proposal.consent(circle, person_id, now)
    assert proposal.close_consent_round(circle, "ben", now) == Stage.CONSENTED

    # The circle adopts it as a policy.
    policy = Decision.adopt(circle, proposal, today)
    assert policy.kind == DecisionKind.POLICY
    assert (policy.title, policy.text) == (proposal.title, proposal.text)
    assert (policy.taken_by, policy.proposal_id) == ("cleo", str(proposal.id))
    assert (policy.effective, policy.review_date) == (today, date(2026, 9, 1))
    assert policy.measures == ["Check the rota monthly"]
    assert policy.status == DecisionStatus.IN_FORCE
    assert policy.in_force


def test_a_policy_without_a_review_date_is_reviewed_after_a_year(circle, today, consented):
    # A consented proposal that named no review date.
    policy = Decision.adopt(circle, consented(circle), today)

    # It comes up for review a year later.
    assert policy.review_date == today + timedelta(days=365)


def test_only_a_consented_policy_proposal_is_adopted(
    circle, found_circle, today, to_consent_round, consented, unchanged
):
    # A proposal still in its consent round is not a policy.
    pending = to_consent_round(circle)
    with (
        unchanged(circle, pending),
        pytest.raises(WrongStage, match="Only a consented proposal makes or changes a policy"),
    ):
        Decision.adopt(circle, pending, today)

    # A consented proposal to change the aim is not a policy either.
    aim = consented(circle, purpose=Purpose.CHANGE_AIM, subject={"aim": "Feed everyone"})
    with unchanged(circle, aim), pytest.raises(InvalidRequest, match="is to change aim"):
        Decision.adopt(circle, aim, today)

    # Nor does another circle's consented proposal make a policy here.
    other = found_circle()
    theirs = consented(other)
    with unchanged(circle, theirs), pytest.raises(InvalidRequest, match="another circle"):
        Decision.adopt(circle, theirs, today)


# Everyday decisions by a hat wearer.


def test_a_hat_wearer_takes_an_everyday_decision_inside_the_hats_domain(circle, today):
    # Cleo, care commons organiser, decides about the rota: inside her hat's domain.
    decision = Decision.take_everyday(
        circle, "cleo", ORGANISER, " Rota ", "Tuesday cooks", "Dan and Eli cook on Tuesdays", today
    )

    # It is an operational decision, reviewed in half a year unless she says otherwise.
    assert decision.kind == DecisionKind.OPERATIONAL
    assert (decision.area, decision.hat_id, decision.taken_by) == ("Rota", ORGANISER, "cleo")
    assert decision.proposal_id is None
    assert decision.review_date == today + timedelta(days=183)
    assert decision.in_force


def test_an_everyday_decision_outside_the_hats_domain_is_refused(circle, today, unchanged):
    # Cleo tries to decide the budget with her organiser hat: outside its domain.
    with (
        unchanged(circle),
        pytest.raises(
            NotPermitted, match="'budget' is outside the domain of the care commons organiser hat"
        ),
    ):
        Decision.take_everyday(
            circle, "cleo", ORGANISER, "budget", "New oven", "Buy a new oven", today
        )


def test_only_the_wearer_takes_everyday_decisions_with_a_hat(circle, today, unchanged):
    # Dan does not wear the organiser hat.
    with (
        unchanged(circle),
        pytest.raises(
            NotPermitted, match="Only the care commons organiser can take everyday decisions"
        ),
    ):
        Decision.take_everyday(
            circle, "dan", ORGANISER, "rota", "Tuesday cooks", "I cook on Tuesdays", today
        )

    # Once Cleo steps back, she cannot either.
    circle.step_back("cleo", "cleo", today)
    with unchanged(circle), pytest.raises(NotPermitted, match="has stepped back"):
        everyday(circle, today)


@pytest.mark.parametrize(
    ("args", "match"),
    [
        ({"review_date": date(2026, 3, 2)}, "review date must be in the future"),
        ({"term_end": date(2026, 3, 1)}, "term must end in the future"),
    ],
)
def test_an_everyday_decision_looks_ahead(circle, today, unchanged, args, match):
    # Cleo's decision names a review date or an end that is not ahead of today.
    with unchanged(circle), pytest.raises(InvalidRequest, match=match):
        everyday(circle, today, **args)


def test_an_everyday_decision_names_its_area_title_and_text(circle, today, unchanged):
    # Without an area, a title or a text, it is refused.
    with unchanged(circle), pytest.raises(InvalidRequest, match="Say which area"):
        Decision.take_everyday(circle, "cleo", ORGANISER, " ", "Cooks", "Dan cooks", today)
    with unchanged(circle), pytest.raises(InvalidRequest, match="needs a title"):
        Decision.take_everyday(circle, "cleo", ORGANISER, "rota", "", "Dan cooks", today)
    with unchanged(circle), pytest.raises(InvalidRequest, match="needs its text"):
        Decision.take_everyday(circle, "cleo", ORGANISER, "rota", "Cooks", "", today)


def test_an_everyday_decision_is_challenged_by_a_proposal_and_amended(
    circle, now, today, to_consent_round
):
    # Cleo decides the Tuesday cooks.
    decision = everyday(circle, today)

    # Dan challenges it: a proposal to amend that decision.
    challenge = to_consent_round(
        circle,
        by="dan",
        text="Dan and Ada cook on Tuesdays",
        **changing(decision, "amend_decision"),
    )
    decision.challenge(circle, "dan", challenge)
    assert decision.challenges == [str(challenge.id)]

    # The circle consents to the amended decision, which takes effect.
    for person_id in ("ada", "ben", "cleo", "dan"):
        challenge.consent(circle, person_id, now)
    challenge.close_consent_round(circle, "ben", now)
    decision.amend(circle, challenge, today)
    assert decision.text == "Dan and Ada cook on Tuesdays"
    assert decision.status == DecisionStatus.AMENDED
    assert decision.in_force


def test_a_challenge_is_a_proposal_to_amend_or_revoke_that_decision(circle, now, today, unchanged):
    # Cleo decides the Tuesday cooks, and the Wednesday cooks.
    decision = everyday(circle, today)
    other = everyday(circle, today)

    # A policy proposal is no challenge; nor is a proposal about the other decision.
    policy = Proposal.draft(circle, "dan", "Cooks", "A new rota", now)
    with unchanged(decision), pytest.raises(InvalidRequest, match="A challenge is a proposal"):
        decision.challenge(circle, "dan", policy)
    about_other = Proposal.draft(
        circle, "dan", "Cooks", "No Wednesday cooks", now, **changing(other, "revoke_decision")
    )
    with unchanged(decision), pytest.raises(InvalidRequest, match="A challenge is a proposal"):
        decision.challenge(circle, "dan", about_other)

    # A proposal to revoke this decision is a challenge.
    revoke = Proposal.draft(
        circle,
        "dan",
        "Cooks",
        "No fixed Tuesday cooks",
        now,
        **changing(decision, "revoke_decision"),
    )
    decision.challenge(circle, "dan", revoke)
    assert decision.challenges == [str(revoke.id)]

    # Someone who left cannot challenge.
    circle.leave("eli", "eli", today)
    with unchanged(decision), pytest.raises(NotPermitted, match="has left the circle"):
        decision.challenge(circle, "eli", revoke)


def test_a_policy_is_changed_by_a_proposal_not_challenged(circle, now, today, consented, unchanged):
    # The circle has a policy.
    policy = Decision.adopt(circle, consented(circle), today)

    # Dan drafts a proposal to amend it: that is the way, not a challenge.
    proposal = Proposal.draft(
        circle,
        "dan",
        "Sundays",
        "Only two Sundays a month",
        now,
        **changing(policy, "amend_decision"),
    )
    with unchanged(policy), pytest.raises(WrongStage, match="not a challenge"):
        policy.challenge(circle, "dan", proposal)


# Reviews, renewal, amendment, revocation, supersession and expiry.


def test_a_decision_comes_up_for_review_on_its_review_date(circle, today, unchanged):
    # Cleo's everyday decision is reviewed on 1 June.
    decision = everyday(circle, today, review_date=date(2026, 6, 1))

    # Before that date it is not due, and cannot be marked due.
    assert not decision.is_review_due(date(2026, 5, 31))
    with (
        unchanged(decision),
        pytest.raises(WrongStage, match="not due for review until 2026-06-01"),
    ):
        decision.mark_review_due(date(2026, 5, 31))

    # On that date (and after) it is due; marked due, it is still in force.
    assert decision.is_review_due(date(2026, 6, 1))
    assert decision.is_review_due(date(2026, 7, 1))
    decision.mark_review_due(date(2026, 6, 1))
    assert decision.status == DecisionStatus.REVIEW_DUE
    assert decision.in_force

    # It is not marked due twice.
    with unchanged(decision), pytest.raises(WrongStage, match="This decision is review due"):
        decision.mark_review_due(date(2026, 6, 2))


def test_a_policy_is_renewed_by_a_consented_proposal_naming_it(
    circle, today, consented, to_consent_round, unchanged
):
    # The circle's policy comes up for review.
    policy = Decision.adopt(circle, consented(circle, review_date=date(2026, 6, 1)), today)
    policy.mark_review_due(date(2026, 6, 1))

    # A renewal still in its consent round does not renew it.
    pending = to_consent_round(
        circle, review_date=date(2027, 6, 1), **changing(policy, "renew_decision")
    )
    with unchanged(policy), pytest.raises(WrongStage, match="Only a consented proposal"):
        policy.renew(circle, pending, date(2026, 6, 1))

    # A consented amendment is no renewal.
    amendment = consented(circle, **changing(policy, "amend_decision"))
    with unchanged(policy), pytest.raises(InvalidRequest, match="is to amend decision"):
        policy.renew(circle, amendment, date(2026, 6, 1))

    # The consented renewal renews it until its new review date.
    renewal = consented(circle, review_date=date(2027, 6, 1), **changing(policy, "renew_decision"))
    policy.renew(circle, renewal, date(2026, 6, 1))
    assert (policy.status, policy.review_date) == (DecisionStatus.RENEWED, date(2027, 6, 1))
    assert not policy.is_review_due(date(2026, 12, 1))


def test_a_proposal_about_another_decision_does_not_change_this_one(
    circle, today, consented, unchanged
):
    # The circle has two policies; a renewal of the first is consented.
    first = Decision.adopt(circle, consented(circle), today)
    second = Decision.adopt(circle, consented(circle), today)
    renewal = consented(circle, **changing(first, "renew_decision"))

    # It does not renew the second.
    with unchanged(second), pytest.raises(InvalidRequest, match="about another decision"):
        second.renew(circle, renewal, today)


def test_a_policy_is_amended_by_a_consented_proposal(circle, today, consented):
    # The circle's policy.
    policy = Decision.adopt(circle, consented(circle, text="Open on Sundays"), today)

    # A consented amendment with a new text and a review date.
    amendment = consented(
        circle,
        text="Open on the first Sunday of the month",
        review_date=date(2026, 12, 1),
        **changing(policy, "amend_decision"),
    )
    policy.amend(circle, amendment, today)

    # The policy reads as amended, until its new review.
    assert policy.text == "Open on the first Sunday of the month"
    assert (policy.status, policy.review_date) == (DecisionStatus.AMENDED, date(2026, 12, 1))


def test_a_revoked_policy_is_no_longer_in_force(circle, today, consented, unchanged):
    # The circle revokes its policy by consent.
    policy = Decision.adopt(circle, consented(circle), today)
    revocation = consented(circle, **changing(policy, "revoke_decision"))
    policy.revoke(circle, revocation)
    assert policy.status == DecisionStatus.REVOKED
    assert not policy.in_force

    # It is never due for review, nor renewed, nor revoked again.
    assert not policy.is_review_due(today + timedelta(days=400))
    with unchanged(policy), pytest.raises(WrongStage, match="This decision is revoked"):
        policy.mark_review_due(today + timedelta(days=400))
    renewal = consented(circle, **changing(policy, "renew_decision"))
    with unchanged(policy), pytest.raises(WrongStage, match="already revoked"):
        policy.renew(circle, renewal, today)
    with unchanged(policy), pytest.raises(WrongStage, match="already revoked"):
        policy.revoke(circle, revocation)


def test_a_newer_policy_supersedes_an_older_one(circle, found_circle, today, consented, unchanged):
    # The circle has a policy; later it adopts a newer one on the same matter.
    old = Decision.adopt(circle, consented(circle), today)
    new = Decision.adopt(circle, consented(circle), today + timedelta(days=30))

    # A decision does not supersede itself, and another circle's policy does not supersede it.
    with unchanged(old), pytest.raises(InvalidRequest, match="superseded by another decision"):
        old.supersede(old)
    other_circle = found_circle()
    foreign = Decision.adopt(other_circle, consented(other_circle), today)
    with unchanged(old), pytest.raises(InvalidRequest, match="superseded by another decision"):
        old.supersede(foreign)

    # The newer policy supersedes it.
    old.supersede(new)
    assert (old.status, old.superseded_by) == (DecisionStatus.SUPERSEDED, str(new.id))
    assert not old.in_force

    # Superseded once is enough.
    with unchanged(old), pytest.raises(WrongStage, match="already superseded"):
        old.supersede(new)


def test_an_everyday_decision_does_not_supersede_a_policy(circle, today, consented, unchanged):
    # The circle has a policy; Cleo takes an everyday decision.
    policy = Decision.adopt(circle, consented(circle), today)
    decision = everyday(circle, today)

    # Her everyday decision cannot take the policy's place: only a newer policy can.
    with unchanged(policy), pytest.raises(InvalidRequest, match="policy"):
        policy.supersede(decision)


def test_a_decision_with_a_term_expires_when_its_term_ends(circle, today, unchanged):
    # Cleo decides the summer rota, ending on 31 August.
    decision = everyday(circle, today, term_end=date(2026, 8, 31))

    # It does not expire before then.
    with unchanged(decision), pytest.raises(WrongStage, match="term has not ended"):
        decision.expire(date(2026, 8, 30))

    # On its last day it expires and is no longer in force or due for review.
    decision.expire(date(2026, 8, 31))
    assert decision.status == DecisionStatus.EXPIRED
    assert not decision.in_force
    assert not decision.is_review_due(date(2026, 12, 31))
    with unchanged(decision), pytest.raises(WrongStage, match="already expired"):
        decision.expire(date(2026, 9, 1))


def test_a_decision_without_a_term_does_not_expire(circle, today, unchanged):
    # Cleo's everyday decision names no end.
    decision = everyday(circle, today)

    # It never expires by itself.
    with unchanged(decision), pytest.raises(WrongStage, match="term has not ended"):
        decision.expire(date(2030, 1, 1))
