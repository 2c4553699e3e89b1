"""Trials: an applicant takes part for 1 to 3 sessions agreed with the circle; the secretary
counts each session held; after the last they are admitted; either side may end the trial
before, without a reason."""

from __future__ import annotations

from datetime import timedelta

import pytest

from domain.errors import InvalidRequest, NotPermitted, WrongStage
from domain.values import Membership


def test_a_trial_of_two_sessions_is_counted_and_admission_follows_the_last(
    circle, today, event_names, unchanged
):
    # Fay applies; Ada, the secretary, starts her trial of two sessions.
    circle.receive_application("fay", "full", today)
    circle.start_trial("ada", "fay", 2, today)
    fay = circle.participant("fay")
    assert (fay.status, fay.trial_sessions, fay.sessions_held) == (Membership.TRIAL, 2, 0)
    assert event_names(circle) == ["Applied", "TrialStarted"]

    # Ada counts the first session; Fay cannot be admitted yet.
    assert circle.hold_trial_session("ada", "fay", today + timedelta(days=7)) == 1
    with unchanged(circle), pytest.raises(WrongStage, match="1 of the 2 agreed trial sessions"):
        circle.admit("ada", "fay", "full", today + timedelta(days=8))

    # The second session is held; there is no third.
    assert circle.hold_trial_session("ada", "fay", today + timedelta(days=14)) == 2
    assert event_names(circle) == ["TrialSessionHeld"]
    with unchanged(circle), pytest.raises(WrongStage, match="All 2 agreed sessions"):
        circle.hold_trial_session("ada", "fay", today + timedelta(days=21))

    # After the last session Ada admits her; the record keeps how her trial went.
    circle.admit("ada", "fay", "full", today + timedelta(days=15))
    fay = circle.participant("fay")
    assert (fay.status, fay.trial_sessions, fay.sessions_held) == (Membership.ACTIVE, 2, 2)


@pytest.mark.parametrize(
    ("sessions", "match"),
    [
        (0, "A trial is 1 to 3 sessions, not 0"),
        (4, "A trial is 1 to 3 sessions, not 4"),
        (-1, "A trial is 1 to 3 sessions, not -1"),
        (True, "Say how many sessions the trial is"),
        ("2", "Say how many sessions the trial is"),
    ],
)
def test_a_trial_is_one_to_three_sessions(circle, today, unchanged, sessions, match):
    # Fay applies; a trial of any other number of sessions is refused.
    circle.receive_application("fay", "full", today)
    with unchanged(circle), pytest.raises(InvalidRequest, match=match):
        circle.start_trial("ada", "fay", sessions, today)


def test_only_someone_on_trial_holds_trial_sessions_counted_by_the_secretary(
    circle, today, unchanged
):
    # Fay has applied, no trial started: no session can be counted.
    circle.receive_application("fay", "full", today)
    with unchanged(circle), pytest.raises(WrongStage, match="Someone who is applied cannot hold"):
        circle.hold_trial_session("ada", "fay", today)

    # Dan, active, holds no trial.
    with unchanged(circle), pytest.raises(WrongStage, match="Someone who is active cannot hold"):
        circle.hold_trial_session("ada", "dan", today)

    # Fay's trial of three sessions starts; Dan, who does not wear the secretary hat, cannot
    # count a session.
    circle.start_trial("ada", "fay", 3, today)
    with (
        unchanged(circle),
        pytest.raises(NotPermitted, match="Only the secretary can count a trial session"),
    ):
        circle.hold_trial_session("dan", "fay", today)


@pytest.mark.parametrize("who", ["fay", "ada"])
def test_either_side_ends_a_trial_without_a_reason(circle, today, event_names, who):
    # Fay's trial of three sessions has held one.
    circle.receive_application("fay", "full", today)
    circle.start_trial("ada", "fay", 3, today)
    circle.hold_trial_session("ada", "fay", today)
    circle.collect_events()

    # Fay herself, or Ada for the circle, ends it: no reason asked.
    circle.decline(who, "fay", today + timedelta(days=3))

    # Fay's trial is over; she is declined, and the record keeps the sessions held.
    fay = circle.participant("fay")
    assert (fay.status, fay.sessions_held, fay.note_of_appreciation) == (
        Membership.DECLINED,
        1,
        None,
    )
    assert event_names(circle) == ["MembershipChanged"]


def test_a_trial_started_before_sessions_were_counted_goes_on(circle, today):
    # Fay's trial was recorded as the circle recorded trials before they were counted: no
    # number of sessions agreed.
    circle.receive_application("fay", "full", today)
    circle._membership_changed("fay", Membership.TRIAL, today, None)
    assert circle.participant("fay").trial_sessions is None

    # Its sessions are counted from now on, up to the most any trial has; she may be admitted
    # whenever the circle is ready.
    assert circle.hold_trial_session("ada", "fay", today) == 1
    circle.admit("ada", "fay", "full", today)
    assert circle.participant("fay").status == Membership.ACTIVE
