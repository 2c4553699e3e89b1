"""People come and go: applied, trial, active, stepped back, returned, left; declined, removed."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from domain.errors import InvalidRequest, NotFound, NotPermitted, WrongStage
from domain.hats import FACILITATOR, LEADER, SECRETARY
from domain.membership import check_can_act
from domain.values import Level, Membership, Purpose

ORGANISER = "care-commons-organiser"


def test_a_newcomer_goes_from_application_to_leaving_with_appreciation(circle, today):
    # Fay applies to join as a full participant: she cannot act yet.
    circle.receive_application("fay", "full", today)
    assert circle.participant("fay").status == Membership.APPLIED
    assert "fay" not in circle.acting_participants()

    # Ada, the secretary, starts her trial of one session: still not acting.
    circle.start_trial("ada", "fay", 1, today)
    assert circle.participant("fay").status == Membership.TRIAL
    with pytest.raises(NotPermitted, match="not yet an active participant"):
        check_can_act(circle, "fay")

    # After the trial (its session held) Ada admits her as a full participant: she now
    # counts for consent.
    circle.hold_trial_session("ada", "fay", today + timedelta(days=7))
    circle.admit("ada", "fay", "full", today + timedelta(days=14))
    fay = circle.participant("fay")
    assert (fay.status, fay.level, fay.since) == (
        Membership.ACTIVE,
        Level.FULL,
        today + timedelta(days=14),
    )
    assert "fay" in circle.full_participants()

    # Fay takes on the delegate hat.
    circle.put_on_hat("delegate", "fay", today, date(2026, 9, 1))

    # Fay steps back for a while, with a note: her hat is released and she no longer counts.
    stepped = date(2026, 5, 1)
    circle.step_back("fay", "fay", stepped, note="Thank you for the spring menus")
    fay = circle.participant("fay")
    assert (fay.status, fay.since) == (Membership.STEPPED_BACK, stepped)
    assert fay.note_of_appreciation == "Thank you for the spring menus"
    assert circle.hats_worn_by("fay") == []
    assert "fay" not in circle.full_participants()

    # She returns, and can act again.
    circle.welcome_back("fay", "fay", date(2026, 8, 1))
    assert circle.participant("fay").status == Membership.RETURNED
    assert check_can_act(circle, "fay") is circle.participant("fay")
    assert "fay" in circle.full_participants()

    # Later she leaves, with a note of appreciation that the record keeps.
    circle.leave("ada", "fay", date(2026, 12, 1), note="Thank you for two years of soup")
    fay = circle.participant("fay")
    assert fay.status == Membership.LEFT
    assert fay.note_of_appreciation == "Thank you for two years of soup"
    assert "fay" not in circle.acting_participants()


def test_leaving_releases_every_hat_and_recomputes_the_quorum(circle, today):
    # Cleo wears the care commons organiser hat and counts as a full participant.
    assert circle.hats_worn_by("cleo") == [ORGANISER]
    assert circle.full_participants() == ["ada", "ben", "cleo", "dan"]

    # Cleo leaves, thanked.
    circle.leave("cleo", "cleo", today, note="Thank you, Cleo")

    # Her hat is released; the full participants are three now.
    assert circle.hats_worn_by("cleo") == []
    assert circle.wearers(ORGANISER) == []
    assert circle.full_participants() == ["ada", "ben", "dan"]


def test_stepping_back_releases_hats_too(circle, today):
    # Ben, the facilitator, steps back.
    circle.step_back("ben", "ben", today)

    # The facilitator hat is free.
    assert circle.wearers(FACILITATOR) == []


@pytest.mark.parametrize(
    ("status", "match"),
    [
        ("left", "has left the circle"),
        ("removed", "has left the circle"),
        ("stepped back", "has stepped back"),
    ],
)
def test_someone_gone_or_stepped_back_cannot_act(
    circle, today, consented, unchanged, status, match
):
    # Dan left, was removed by a consented proposal, or stepped back.
    if status == "left":
        circle.leave("dan", "dan", today)
    elif status == "removed":
        removal = consented(
            circle, purpose=Purpose.REMOVE_PARTICIPANT, subject={"person_id": "dan"}
        )
        circle.remove(removal, today)
    else:
        circle.step_back("dan", "dan", today)

    # He can no longer act: not wear a hat, not define one, not be marked as acting.
    with unchanged(circle), pytest.raises(NotPermitted, match=match):
        circle.put_on_hat(LEADER, "dan", today, date(2026, 9, 1))
    with unchanged(circle), pytest.raises(NotPermitted, match=match):
        circle.define_hat("dan", "Gardener", "Grows herbs", [], ["garden"], 6)
    with unchanged(circle), pytest.raises(NotPermitted, match=match):
        check_can_act(circle, "dan")


def test_only_the_secretary_keeps_the_membership_records(circle, today, unchanged):
    # Fay applies.
    circle.receive_application("fay", "full", today)

    # Dan, who does not wear the secretary hat, cannot start her trial, admit her, or
    # record that Cleo steps back or leaves.
    with unchanged(circle), pytest.raises(NotPermitted, match="Only the secretary can start"):
        circle.start_trial("dan", "fay", 2, today)
    with unchanged(circle), pytest.raises(NotPermitted, match="Only the secretary can admit"):
        circle.admit("dan", "fay", "full", today)
    with unchanged(circle), pytest.raises(NotPermitted, match="Only the secretary can record"):
        circle.step_back("dan", "cleo", today)
    with unchanged(circle), pytest.raises(NotPermitted, match="Only the secretary can record"):
        circle.leave("dan", "cleo", today)
    with unchanged(circle), pytest.raises(NotPermitted, match="Only the secretary can change"):
        circle.change_level("dan", "eli", "full")


def test_while_nobody_wears_the_secretary_hat_any_full_participant_keeps_the_records(
    forming_circle, today, unchanged
):
    # A forming circle, no secretary yet. Fay applies.
    circle = forming_circle
    circle.receive_application("fay", "learning", today)

    # Eli, learning, cannot admit her; Dan, full, can.
    with unchanged(circle), pytest.raises(NotPermitted, match="Only full participants can admit"):
        circle.admit("eli", "fay", "learning", today)
    circle.admit("dan", "fay", "learning", today)
    assert circle.participant("fay").status == Membership.ACTIVE


def test_membership_moves_only_along_its_path(circle, today, unchanged):
    # Dan is active: he cannot start a trial, be admitted or welcomed back.
    with unchanged(circle), pytest.raises(WrongStage, match="Someone who is active cannot start"):
        circle.start_trial("ada", "dan", 2, today)
    with unchanged(circle), pytest.raises(WrongStage, match="cannot be admitted"):
        circle.admit("ada", "dan", "full", today)
    with unchanged(circle), pytest.raises(WrongStage, match="Someone who is active cannot return"):
        circle.welcome_back("ada", "dan", today)

    # Dan steps back: he cannot step back again.
    circle.step_back("dan", "dan", today)
    with (
        unchanged(circle),
        pytest.raises(WrongStage, match="Someone who is stepped back cannot step back"),
    ):
        circle.step_back("dan", "dan", today)

    # Dan leaves while stepped back: he cannot leave twice, nor return.
    circle.leave("dan", "dan", today, note="Thank you")
    with unchanged(circle), pytest.raises(WrongStage, match="Someone who is left cannot leave"):
        circle.leave("dan", "dan", today)
    with unchanged(circle), pytest.raises(WrongStage, match="cannot return"):
        circle.welcome_back("dan", "dan", today)


def test_someone_already_in_the_circle_cannot_apply(circle, today, unchanged):
    # Dan is active; Fay has applied.
    circle.receive_application("fay", "full", today)

    # Neither can apply (again).
    for person_id in ("dan", "fay"):
        with unchanged(circle), pytest.raises(InvalidRequest, match="already part of the circle"):
            circle.receive_application(person_id, "full", today)

    # An unknown level is refused too.
    with unchanged(circle), pytest.raises(InvalidRequest, match="Unknown participation level"):
        circle.receive_application("hal", "honorary", today)


@pytest.mark.parametrize("how", ["left", "removed", "declined"])
def test_people_who_left_may_apply_again(circle, today, consented, how):
    # Dan left, was removed, or Fay's application was declined.
    person_id = "fay" if how == "declined" else "dan"
    if how == "left":
        circle.leave("dan", "dan", today, note="Thank you")
    elif how == "removed":
        circle.remove(
            consented(circle, purpose=Purpose.REMOVE_PARTICIPANT, subject={"person_id": "dan"}),
            today,
        )
    else:
        circle.receive_application("fay", "full", today)
        circle.decline("fay", "fay", today)

    # A year later they apply again: a fresh application.
    later = today + timedelta(days=365)
    circle.receive_application(person_id, "learning", later)
    participant = circle.participant(person_id)
    assert (participant.status, participant.level, participant.since) == (
        Membership.APPLIED,
        Level.LEARNING,
        later,
    )


def test_either_side_may_decline_an_application_or_a_trial(circle, today, unchanged):
    # Fay and Hal apply; Hal starts a trial.
    circle.receive_application("fay", "full", today)
    circle.receive_application("hal", "full", today)
    circle.start_trial("ada", "hal", 2, today)

    # Fay declines herself, no reason needed.
    circle.decline("fay", "fay", today)
    assert circle.participant("fay").status == Membership.DECLINED

    # Dan may not decline Hal for the circle; Ada, the secretary, may.
    with (
        unchanged(circle),
        pytest.raises(NotPermitted, match="Only the secretary can decline an application"),
    ):
        circle.decline("dan", "hal", today)
    circle.decline("ada", "hal", today)
    assert circle.participant("hal").status == Membership.DECLINED

    # A declined person cannot act, nor be declined again.
    with unchanged(circle), pytest.raises(NotPermitted, match="has left the circle"):
        check_can_act(circle, "hal")
    with unchanged(circle), pytest.raises(WrongStage, match="Someone who is declined"):
        circle.decline("ada", "hal", today)


def test_an_active_participant_is_not_declined(circle, today, unchanged):
    # Dan is active: declining is only for applications and trials.
    with unchanged(circle), pytest.raises(WrongStage, match="Someone who is active cannot be"):
        circle.decline("ada", "dan", today)


def test_removal_is_a_consented_decision(circle, today, to_consent_round, consented, unchanged):
    # A proposal to remove Cleo is still in its consent round: it does not remove her yet.
    pending = to_consent_round(
        circle, by="dan", purpose=Purpose.REMOVE_PARTICIPANT, subject={"person_id": "cleo"}
    )
    with unchanged(circle), pytest.raises(WrongStage, match="Only a consented proposal"):
        circle.remove(pending, today)

    # A consented proposal of another purpose does not remove anyone.
    policy = consented(circle)
    with unchanged(circle), pytest.raises(InvalidRequest, match="That proposal is to adopt policy"):
        circle.remove(policy, today)

    # The circle consents to remove Cleo: she is removed and her hat released.
    removal = consented(
        circle, by="dan", purpose=Purpose.REMOVE_PARTICIPANT, subject={"person_id": "cleo"}
    )
    circle.remove(removal, today)
    assert circle.participant("cleo").status == Membership.REMOVED
    assert circle.hats_worn_by("cleo") == []

    # She cannot be removed twice.
    with unchanged(circle), pytest.raises(WrongStage, match="Someone who is removed"):
        circle.remove(removal, today)


def test_a_proposal_of_another_circle_does_not_bind_this_one(
    circle, found_circle, today, consented, unchanged
):
    # Another circle consents to remove Dan.
    other = found_circle()
    removal = consented(other, purpose=Purpose.REMOVE_PARTICIPANT, subject={"person_id": "dan"})

    # It does not remove Dan from this circle.
    with unchanged(circle), pytest.raises(InvalidRequest, match="belongs to another circle"):
        circle.remove(removal, today)


def test_participation_levels_change_by_the_records_keeper(circle, unchanged):
    # Ada, the secretary, makes Eli a full participant: he now consents and objects.
    circle.change_level("ada", "eli", "full")
    assert "eli" in circle.full_participants()

    # An unknown level is refused; someone not in the circle is not found.
    with unchanged(circle), pytest.raises(InvalidRequest, match="Unknown participation level"):
        circle.change_level("ada", "eli", "elder")
    with unchanged(circle), pytest.raises(NotFound, match="not a participant"):
        circle.change_level("ada", "zed", "full")


def test_the_leader_stays_a_full_participant(circle, today, unchanged):
    # Dan wears the leader hat.
    circle.put_on_hat(LEADER, "dan", today, date(2026, 9, 1))

    # He cannot become a learning participant while he wears it.
    with (
        unchanged(circle),
        pytest.raises(
            NotPermitted, match="The leader must be a full participant; take off that hat first"
        ),
    ):
        circle.change_level("ada", "dan", "learning")


def test_a_hat_wearer_does_not_become_a_guest(circle, unchanged):
    # Ben wears the facilitator hat; Ada tries to make him a guest.
    with unchanged(circle), pytest.raises(NotPermitted, match="hat"):
        circle.change_level("ada", "ben", "guest")


def test_founding_members_join_only_while_the_circle_is_forming(
    circle, forming_circle, today, unchanged
):
    # While forming, Ada welcomes Hal as a founding member.
    forming_circle.welcome_founder("ada", "hal", "full", today)
    assert forming_circle.participant("hal").status == Membership.ACTIVE

    # Eli, learning, cannot welcome founders; nobody is welcomed twice.
    with unchanged(forming_circle), pytest.raises(NotPermitted, match="Only full participants"):
        forming_circle.welcome_founder("eli", "ivy", "full", today)
    with unchanged(forming_circle), pytest.raises(InvalidRequest, match="already part"):
        forming_circle.welcome_founder("ada", "hal", "full", today)

    # Once the circle is active, newcomers apply instead.
    with unchanged(circle), pytest.raises(WrongStage, match="apply instead"):
        circle.welcome_founder("ada", "hal", "full", today)


def test_the_secretary_leaving_frees_the_records_for_any_full_participant(circle, today):
    # Ada, the secretary, leaves; her hat is released.
    circle.leave("ada", "ada", today, note="Thank you for keeping the logbook")
    assert circle.wearers(SECRETARY) == []

    # Until someone is selected, any full participant keeps the records.
    circle.receive_application("fay", "full", today)
    circle.start_trial("dan", "fay", 2, today)
    assert circle.participant("fay").status == Membership.TRIAL
