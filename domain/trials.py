"""Trials: someone who applied takes part for the 1 to 3 sessions agreed with the circle, and
the records keeper counts each session held. After the last they are admitted; either side
may end the trial before, without a reason (`Circle.decline`)."""

from __future__ import annotations

from domain.errors import InvalidRequest, WrongStage
from domain.records import Participant
from domain.values import Membership

FEWEST_SESSIONS, MOST_SESSIONS = 1, 3


def check_sessions(sessions: int) -> int:
    """The number of sessions a trial is agreed for: 1 to 3."""
    if isinstance(sessions, bool) or not isinstance(sessions, int):
        raise InvalidRequest("Say how many sessions the trial is: 1, 2 or 3")
    if not FEWEST_SESSIONS <= sessions <= MOST_SESSIONS:
        raise InvalidRequest(f"A trial is 1 to 3 sessions, not {sessions}")
    return sessions


def sessions_agreed(participant: Participant) -> int:
    """The sessions agreed for their trial; a trial started before sessions were counted
    agreed no number, and may hold as many as any trial."""
    return participant.trial_sessions or MOST_SESSIONS


def check_session_to_hold(participant: Participant) -> int:
    """The number of the next session of their trial, unless all agreed were held."""
    agreed = sessions_agreed(participant)
    if participant.sessions_held >= agreed:
        raise WrongStage(
            f"All {agreed} agreed sessions of this trial were held: admit them, or end the trial"
        )
    return participant.sessions_held + 1


def check_trial_over(participant: Participant) -> None:
    """Someone on trial is admitted after its last agreed session (a trial started before
    sessions were counted, at any time)."""
    if participant.status != Membership.TRIAL or participant.trial_sessions is None:
        return
    if participant.sessions_held < participant.trial_sessions:
        raise WrongStage(
            f"{participant.sessions_held} of the {participant.trial_sessions} agreed trial "
            "sessions were held: admit after the last, or end the trial"
        )
