"""Selecting someone for a hat: nominations with reasons, a change round, a candidate, consent."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from domain.errors import InvalidRequest, NotFound, NotPermitted, WrongStage
from domain.hats import DELEGATE, FACILITATOR, LEADER, SECRETARY
from domain.selection import HatSelection
from domain.values import Integration, Stage


def test_the_circle_selects_a_facilitator_who_takes_the_hat_over(circle, now, today):
    # Ben, the facilitator, opens the selection for his own hat; the term is a year.
    selection = HatSelection.open(circle, "ben", FACILITATOR, now)
    assert selection.stage == Stage.NOMINATING
    assert selection.review_date == today + timedelta(days=365)

    # Everyone nominates in writing, with a reason; Eli, learning, nominates too.
    selection.nominate(circle, "ada", "dan", "Calm in a storm")
    selection.nominate(circle, "ben", "cleo", "Knows the kitchen")
    selection.nominate(circle, "cleo", "dan", "Good listener")
    selection.nominate(circle, "eli", "dan", "Kind to newcomers")
    assert {n.nominator: n.nominee for n in selection.nominations.values()} == {
        "ada": "dan",
        "ben": "cleo",
        "cleo": "dan",
        "eli": "dan",
    }

    # The change round: having heard the reasons, Ben changes his nomination.
    selection.open_change_round(circle, "ben")
    selection.change_nomination(circle, "ben", "dan", "The reasons convinced me")
    assert selection.nominations["ben"].nominee == "dan"
    assert selection.nominations["ben"].changed

    # Ben proposes Dan; the consent round opens on him.
    selection.propose_candidate(circle, "ben", "dan", "Nominated by everyone")
    assert (selection.stage, selection.candidate, selection.round_number) == (
        Stage.CONSENT_ROUND,
        "dan",
        1,
    )

    # Every full participant consents: Dan is selected.
    for person_id in ("ada", "ben", "cleo", "dan"):
        selection.consent(circle, person_id, now)
    assert selection.close_consent_round(circle, "ben", now) == Stage.CONSENTED

    # The result is carried out: Dan puts the hat on, handed on from Ben.
    circle.put_on_hat(
        selection.hat_id, selection.candidate, today, selection.review_date, str(selection.id)
    )
    assert circle.wearers(FACILITATOR) == ["dan"]
    assert circle.term(FACILITATOR, "dan").selection_id == str(selection.id)
    assert circle.term(FACILITATOR, "dan").review_date == today + timedelta(days=365)


def test_only_the_facilitator_opens_a_selection(circle, now, unchanged):
    # Dan does not wear the facilitator hat.
    with (
        unchanged(circle),
        pytest.raises(NotPermitted, match="Only the facilitator can open a selection"),
    ):
        HatSelection.open(circle, "dan", SECRETARY, now)

    # There is no treasurer hat to select for.
    with unchanged(circle), pytest.raises(NotFound, match="no hat 'treasurer'"):
        HatSelection.open(circle, "ben", "treasurer", now)

    # The term's review date must lie ahead.
    with unchanged(circle), pytest.raises(InvalidRequest, match="must be in the future"):
        HatSelection.open(circle, "ben", SECRETARY, now, review_date=now.date())


def test_a_nomination_needs_a_reason_and_each_person_nominates_once(circle, now, unchanged):
    # Ben opens the selection of a delegate.
    selection = HatSelection.open(circle, "ben", DELEGATE, now)

    # Ada nominates without a reason: refused.
    with unchanged(selection), pytest.raises(InvalidRequest, match="Give a reason"):
        selection.nominate(circle, "ada", "dan", "  ")

    # Ada nominates Dan with a reason; she cannot nominate again before the change round.
    selection.nominate(circle, "ada", "dan", "He speaks up for us")
    with unchanged(selection), pytest.raises(InvalidRequest, match="You have nominated already"):
        selection.nominate(circle, "ada", "cleo", "Or Cleo")


def test_who_nominates_and_who_may_be_nominated(circle, now, today, unchanged):
    # Ben opens the selection of a leader; Cleo is already the delegate; Fay left.
    circle.put_on_hat(DELEGATE, "cleo", today, date(2026, 9, 1))
    circle.receive_application("fay", "full", today)
    circle.leave("fay", "fay", today)
    selection = HatSelection.open(circle, "ben", LEADER, now)

    # Gus, a guest, does not nominate.
    with unchanged(selection, circle), pytest.raises(NotPermitted, match="Guests do not nominate"):
        selection.nominate(circle, "gus", "dan", "He knows everyone")

    # Nobody nominates the delegate for leader, a learning participant, a guest, or a leaver.
    for nominee, error, match in (
        ("cleo", NotPermitted, "never the same person"),
        ("eli", NotPermitted, "must be a full participant"),
        ("gus", NotPermitted, "Guests do not wear hats"),
        ("fay", NotPermitted, "has left the circle"),
    ):
        with unchanged(selection, circle), pytest.raises(error, match=match):
            selection.nominate(circle, "ada", nominee, "A reason")
    assert selection.nominations == {}


def test_the_change_round_follows_the_nominations(circle, now, unchanged):
    # Ben opens the selection of a secretary; nobody has nominated yet.
    selection = HatSelection.open(circle, "ben", SECRETARY, now)
    with unchanged(selection), pytest.raises(InvalidRequest, match="Nobody has been nominated"):
        selection.open_change_round(circle, "ben")

    # Changing a nomination waits for the change round.
    selection.nominate(circle, "cleo", "dan", "Keeps good notes")
    with unchanged(selection), pytest.raises(WrongStage, match="Cannot change a nomination"):
        selection.change_nomination(circle, "cleo", "ben", "Changed my mind")

    # Only the facilitator opens the change round; then nominating is over.
    with unchanged(selection), pytest.raises(NotPermitted, match="Only the facilitator"):
        selection.open_change_round(circle, "dan")
    selection.open_change_round(circle, "ben")
    assert selection.stage == Stage.CHANGE_ROUND
    with unchanged(selection), pytest.raises(WrongStage, match="Cannot nominate while"):
        selection.nominate(circle, "dan", "cleo", "Late")

    # A change needs its reason.
    with unchanged(selection), pytest.raises(InvalidRequest, match="Give a reason for the change"):
        selection.change_nomination(circle, "cleo", "ben", "")


def test_the_candidate_must_be_someone_the_circle_nominated(circle, now, unchanged):
    # Dan is nominated for secretary.
    selection = HatSelection.open(circle, "ben", SECRETARY, now)
    selection.nominate(circle, "cleo", "dan", "Keeps good notes")

    # The candidate is proposed only after the change round.
    with unchanged(selection), pytest.raises(WrongStage, match="Cannot propose a candidate"):
        selection.propose_candidate(circle, "ben", "dan", "Nominated")
    selection.open_change_round(circle, "ben")

    # Cleo was not nominated: she cannot be the candidate.
    with unchanged(selection), pytest.raises(InvalidRequest, match="must be someone the circle"):
        selection.propose_candidate(circle, "ben", "cleo", "She would be good")

    # Only the facilitator proposes, and says why.
    with unchanged(selection), pytest.raises(NotPermitted, match="Only the facilitator"):
        selection.propose_candidate(circle, "cleo", "dan", "Nominated")
    with unchanged(selection), pytest.raises(InvalidRequest, match="Say why you propose"):
        selection.propose_candidate(circle, "ben", "dan", " ")

    # Ben proposes Dan.
    selection.propose_candidate(circle, "ben", "dan", "Nominated by Cleo")
    assert (selection.stage, selection.candidate) == (Stage.CONSENT_ROUND, "dan")


def test_an_objection_is_integrated_by_proposing_another_candidate(
    circle, now, selection_in_round, unchanged
):
    # Dan and Cleo were nominated for delegate; Dan is proposed first.
    selection = selection_in_round(circle, DELEGATE, ["dan", "cleo"])
    assert selection.candidate == "dan"

    # Cleo objects with her reason; the others consent; the round goes to integration.
    selection.raise_objection(circle, "cleo", "Dan is away every other month", now)
    for person_id in ("ada", "ben", "dan"):
        selection.consent(circle, person_id, now)
    assert selection.close_consent_round(circle, "ben", now) == Stage.INTEGRATING

    # Proposing Dan again is no integration.
    with unchanged(selection), pytest.raises(InvalidRequest, match="That is the current candidate"):
        selection.propose_candidate(circle, "ben", "dan", "Still Dan")

    # Ben proposes Cleo instead: the objection is integrated and the round repeats.
    selection.propose_candidate(circle, "ben", "cleo", "Around all year")
    assert not selection.objections[0].is_open
    [integration] = selection.integrations
    assert (integration.how, integration.objections) == (Integration.AMEND, [1])
    assert (selection.stage, selection.candidate, selection.round_number) == (
        Stage.CONSENT_ROUND,
        "cleo",
        2,
    )
    assert selection.answers == {}

    # Everyone consents to Cleo.
    for person_id in ("ada", "ben", "cleo", "dan"):
        selection.consent(circle, person_id, now)
    assert selection.close_consent_round(circle, "ben", now) == Stage.CONSENTED


def test_an_objection_to_a_candidate_may_be_integrated_by_a_shorter_term(
    circle, now, selection_in_round, unchanged
):
    # Dan is the only nominee for delegate; Cleo objects to a year-long term.
    selection = selection_in_round(circle, DELEGATE, ["dan"])
    selection.raise_objection(circle, "cleo", "A year is too long to start with", now)
    selection.close_consent_round(circle, "ben", now)

    # The round cannot repeat before the objection is integrated.
    with unchanged(selection), pytest.raises(WrongStage, match="Integrate objection 1"):
        selection.open_consent_round(circle, "ben", now)

    # The term is shortened to six months; the round repeats on Dan.
    six_months = date(2026, 9, 2)
    selection.integrate(
        circle, "ben", Integration.SHORTEN_TERM, "Six months first", [1], review_date=six_months
    )
    selection.open_consent_round(circle, "ben", now)
    assert (selection.review_date, selection.candidate, selection.round_number) == (
        six_months,
        "dan",
        2,
    )


def test_learning_participants_and_guests_do_not_consent_to_a_selection(
    circle, now, selection_in_round, unchanged
):
    # Dan is proposed as delegate.
    selection = selection_in_round(circle, DELEGATE, ["dan"])

    # Eli and Gus cannot object.
    for person_id in ("eli", "gus"):
        with unchanged(selection), pytest.raises(NotPermitted, match="Only full participants"):
            selection.raise_objection(circle, person_id, "Not Dan", now)


def test_selections_take_no_answers_in_advance(circle, now, unchanged):
    # A selection is open; Dan will be absent.
    selection = HatSelection.open(circle, "ben", DELEGATE, now)

    # A selection has no stage in which to answer in advance.
    with unchanged(selection), pytest.raises(WrongStage, match="Cannot answer in advance"):
        selection.answer_in_advance(circle, "dan", True)


def test_the_current_wearer_may_be_nominated_again_when_the_term_ends(circle, now):
    # Ada's secretary term comes up for review; Ben opens the selection.
    selection = HatSelection.open(circle, "ben", SECRETARY, now)

    # Cleo nominates Ada to carry on; Dan nominates himself.
    selection.nominate(circle, "cleo", "ada", "Her logbook is the best we ever had")
    selection.nominate(circle, "dan", "dan", "I would like to learn it")

    # Both nominations are on record for the change round.
    assert {n.nominee for n in selection.nominations.values()} == {"ada", "dan"}

    # Ada is proposed again and the circle consents: she carries on with a new review date.
    selection.open_change_round(circle, "ben")
    selection.propose_candidate(circle, "ben", "ada", "Most nominations")
    for person_id in circle.full_participants():
        selection.consent(circle, person_id, now)
    assert selection.close_consent_round(circle, "ben", now) == Stage.CONSENTED
    circle.give_selected_hat(selection, now.date())
    assert circle.wearers(SECRETARY) == ["ada"]
    assert circle.term(SECRETARY, "ada").review_date == selection.review_date


def test_only_a_consented_selection_gives_a_hat(circle, now, unchanged):
    selection = HatSelection.open(circle, "ben", DELEGATE, now)
    with unchanged(circle), pytest.raises(WrongStage, match="Only a consented selection"):
        circle.give_selected_hat(selection, now.date())
