"""Changing one's answer before the round closes: its own command, recorded in the round.

From an objection to consent withdraws one's open objection of the round; from consent to an
objection raises a new objection, with its argument. Someone who has not answered answers
instead; once the round is closed, or its deadline passed, answers stand as they are.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from domain.errors import InvalidRequest, NotPermitted, WrongStage
from domain.proposal import Proposal
from domain.records import Answer, GoverningRules
from domain.values import AbsenteePolicy, Mode, Stage


def test_an_objector_changes_to_consent_and_the_objection_is_withdrawn(
    circle, now, to_consent_round, event_names
):
    # Dan objects to Cleo's proposal; the others consent.
    proposal = to_consent_round(circle)
    number = proposal.raise_objection(circle, "dan", "Nobody holds the keys on Sunday", now)
    for person_id in ("ada", "ben", "cleo"):
        proposal.consent(circle, person_id, now)
    event_names(proposal)

    # Ben offers to hold the keys; Dan changes his answer to consent, with a concern.
    assert proposal.change_answer(circle, "dan", True, " Ben keeps the keys ", now) is None

    # The change is its own event; his objection of this round is withdrawn.
    assert event_names(proposal) == ["AnswerChanged"]
    assert proposal.answers["dan"] == Answer("dan", True, "Ben keeps the keys")
    assert proposal.objections[number - 1].withdrawn
    assert proposal.open_objections() == []

    # The round closes consented, Dan's concern on record.
    assert proposal.close_consent_round(circle, "ben", now) == Stage.CONSENTED
    assert proposal.rounds[0].consents == ["ada", "ben", "cleo", "dan"]
    assert proposal.rounds[0].concerns == ["Ben keeps the keys"]


def test_a_consenter_changes_to_an_objection_with_its_argument(
    circle, now, to_consent_round, event_names
):
    # Everyone consents to Cleo's proposal.
    proposal = to_consent_round(circle)
    for person_id in ("ada", "ben", "cleo", "dan"):
        proposal.consent(circle, person_id, now)
    event_names(proposal)

    # Ada learns the budget is spent, and changes her answer to a reasoned objection.
    number = proposal.change_answer(circle, "ada", False, " The budget is spent ", now)

    # A new objection, numbered, for this round; her answer is now an objection.
    assert number == 1
    assert event_names(proposal) == ["AnswerChanged"]
    [objection] = proposal.objections
    assert (objection.person_id, objection.argument, objection.round) == (
        "ada",
        "The budget is spent",
        1,
    )
    assert proposal.answers["ada"] == Answer("ada", False, "The budget is spent")

    # It blocks: the round goes to integration.
    assert proposal.close_consent_round(circle, "ben", now) == Stage.INTEGRATING
    assert proposal.rounds[0].objections == [1]


def test_an_answer_given_in_advance_can_be_changed_in_the_meeting(found_circle, now):
    # The circle takes answers in advance; Dan objects in advance, expecting to be away.
    circle = found_circle(rules=GoverningRules(absentee_policy=AbsenteePolicy.REACTED_IN_ADVANCE))
    proposal = Proposal.draft(circle, "cleo", "Sunday kitchen", "Open on Sundays", now)
    proposal.present(circle, "cleo")
    proposal.answer_in_advance(circle, "dan", False, "Nobody holds the keys on Sunday")
    proposal.open_reactions(circle, "ben")
    proposal.open_consent_round(circle, "ben", now)

    # Dan comes after all, hears the answer and changes his to consent: he is present now.
    proposal.change_answer(circle, "dan", True, "", now)
    assert proposal.answers["dan"] == Answer("dan", True, "", in_advance=False)
    assert proposal.open_objections() == []

    # With Ada he makes the quorum of two present; the round is consented.
    proposal.consent(circle, "ada", now)
    assert proposal.close_consent_round(circle, "ben", now) == Stage.CONSENTED


def test_an_objection_withdrawn_may_be_raised_again_by_changing_the_answer(
    circle, now, to_consent_round
):
    # Dan objects, then withdraws his objection.
    proposal = to_consent_round(circle)
    proposal.raise_objection(circle, "dan", "Nobody holds the keys", now)
    proposal.withdraw_objection(circle, "dan", 1)

    # On reflection he objects again, by changing his answer: a new objection.
    assert proposal.change_answer(circle, "dan", False, "Nobody holds the keys, still", now) == 2
    assert [o.number for o in proposal.open_objections()] == [2]


def test_someone_who_has_not_answered_answers_instead(circle, now, to_consent_round, unchanged):
    # Dan has not answered Cleo's proposal.
    proposal = to_consent_round(circle)

    # He cannot change an answer he has not given: he consents or objects.
    with (
        unchanged(proposal, circle),
        pytest.raises(WrongStage, match="not answered in this round yet; consent or object"),
    ):
        proposal.change_answer(circle, "dan", True, "", now)


def test_a_change_must_change_the_answer(circle, now, to_consent_round, unchanged):
    # Ada consents; Dan objects.
    proposal = to_consent_round(circle)
    proposal.consent(circle, "ada", now)
    proposal.raise_objection(circle, "dan", "Nobody holds the keys", now)

    # Consent to consent, or an objection that stands to another: nothing to change.
    with unchanged(proposal), pytest.raises(InvalidRequest, match="That is your answer already"):
        proposal.change_answer(circle, "ada", True, "A new concern", now)
    with unchanged(proposal), pytest.raises(InvalidRequest, match="objection already stands"):
        proposal.change_answer(circle, "dan", False, "Another argument", now)


@pytest.mark.parametrize("argument", ["", "  "])
def test_a_change_to_an_objection_needs_its_argument(
    circle, now, to_consent_round, unchanged, argument
):
    proposal = to_consent_round(circle)
    proposal.consent(circle, "ada", now)
    with unchanged(proposal), pytest.raises(InvalidRequest, match="objection needs its argument"):
        proposal.change_answer(circle, "ada", False, argument, now)


@pytest.mark.parametrize("person_id", ["gus", "eli"], ids=["guest", "learning participant"])
def test_only_full_participants_change_answers(circle, now, to_consent_round, unchanged, person_id):
    proposal = to_consent_round(circle)
    with unchanged(proposal, circle), pytest.raises(NotPermitted, match="Only full participants"):
        proposal.change_answer(circle, person_id, True, "", now)


def test_no_change_once_the_round_is_closed(circle, now, to_consent_round, unchanged):
    # Everyone consents and the round closes.
    proposal = to_consent_round(circle)
    for person_id in ("ada", "ben", "cleo", "dan"):
        proposal.consent(circle, person_id, now)
    proposal.close_consent_round(circle, "ben", now)

    # Dan's answer stands as it was when the round closed.
    with (
        unchanged(proposal, circle),
        pytest.raises(WrongStage, match="Cannot change an answer while it is consented"),
    ):
        proposal.change_answer(circle, "dan", False, "Too late, I see a problem", now)


def test_no_change_after_the_deadline(circle, now, to_consent_round, unchanged):
    # Dan consents to an asynchronous proposal; its deadline passes.
    deadline = now + timedelta(days=7)
    proposal = to_consent_round(circle, mode=Mode.ASYNC, deadline=deadline)
    proposal.consent(circle, "dan", now)

    # He can no longer change his answer.
    with unchanged(proposal), pytest.raises(WrongStage, match="deadline for this round has passed"):
        proposal.change_answer(circle, "dan", False, "Second thoughts", deadline + timedelta(1))
