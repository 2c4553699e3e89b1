"""Absent full participants: the circle's absentee policy, in meetings and asynchronously."""

from __future__ import annotations

from datetime import timedelta

import pytest

from domain.errors import InvalidRequest, NotPermitted, WrongStage
from domain.proposal import Proposal
from domain.records import GoverningRules
from domain.values import AbsenteePolicy, Mode, Stage


def rules(policy: str) -> GoverningRules:
    return GoverningRules(absentee_policy=policy)


# In a meeting.


def test_in_a_meeting_absentees_who_cannot_object_do_not_hold_up_consent(
    found_circle, now, to_consent_round
):
    # The circle's policy: absent members cannot object (the default).
    circle = found_circle()
    assert circle.rules.absentee_policy == AbsenteePolicy.CANNOT_OBJECT

    # In the meeting, three full participants consent; Dan is away.
    proposal = to_consent_round(circle)
    for person_id in ("ada", "ben", "cleo"):
        proposal.consent(circle, person_id, now)

    # The round closes consented, and Dan is recorded as missing.
    assert proposal.close_consent_round(circle, "ben", now) == Stage.CONSENTED
    assert proposal.rounds[0].missing == ["dan"]


def test_in_a_meeting_absentees_who_consent_later_must_consent_before_it_is_consented(
    found_circle, now, to_consent_round, unchanged
):
    # The circle's policy: absent members consent afterwards.
    circle = found_circle(rules=rules(AbsenteePolicy.CONSENT_LATER))

    # In the meeting, three full participants consent; Dan is away.
    proposal = to_consent_round(circle)
    for person_id in ("ada", "ben", "cleo"):
        proposal.consent(circle, person_id, now)

    # The round cannot close until Dan has consented.
    with (
        unchanged(proposal, circle),
        pytest.raises(WrongStage, match=r"1 absent full participant\(s\) must consent afterwards"),
    ):
        proposal.close_consent_round(circle, "ben", now)
    assert proposal.stage == Stage.CONSENT_ROUND

    # Dan consents the next day; now the round closes consented.
    later = now + timedelta(days=1)
    proposal.consent(circle, "dan", later)
    assert proposal.close_consent_round(circle, "ben", later) == Stage.CONSENTED


def test_in_a_meeting_answers_given_in_advance_count_in_the_first_round(found_circle, now):
    # The circle's policy: absent members reacted in advance.
    circle = found_circle(rules=rules(AbsenteePolicy.REACTED_IN_ADVANCE))

    # Cleo presents her proposal; Dan, who will miss the meeting, consents in advance.
    proposal = Proposal.draft(circle, "cleo", "Sunday kitchen", "Open on Sundays", now)
    proposal.present(circle, "cleo")
    proposal.answer_in_advance(circle, "dan", True, "Mind the rota")
    proposal.open_reactions(circle, "ben")

    # The round opens with Dan's answer already in; the others consent in the meeting.
    proposal.open_consent_round(circle, "ben", now)
    assert proposal.answers["dan"].in_advance
    for person_id in ("ada", "ben", "cleo"):
        proposal.consent(circle, person_id, now)

    # Consented: Dan counts as consenting, nobody is missing, his concern is kept.
    assert proposal.close_consent_round(circle, "ben", now) == Stage.CONSENTED
    assert proposal.rounds[0].consents == ["ada", "ben", "cleo", "dan"]
    assert proposal.rounds[0].missing == []
    assert proposal.rounds[0].concerns == ["Mind the rota"]


