"""Meetings and the logbook: attendance, the agenda consented, items decided, minutes consented."""

from __future__ import annotations

from datetime import timedelta

import pytest

from domain.errors import InvalidRequest, NotFound, NotPermitted, WrongStage
from domain.meeting import Meeting
from domain.values import MeetingStage


def test_a_meeting_from_attendance_to_consented_minutes(circle, now):
    # Ben, the facilitator, schedules the monthly meeting.
    meeting = Meeting.schedule(circle, "ben", "March circle meeting", now + timedelta(days=3))
    assert meeting.stage == MeetingStage.PLANNED

    # Ada, the secretary, records who came; those who did not are recorded as absent.
    meeting.record_attendance(circle, "ada", ["ben", "ada", "cleo", "gus", "ada"])
    assert meeting.present == ["ada", "ben", "cleo", "gus"]
    assert meeting.absent == ["dan", "eli"]
    assert meeting.stage == MeetingStage.OPEN

    # The agenda is consented, blank items left out.
    meeting.consent_agenda(circle, "ben", ["Sunday kitchen", "  ", "Select a delegate"])
    assert [item.title for item in meeting.agenda] == ["Sunday kitchen", "Select a delegate"]
    assert meeting.stage == MeetingStage.AGENDA_CONSENTED

    # Ada records what was decided on each item.
    meeting.record_item_decided(circle, "ada", 1, "Consented", reference="proposal-1")
    meeting.record_item_decided(circle, "ada", 2, "Postponed to April")
    assert [(i.outcome, i.reference) for i in meeting.agenda] == [
        ("Consented", "proposal-1"),
        ("Postponed to April", None),
    ]

    # Ada records the minutes; the circle consents to them and the meeting closes.
    meeting.record_minutes(circle, "ada", "We opened the kitchen on Sundays.")
    assert meeting.stage == MeetingStage.MINUTES_RECORDED
    meeting.consent_minutes(circle, "ben")
    assert meeting.stage == MeetingStage.CLOSED
    assert meeting.minutes == "We opened the kitchen on Sundays."


def test_the_facilitator_schedules_and_the_meeting_needs_a_title(circle, now, unchanged):
    # Dan is not the facilitator.
    with (
        unchanged(circle),
        pytest.raises(NotPermitted, match="Only the facilitator can schedule a meeting"),
    ):
        Meeting.schedule(circle, "dan", "March circle meeting", now)

    # Ben is, but a meeting needs a title.
    with unchanged(circle), pytest.raises(InvalidRequest, match="A meeting needs a title"):
        Meeting.schedule(circle, "ben", " ", now)


def test_attendance_is_recorded_by_the_secretary_for_people_who_can_act(
    circle, now, today, unchanged
):
    # The meeting is scheduled; Hal has only applied, Dan has left.
    meeting = Meeting.schedule(circle, "ben", "March circle meeting", now)
    circle.receive_application("hal", "full", today)
    circle.leave("dan", "dan", today)

    # Only the secretary records attendance, and someone must be present.
    with unchanged(meeting), pytest.raises(NotPermitted, match="Only the secretary can record"):
        meeting.record_attendance(circle, "ben", ["ben"])
    with unchanged(meeting), pytest.raises(InvalidRequest, match="needs someone present"):
        meeting.record_attendance(circle, "ada", [])

    # Neither a leaver, an applicant nor a stranger is recorded as present.
    for person_id, error, match in (
        ("dan", NotPermitted, "has left the circle"),
        ("hal", NotPermitted, "not yet an active participant"),
        ("zed", NotFound, "not a participant"),
    ):
        with unchanged(meeting), pytest.raises(error, match=match):
            meeting.record_attendance(circle, "ada", ["ada", person_id])

    # Absentees are only those who could have come: not Dan, not Hal.
    meeting.record_attendance(circle, "ada", ["ada", "ben"])
    assert meeting.absent == ["cleo", "eli", "gus"]


def test_each_step_of_a_meeting_comes_in_its_turn(circle, now, unchanged):
    # The meeting is scheduled: no agenda, items or minutes before attendance.
    meeting = Meeting.schedule(circle, "ben", "March circle meeting", now)
    with (
        unchanged(meeting),
        pytest.raises(WrongStage, match="Cannot consent to the agenda: the meeting is planned"),
    ):
        meeting.consent_agenda(circle, "ben", ["Sunday kitchen"])
    with unchanged(meeting), pytest.raises(WrongStage, match="Cannot record minutes"):
        meeting.record_minutes(circle, "ada", "Too early")

    # Attendance is recorded once.
    meeting.record_attendance(circle, "ada", ["ada", "ben"])
    with unchanged(meeting), pytest.raises(WrongStage, match="Cannot record attendance"):
        meeting.record_attendance(circle, "ada", ["ada"])

    # No item is decided, and no minutes are recorded, before the agenda is consented.
    with unchanged(meeting), pytest.raises(WrongStage, match="Cannot record an item's outcome"):
        meeting.record_item_decided(circle, "ada", 1, "Consented")
    with unchanged(meeting), pytest.raises(WrongStage, match="meeting is open"):
        meeting.record_minutes(circle, "ada", "Too early")

    # The agenda needs an item, and only the facilitator records its consent.
    with unchanged(meeting), pytest.raises(InvalidRequest, match="at least one item"):
        meeting.consent_agenda(circle, "ben", [" "])
    with unchanged(meeting), pytest.raises(NotPermitted, match="Only the facilitator"):
        meeting.consent_agenda(circle, "dan", ["Sunday kitchen"])
    meeting.consent_agenda(circle, "ben", ["Sunday kitchen"])

    # Minutes cannot be consented before they are recorded.
    with unchanged(meeting), pytest.raises(WrongStage, match="Cannot consent to the minutes"):
        meeting.consent_minutes(circle, "ben")

    # Items are decided by number, with an outcome, recorded by the secretary.
    with unchanged(meeting), pytest.raises(InvalidRequest, match="The agenda has no item 2"):
        meeting.record_item_decided(circle, "ada", 2, "Consented")
    with unchanged(meeting), pytest.raises(InvalidRequest, match="Say what was decided"):
        meeting.record_item_decided(circle, "ada", 1, "")
    with unchanged(meeting), pytest.raises(NotPermitted, match="Only the secretary"):
        meeting.record_item_decided(circle, "ben", 1, "Consented")

    # Minutes need their text, and only the facilitator records their consent.
    with unchanged(meeting), pytest.raises(InvalidRequest, match="Minutes need their text"):
        meeting.record_minutes(circle, "ada", "  ")
    meeting.record_minutes(circle, "ada", "We talked about Sundays.")
    with unchanged(meeting), pytest.raises(WrongStage, match="Cannot record minutes"):
        meeting.record_minutes(circle, "ada", "Second thoughts")
    with unchanged(meeting), pytest.raises(NotPermitted, match="Only the facilitator"):
        meeting.consent_minutes(circle, "dan")
    meeting.consent_minutes(circle, "ben")

    # A closed meeting takes nothing more.
    with unchanged(meeting), pytest.raises(WrongStage, match="the meeting is closed"):
        meeting.consent_minutes(circle, "ben")


def test_a_meeting_belongs_to_its_circle(circle, found_circle, now, unchanged):
    # The kitchen circle schedules a meeting; another circle tries to record its attendance.
    meeting = Meeting.schedule(circle, "ben", "March circle meeting", now)
    other = found_circle()
    with unchanged(meeting), pytest.raises(InvalidRequest, match="belongs to another circle"):
        meeting.record_attendance(other, "ada", ["ada"])
