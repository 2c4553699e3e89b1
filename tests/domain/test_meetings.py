"""Meetings and the logbook: absences told ahead, attendance, the agenda consented (some items
confidential), items decided, minutes consented (their confidential part apart)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from domain.errors import InvalidRequest, NotFound, NotPermitted, WrongStage
from domain.meeting import Meeting, reads_confidential
from domain.records import AgendaItem
from domain.values import Level, MeetingStage


def test_a_meeting_from_attendance_to_consented_minutes(circle, now):
    # Ben, the facilitator, schedules the monthly meeting.
    meeting = Meeting.schedule(circle, "ben", "March circle meeting", now + timedelta(days=3), now)
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
        Meeting.schedule(circle, "dan", "March circle meeting", now, now)

    # Ben is, but a meeting needs a title.
    with unchanged(circle), pytest.raises(InvalidRequest, match="A meeting needs a title"):
        Meeting.schedule(circle, "ben", " ", now, now)


def test_a_meeting_is_not_planned_in_the_past(circle, now, unchanged):
    # Ben, the facilitator, dates a meeting yesterday: refused, with a sentence.
    with (
        unchanged(circle),
        pytest.raises(InvalidRequest, match="A meeting cannot be planned in the past"),
    ):
        Meeting.schedule(circle, "ben", "March circle meeting", now - timedelta(days=1), now)

    # A meeting that has just begun (the time entered to the minute) is still planned, as is
    # one next week.
    begun = Meeting.schedule(circle, "ben", "Now", now - timedelta(minutes=10), now)
    assert begun.stage == MeetingStage.PLANNED
    later = Meeting.schedule(circle, "ben", "Next week", now + timedelta(days=7), now)
    assert later.when == now + timedelta(days=7)


def test_attendance_is_recorded_by_the_secretary_for_people_who_can_act(
    circle, now, today, unchanged
):
    # The meeting is scheduled; Hal has only applied, Dan has left.
    meeting = Meeting.schedule(circle, "ben", "March circle meeting", now, now)
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
    meeting = Meeting.schedule(circle, "ben", "March circle meeting", now, now)
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
    meeting = Meeting.schedule(circle, "ben", "March circle meeting", now, now)
    other = found_circle()
    with unchanged(meeting), pytest.raises(InvalidRequest, match="belongs to another circle"):
        meeting.record_attendance(other, "ada", ["ada"])


# Confidential items: guests leave for them; they, their outcome and their minutes are read by
# full and learning participants only.


def open_meeting(circle, now, present=("ada", "ben", "cleo", "eli", "gus")):
    meeting = Meeting.schedule(circle, "ben", "March circle meeting", now, now)
    meeting.record_attendance(circle, "ada", list(present))
    return meeting


def test_a_confidential_item_is_taken_without_the_guests(circle, now, event_names, unchanged):
    # Given: Ada, Ben, Cleo, Eli and Gus (a guest) are at the meeting.
    meeting = open_meeting(circle, now)
    meeting.collect_events()

    # When: the agenda is consented with a confidential item among plain titles.
    meeting.consent_agenda(
        circle, "ben", ["Rota", AgendaItem("Dan's conduct", confidential=True), "Paid travel"]
    )

    # Then: the agenda as everyone reads it, then the confidential title, each its own event.
    assert event_names(meeting) == [
        "AgendaWithConfidentialItemsConsented",
        "ConfidentialItemsNamed",
    ]
    assert [(i.title, i.confidential) for i in meeting.agenda] == [
        ("Rota", False),
        ("Dan's conduct", True),
        ("Paid travel", False),
    ]
    assert meeting.agenda[1].guests_left is None

    # And: the confidential item is not taken while a guest is still there.
    with (
        unchanged(meeting),
        pytest.raises(WrongStage, match="Item 2 is confidential: the facilitator asks the guests"),
    ):
        meeting.record_item_decided(circle, "ada", 2, "Dan apologised")

    # When: Ben, the facilitator, asks the guests to leave for it.
    meeting.ask_guests_to_leave(circle, "ben", 2)

    # Then: the meeting records that Gus left for item 2 (Eli, learning, stays).
    assert event_names(meeting) == ["GuestsLeft"]
    assert meeting.agenda[1].guests_left == ["gus"]

    # When: Ada records its outcome, and the minutes with their confidential part apart.
    meeting.record_item_decided(circle, "ada", 2, "Dan apologised", reference="proposal-7")
    meeting.record_item_decided(circle, "ada", 1, "Rota agreed")
    meeting.record_minutes(
        circle, "ada", "We agreed the rota.", confidential_text="Dan apologised to Cleo."
    )

    # Then: the confidential outcome and minutes are events of their own; the minutes hold no
    # confidential text.
    assert event_names(meeting) == [
        "ConfidentialItemDecided",
        "ItemDecided",
        "ConfidentialMinutesRecorded",
        "MinutesRecorded",
    ]
    assert (meeting.agenda[1].outcome, meeting.agenda[1].reference) == (
        "Dan apologised",
        "proposal-7",
    )
    assert meeting.minutes == "We agreed the rota."
    assert meeting.confidential_minutes == "Dan apologised to Cleo."

    # And: what may leave the node is the open items, by their numbers.
    assert [(n, item.title) for n, item in meeting.open_agenda] == [
        (1, "Rota"),
        (3, "Paid travel"),
    ]
    assert meeting.stage == MeetingStage.MINUTES_RECORDED


def test_a_meeting_with_confidential_items_is_rebuilt_from_its_events(circle, now):
    # Given: a meeting whose agenda has two confidential items between open ones.
    meeting = open_meeting(circle, now)
    meeting.consent_agenda(
        circle,
        "ben",
        [
            AgendaItem("Pay", confidential=True),
            "Rota",
            AgendaItem("A complaint", confidential=True),
        ],
    )
    meeting.ask_guests_to_leave(circle, "ben", 3)
    meeting.record_item_decided(circle, "ada", 3, "Heard")
    meeting.record_minutes(circle, "ada", "Rota agreed", confidential_text="Pay frozen")

    # When: it is rebuilt from its events, as the store rebuilds it.
    rebuilt = None
    for stored in meeting.collect_events():
        rebuilt = stored.mutate(rebuilt)

    # Then: each confidential title stands where it was put, with its outcome.
    assert rebuilt is not None
    assert [(i.title, i.confidential, i.outcome) for i in rebuilt.agenda] == [
        ("Pay", True, None),
        ("Rota", False, None),
        ("A complaint", True, "Heard"),
    ]
    assert rebuilt.agenda[2].guests_left == ["gus"]
    assert (rebuilt.minutes, rebuilt.confidential_minutes) == ("Rota agreed", "Pay frozen")


def test_an_agenda_of_plain_titles_is_consented_as_before(circle, now, event_names):
    # Given: an open meeting.
    meeting = open_meeting(circle, now)
    meeting.collect_events()

    # When: the agenda is a list of titles, or of items none of which is confidential.
    meeting.consent_agenda(circle, "ben", ["Rota", AgendaItem(" Travel ")])

    # Then: it is the one event it always was, and its minutes have no confidential part.
    assert event_names(meeting) == ["AgendaConsented"]
    assert [(i.title, i.confidential) for i in meeting.agenda] == [
        ("Rota", False),
        ("Travel", False),
    ]
    assert meeting.confidential_minutes is None


def test_guests_leave_only_for_a_confidential_item_when_the_facilitator_asks(
    circle, now, unchanged
):
    # Given: an agenda with an open item and a confidential one.
    meeting = open_meeting(circle, now)
    meeting.consent_agenda(circle, "ben", ["Rota", AgendaItem("Pay", confidential=True)])

    # Only the facilitator asks the guests to leave, for an item on the agenda that is
    # confidential.
    with unchanged(meeting), pytest.raises(NotPermitted, match="Only the facilitator can ask"):
        meeting.ask_guests_to_leave(circle, "ada", 2)
    with unchanged(meeting), pytest.raises(InvalidRequest, match="The agenda has no item 3"):
        meeting.ask_guests_to_leave(circle, "ben", 3)
    with unchanged(meeting), pytest.raises(InvalidRequest, match="Item 1 is not confidential"):
        meeting.ask_guests_to_leave(circle, "ben", 1)

    # Once they have left for it, they have left.
    meeting.ask_guests_to_leave(circle, "ben", 2)
    with unchanged(meeting), pytest.raises(WrongStage, match="already left for item 2"):
        meeting.ask_guests_to_leave(circle, "ben", 2)

    # And: not before the agenda is consented.
    planned = Meeting.schedule(circle, "ben", "April circle meeting", now, now)
    with unchanged(planned), pytest.raises(WrongStage, match="Cannot ask the guests to leave"):
        planned.ask_guests_to_leave(circle, "ben", 1)


def test_without_guests_present_a_confidential_item_is_taken_at_once(circle, now, unchanged):
    # Given: no guest came (Gus is absent).
    meeting = open_meeting(circle, now, present=("ada", "ben", "eli"))
    meeting.consent_agenda(circle, "ben", [AgendaItem("Pay", confidential=True)])

    # When: Ada records the confidential item's outcome without anyone being asked to leave.
    meeting.record_item_decided(circle, "ada", 1, "Pay frozen")

    # Then: it is decided; nobody is recorded as having left, and it is too late to ask.
    assert meeting.agenda[0].outcome == "Pay frozen"
    assert meeting.agenda[0].guests_left is None
    with unchanged(meeting), pytest.raises(WrongStage, match="Item 1 is decided already"):
        meeting.ask_guests_to_leave(circle, "ben", 1)


def test_someone_present_who_stepped_back_since_leaves_with_the_guests(circle, now, today):
    # Given: Cleo, a full participant, came; then she stepped back before the confidential
    # item was taken.
    meeting = open_meeting(circle, now, present=("ada", "ben", "cleo"))
    meeting.consent_agenda(circle, "ben", [AgendaItem("Pay", confidential=True)])
    circle.step_back("cleo", "cleo", today)

    # Then: she is asked to leave as a guest would be: only acting full and learning
    # participants hear a confidential item.
    with pytest.raises(WrongStage, match="asks the guests to leave"):
        meeting.record_item_decided(circle, "ada", 1, "Pay frozen")
    meeting.ask_guests_to_leave(circle, "ben", 1)
    assert meeting.agenda[0].guests_left == ["cleo"]


def test_confidential_minutes_need_a_confidential_item(circle, now, unchanged):
    # Given: an agenda without a confidential item.
    meeting = open_meeting(circle, now)
    meeting.consent_agenda(circle, "ben", ["Rota"])

    # Then: the minutes have no confidential part.
    with (
        unchanged(meeting),
        pytest.raises(InvalidRequest, match="Only confidential items have confidential minutes"),
    ):
        meeting.record_minutes(circle, "ada", "Rota agreed", confidential_text="Secret")

    # And: a blank confidential part is no part.
    meeting.record_minutes(circle, "ada", "Rota agreed", confidential_text="  ")
    assert (meeting.minutes, meeting.confidential_minutes) == ("Rota agreed", None)


def test_full_and_learning_participants_read_confidential_items_guests_do_not():
    assert reads_confidential(Level.FULL)
    assert reads_confidential(Level.LEARNING)
    assert not reads_confidential(Level.GUEST)


# Absences: a full participant tells the secretary ahead that they will be absent.


def test_absences_told_ahead_are_kept_apart_from_absences(circle, now, event_names):
    # Given: the March meeting is planned; a meeting stored before absences reads none.
    meeting = Meeting.schedule(circle, "ben", "March circle meeting", now, now)
    assert "absences" not in vars(meeting) and meeting.absences == []
    meeting.collect_events()

    # When: Dan tells the secretary he will be absent, Ada records that Cleo will be, and
    # Ben tells he will be absent too.
    meeting.tell_absence(circle, "dan", "dan", "  Visiting my mother ")
    meeting.tell_absence(circle, "ada", "cleo")
    meeting.tell_absence(circle, "ben", "ben")

    # Then: each is recorded, with who told and the note.
    assert event_names(meeting) == ["AbsenceTold", "AbsenceTold", "AbsenceTold"]
    assert [(a.person_id, a.told_by, a.note) for a in meeting.absences] == [
        ("dan", "dan", "Visiting my mother"),
        ("cleo", "ada", None),
        ("ben", "ben", None),
    ]

    # When: Ben came after all; Dan, Cleo and Eli did not.
    meeting.record_attendance(circle, "ada", ["ada", "ben", "gus"])

    # Then: Ben is present; Dan and Cleo were absent having told; Eli was simply absent.
    assert meeting.present == ["ada", "ben", "gus"]
    assert meeting.absent == ["cleo", "dan", "eli"]
    assert meeting.absent_with_notice == ["cleo", "dan"]
    assert meeting.absent_without_notice == ["eli"]


def test_an_absence_is_told_by_a_full_participant_before_the_meeting(circle, now, today, unchanged):
    # Given: the March meeting is planned; Dan stepped back.
    meeting = Meeting.schedule(circle, "ben", "March circle meeting", now, now)
    circle.step_back("dan", "dan", today)

    # Only the secretary records someone else's absence.
    with (
        unchanged(meeting),
        pytest.raises(NotPermitted, match="Only the secretary can record someone else's absence"),
    ):
        meeting.tell_absence(circle, "ben", "cleo")

    # Only full participants tell it (Eli is learning, Gus a guest), and only those who act.
    for person_id, error, match in (
        ("eli", NotPermitted, "Only full participants can tell the secretary"),
        ("gus", NotPermitted, "Only full participants can tell the secretary"),
        ("dan", NotPermitted, "has stepped back"),
        ("zed", NotFound, "not a participant"),
    ):
        with unchanged(meeting), pytest.raises(error, match=match):
            meeting.tell_absence(circle, "ada", person_id)

    # Once told, it is told.
    meeting.tell_absence(circle, "cleo", "cleo")
    with unchanged(meeting), pytest.raises(WrongStage, match="already told the secretary"):
        meeting.tell_absence(circle, "ada", "cleo")

    # And: once the meeting has begun, it is too late.
    meeting.record_attendance(circle, "ada", ["ada", "ben"])
    with (
        unchanged(meeting),
        pytest.raises(WrongStage, match="Cannot record an absence: the meeting is open"),
    ):
        meeting.tell_absence(circle, "ben", "ben")