def test_an_advance_answer_is_not_carried_into_a_repeated_round(found_circle, now):
    # The circle takes answers in advance; Dan consents in advance.
    circle = found_circle(rules=rules(AbsenteePolicy.REACTED_IN_ADVANCE))
    proposal = Proposal.draft(circle, "cleo", "Sunday kitchen", "Open on Sundays", now)
    proposal.present(circle, "cleo")
    proposal.answer_in_advance(circle, "dan", True)
    proposal.open_reactions(circle, "ben")

    # In the first round Ada objects; her objection is integrated by amending.
    proposal.open_consent_round(circle, "ben", now)
    proposal.raise_objection(circle, "ada", "The budget is spent", now)
    proposal.consent(circle, "ben", now)
    proposal.consent(circle, "cleo", now)
    assert proposal.close_consent_round(circle, "ben", now) == Stage.INTEGRATING
    proposal.integrate(circle, "cleo", "amend", "Open on Sundays, volunteers only", [1])

    # The repeated round starts empty: Dan consented to the former text, not this one.
    proposal.open_consent_round(circle, "ben", now)
    assert proposal.answers == {}


def test_an_objection_given_in_advance_blocks_like_any_objection(found_circle, now):
    # The circle's policy: absent members reacted in advance.
    circle = found_circle(rules=rules(AbsenteePolicy.REACTED_IN_ADVANCE))

    # Dan, who will miss the meeting, objects in advance, with his argument.
    proposal = Proposal.draft(circle, "cleo", "Sunday kitchen", "Open on Sundays", now)
    proposal.present(circle, "cleo")
    proposal.answer_in_advance(circle, "dan", False, "Nobody holds the keys on Sunday")
    proposal.open_reactions(circle, "ben")

    # In the meeting, everyone else consents.
    proposal.open_consent_round(circle, "ben", now)
    for person_id in ("ada", "ben", "cleo"):
        proposal.consent(circle, person_id, now)

    # Dan's reasoned objection still stands: the round goes to integration.
    assert proposal.close_consent_round(circle, "ben", now) == Stage.INTEGRATING
    assert [o.person_id for o in proposal.open_objections()] == ["dan"]


def test_in_a_meeting_absentees_who_did_not_react_in_advance_cannot_object(
    found_circle, now, to_consent_round
):
    # The circle takes answers in advance, but Dan gave none and is away.
    circle = found_circle(rules=rules(AbsenteePolicy.REACTED_IN_ADVANCE))
    proposal = to_consent_round(circle)
    for person_id in ("ada", "ben", "cleo"):
        proposal.consent(circle, person_id, now)

    # Consented; Dan is recorded as missing.
    assert proposal.close_consent_round(circle, "ben", now) == Stage.CONSENTED
    assert proposal.rounds[0].missing == ["dan"]


@pytest.mark.parametrize("policy", [AbsenteePolicy.CANNOT_OBJECT, AbsenteePolicy.CONSENT_LATER])
def test_answers_in_advance_only_where_the_circle_takes_them(found_circle, now, unchanged, policy):
    # The circle's policy does not take answers in advance.
    circle = found_circle(rules=rules(policy))
    proposal = Proposal.draft(circle, "cleo", "Sunday kitchen", "Open on Sundays", now)
    proposal.present(circle, "cleo")

    # Dan's answer in advance is refused.
    with (
        unchanged(proposal, circle),
        pytest.raises(NotPermitted, match="does not take answers in advance"),
    ):
        proposal.answer_in_advance(circle, "dan", True)
    assert proposal.advance_answers == {}


def test_answers_in_advance_follow_the_consent_rules(found_circle, now, unchanged):
    # The circle takes answers in advance.
    circle = found_circle(rules=rules(AbsenteePolicy.REACTED_IN_ADVANCE))
    proposal = Proposal.draft(circle, "cleo", "Sunday kitchen", "Open on Sundays", now)

    # Not before the proposal is presented.
    with unchanged(proposal), pytest.raises(WrongStage, match="Cannot answer in advance"):
        proposal.answer_in_advance(circle, "dan", True)
    proposal.present(circle, "cleo")

    # Only full participants, and an objection needs its argument.
    with (
        unchanged(proposal, circle),
        pytest.raises(NotPermitted, match="Only full participants can consent or object"),
    ):
        proposal.answer_in_advance(circle, "eli", True)
    with unchanged(proposal), pytest.raises(InvalidRequest, match="objection needs its argument"):
        proposal.answer_in_advance(circle, "dan", False, "  ")

    # Once the consent round is open, it is too late to answer in advance.
    proposal.open_reactions(circle, "ben")
    proposal.open_consent_round(circle, "ben", now)
    with unchanged(proposal), pytest.raises(WrongStage, match="while it is consent round"):
        proposal.answer_in_advance(circle, "dan", True)


# Asynchronously, with a deadline.


def test_an_asynchronous_proposal_needs_a_deadline_in_the_future(circle, now, unchanged):
    # Without a deadline: refused.
    with unchanged(circle), pytest.raises(InvalidRequest, match="needs a deadline"):
        Proposal.draft(circle, "cleo", "Sunday kitchen", "Open on Sundays", now, mode=Mode.ASYNC)

    # With a deadline already past: refused.
    with unchanged(circle), pytest.raises(InvalidRequest, match="deadline must be in the future"):
        Proposal.draft(
            circle,
            "cleo",
            "Sunday kitchen",
            "Open on Sundays",
            now,
            mode=Mode.ASYNC,
            deadline=now - timedelta(hours=1),
        )

    # An unknown mode: refused.
    with unchanged(circle), pytest.raises(InvalidRequest, match="Unknown mode"):
        Proposal.draft(circle, "cleo", "Sunday kitchen", "Open on Sundays", now, mode="postal")


def test_asynchronously_the_round_stays_open_until_its_deadline(
    circle, now, to_consent_round, unchanged
):
    # An asynchronous proposal with a week to answer; three answer, Dan not yet.
    deadline = now + timedelta(days=7)
    proposal = to_consent_round(circle, mode=Mode.ASYNC, deadline=deadline)
    for person_id in ("ada", "ben", "cleo"):
        proposal.consent(circle, person_id, now)

    # Before the deadline, the facilitator cannot close it.
    with (
        unchanged(proposal),
        pytest.raises(WrongStage, match="open until its deadline; 1 full participant"),
    ):
        proposal.close_consent_round(circle, "ben", now + timedelta(days=2))

    # After the deadline, Dan can no longer answer.
    late = deadline + timedelta(minutes=1)
    with unchanged(proposal), pytest.raises(WrongStage, match="deadline for this round has passed"):
        proposal.consent(circle, "dan", late)

    # The round closes: absentees cannot object, so it is consented, Dan missing.
    assert proposal.close_consent_round(circle, "ben", late) == Stage.CONSENTED
    assert proposal.rounds[0].missing == ["dan"]


def test_asynchronously_the_round_closes_early_once_everyone_answered(
    circle, now, to_consent_round
):
    # An asynchronous proposal; all four full participants answer on the first day.
    proposal = to_consent_round(circle, mode=Mode.ASYNC, deadline=now + timedelta(days=7))
    for person_id in ("ada", "ben", "cleo", "dan"):
        proposal.consent(circle, person_id, now)

    # The facilitator closes it before the deadline: consented.
    assert proposal.close_consent_round(circle, "ben", now + timedelta(days=1)) == Stage.CONSENTED


def test_asynchronously_silence_lapses_where_absentees_must_consent_later(
    found_circle, now, to_consent_round
):
    # The circle's policy: absent members consent afterwards.
    circle = found_circle(rules=rules(AbsenteePolicy.CONSENT_LATER))

    # An asynchronous proposal; Dan never answers.
    deadline = now + timedelta(days=7)
    proposal = to_consent_round(circle, mode=Mode.ASYNC, deadline=deadline)
    for person_id in ("ada", "ben", "cleo"):
        proposal.consent(circle, person_id, now)

    # After the deadline the round closes lapsed: nobody can consent in Dan's place.
    outcome = proposal.close_consent_round(circle, "ben", deadline + timedelta(hours=1))
    assert outcome == Stage.LAPSED
    assert proposal.stage == Stage.LAPSED
    assert proposal.rounds[0].missing == ["dan"]


def test_asynchronously_absentees_who_did_not_react_in_advance_cannot_object(
    found_circle, now, to_consent_round
):
    # The circle takes answers in advance; Dan gave none and does not answer.
    circle = found_circle(rules=rules(AbsenteePolicy.REACTED_IN_ADVANCE))
    deadline = now + timedelta(days=7)
    proposal = to_consent_round(circle, mode=Mode.ASYNC, deadline=deadline)
    for person_id in ("ada", "ben", "cleo"):
        proposal.consent(circle, person_id, now)

    # After the deadline: consented, Dan missing.
    assert proposal.close_consent_round(circle, "ben", deadline + timedelta(hours=1)) == (
        Stage.CONSENTED
    )
    assert proposal.rounds[0].missing == ["dan"]


def test_asynchronously_an_objection_still_goes_to_integration(circle, now, to_consent_round):
    # An asynchronous proposal; Dan objects before the deadline.
    proposal = to_consent_round(circle, mode=Mode.ASYNC, deadline=now + timedelta(days=7))
    proposal.raise_objection(circle, "dan", "Nobody holds the keys", now)

    # The facilitator can close it at once: the objection must be integrated anyway.
    assert proposal.close_consent_round(circle, "ben", now) == Stage.INTEGRATING


def test_no_consent_round_opens_after_the_deadline(circle, now, unchanged):
    # An asynchronous proposal whose reactions ran past the deadline.
    deadline = now + timedelta(days=2)
    proposal = Proposal.draft(
        circle,
        "cleo",
        "Sunday kitchen",
        "Open on Sundays",
        now,
        mode=Mode.ASYNC,
        deadline=deadline,
    )
    proposal.present(circle, "cleo")
    proposal.open_reactions(circle, "ben")

    # The consent round can no longer open.
    with unchanged(proposal), pytest.raises(WrongStage, match="deadline for this round has passed"):
        proposal.open_consent_round(circle, "ben", deadline + timedelta(seconds=1))


def test_an_asynchronous_proposal_lapses_once_its_deadline_passed(circle, now, unchanged):
    # An asynchronous proposal stuck in its reactions.
    deadline = now + timedelta(days=2)
    proposal = Proposal.draft(
        circle,
        "cleo",
        "Sunday kitchen",
        "Open on Sundays",
        now,
        mode=Mode.ASYNC,
        deadline=deadline,
    )
    proposal.present(circle, "cleo")
    proposal.open_reactions(circle, "ben")

    # Before (and at) the deadline it cannot lapse.
    for moment in (now, deadline):
        with unchanged(proposal), pytest.raises(WrongStage, match="past its deadline lapses"):
            proposal.lapse(moment)

    # After the deadline it lapses, and then nothing more can happen to it.
    proposal.lapse(deadline + timedelta(seconds=1))
    assert proposal.stage == Stage.LAPSED
    assert proposal.is_final
    with unchanged(proposal), pytest.raises(WrongStage, match="already lapsed"):
        proposal.lapse(deadline + timedelta(days=1))
    with unchanged(proposal), pytest.raises(WrongStage, match="already lapsed"):
        proposal.withdraw(circle, "cleo")


def test_a_proposal_in_a_meeting_does_not_lapse(circle, now, to_consent_round, unchanged):
    # A meeting proposal, even one given a deadline, does not lapse by itself.
    proposal = to_consent_round(circle, deadline=now + timedelta(days=1))
    with unchanged(proposal), pytest.raises(WrongStage, match="Only an asynchronous process"):
        proposal.lapse(now + timedelta(days=30))


def test_a_consent_round_past_its_deadline_is_closed_not_lapsed(
    circle, now, to_consent_round, unchanged
):
    # An asynchronous proposal; every full participant consents before the deadline.
    deadline = now + timedelta(days=7)
    proposal = to_consent_round(circle, mode=Mode.ASYNC, deadline=deadline)
    for person_id in ("ada", "ben", "cleo", "dan"):
        proposal.consent(circle, person_id, now)

    # The deadline passes before the facilitator closes the round: it is not lapsed.
    late = deadline + timedelta(hours=1)
    with unchanged(proposal), pytest.raises(WrongStage, match="consent round"):
        proposal.lapse(late)

    # Closing it consents it.
    assert proposal.close_consent_round(circle, "ben", late) == Stage.CONSENTED
