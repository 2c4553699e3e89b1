"""Meetings: scheduled by the facilitator; absences told ahead, attendance, the agenda (some
items confidential), items decided and minutes.

A confidential item, its outcome and the minutes of confidential items are read by full and
learning participants only: a guest gets the meeting with each confidential item withheld in
its place (its number kept, its title, outcome and reference left out) and without the
confidential minutes."""

from __future__ import annotations

from datetime import datetime, tzinfo

from fastapi import APIRouter, status
from pydantic import BaseModel, Field

from domain.meeting import Meeting, reads_confidential
from domain.records import AgendaItem
from node.app.node import CircleNode
from node.http.api.auth import Node, Person
from node.http.api.errors import ERROR_RESPONSES
from node.http.api.fields import Body, Ref, Say, Title, aware, in_zone
from node.http.api.paging import Page, Paging, window_of
from node.http.api.threaded import ThreadedRoute

router = APIRouter(route_class=ThreadedRoute, tags=["meetings"], responses=ERROR_RESPONSES)


class AgendaItemOut(BaseModel):
    number: int
    title: str | None = Field(description="Null for a confidential item withheld from you")
    outcome: str | None
    reference: str | None = Field(description="E.g. the proposal or decision it concerned")
    confidential: bool = Field(
        False, description="Read by full and learning participants only; guests leave for it"
    )
    withheld: bool = Field(
        False, description="A confidential item you do not read (you take part as a guest)"
    )
    guests_left: list[str] | None = Field(
        None,
        description="The guests who left for this confidential item (null: not asked yet)",
    )


class AbsenceOut(BaseModel):
    person_id: str
    told_by: str = Field(description="The person, or the secretary who recorded it for them")
    note: str | None


class MeetingOut(BaseModel):
    id: str
    title: str
    when: datetime = Field(description="In the circle's time zone, with its offset")
    stage: str = Field(description="planned, open, agenda_consented, minutes_recorded or closed")
    present: list[str]
    absent: list[str] = Field(description="Who did not come, whether they told ahead or not")
    absences_told: list[AbsenceOut] = Field(
        [],
        description="Who told the secretary ahead they would be absent (one who then came "
        "is present)",
    )
    absent_with_notice: list[str] = Field(
        [], description="Of those absent, who had told the secretary ahead"
    )
    agenda: list[AgendaItemOut]
    minutes: str | None = Field(description="The minutes, without those of confidential items")
    confidential_minutes: str | None = Field(
        None,
        description="The minutes of confidential items; null for a guest, who does not read them",
    )


def _item_out(number: int, item: AgendaItem, confidential: bool) -> AgendaItemOut:
    if item.confidential and not confidential:
        return AgendaItemOut(
            number=number,
            title=None,
            outcome=None,
            reference=None,
            confidential=True,
            withheld=True,
            guests_left=item.guests_left,
        )
    return AgendaItemOut(number=number, **vars(item))


def meeting_out(meeting: Meeting, level: str, zone: tzinfo) -> MeetingOut:
    """The meeting as a participant of `level` reads it, its time in the circle's time zone
    `zone`."""
    confidential = reads_confidential(level)
    return MeetingOut(
        id=str(meeting.id),
        title=meeting.title,
        when=in_zone(meeting.when, zone),
        stage=str(meeting.stage),
        present=list(meeting.present),
        absent=list(meeting.absent),
        absences_told=[AbsenceOut(**vars(notice)) for notice in meeting.absences],
        absent_with_notice=meeting.absent_with_notice,
        agenda=[
            _item_out(number, item, confidential)
            for number, item in enumerate(meeting.agenda, start=1)
        ],
        minutes=meeting.minutes,
        confidential_minutes=meeting.confidential_minutes if confidential else None,
    )


def _read(node: CircleNode, by: str, meeting_id: str) -> MeetingOut:
    meeting = node.records.get_meeting(meeting_id)
    return meeting_out(meeting, node.meetings.reader_level(by), node.records.time_zone())


@router.get("/meetings", summary="Meetings, in the order they were scheduled (paginated)")
def list_meetings(node: Node, by: Person, paging: Paging) -> Page[MeetingOut]:
    level, zone = node.meetings.reader_level(by), node.records.time_zone()
    window, total = node.records.window("meeting", Meeting, paging.offset, paging.limit)
    return window_of([meeting_out(m, level, zone) for m in window], total, paging)


@router.get("/meetings/{meeting_id}", summary="One meeting: attendance, agenda, minutes")
def get_meeting(node: Node, by: Person, meeting_id: str) -> MeetingOut:
    return _read(node, by, meeting_id)


class MeetingIn(BaseModel):
    title: Title
    when: datetime = Field(description="With a time zone")


@router.post(
    "/meetings",
    status_code=status.HTTP_201_CREATED,
    summary="Schedule a meeting (the facilitator)",
)
def schedule_meeting(node: Node, by: Person, body: MeetingIn) -> MeetingOut:
    meeting_id = node.meetings.schedule_meeting(by, body.title, aware(body.when, "meeting's time"))
    return _read(node, by, meeting_id)


class AbsenceIn(BaseModel):
    person_id: Ref | None = Field(
        None, description="Who will be absent: you (the default), or, for the secretary, anyone"
    )
    note: Say | None = Field(None, description="E.g. why, or what to pass on")


@router.post(
    "/meetings/{meeting_id}/absences",
    summary="Tell the secretary you will be absent (a full participant, before the meeting); "
    "the secretary records it for others",
)
def tell_absence(node: Node, by: Person, meeting_id: str, body: AbsenceIn) -> MeetingOut:
    node.meetings.tell_absence(by, meeting_id, body.person_id or by, body.note)
    return _read(node, by, meeting_id)


class AttendanceIn(BaseModel):
    present: list[Ref] = Field(max_length=1000, description="Person ids of who came")


@router.post(
    "/meetings/{meeting_id}/attendance",
    summary="Record who came (the secretary); the others are recorded absent",
)
def record_attendance(node: Node, by: Person, meeting_id: str, body: AttendanceIn) -> MeetingOut:
    node.meetings.record_attendance(by, meeting_id, body.present)
    return _read(node, by, meeting_id)


class AgendaItemIn(BaseModel):
    title: Title
    confidential: bool = Field(
        False,
        description="Read by full and learning participants only; guests leave for it, and "
        "it never leaves the node",
    )


class AgendaIn(BaseModel):
    items: list[Title | AgendaItemIn] = Field(
        max_length=200, description="Titles, or items with a title that may be confidential"
    )


@router.post(
    "/meetings/{meeting_id}/agenda",
    summary="Record the agenda the meeting consented to (the facilitator)",
)
def consent_agenda(node: Node, by: Person, meeting_id: str, body: AgendaIn) -> MeetingOut:
    items = [
        item if isinstance(item, str) else AgendaItem(item.title, confidential=item.confidential)
        for item in body.items
    ]
    node.meetings.consent_agenda(by, meeting_id, items)
    return _read(node, by, meeting_id)


@router.post(
    "/meetings/{meeting_id}/agenda/{number}/guests-left",
    summary="Ask the guests to leave for a confidential item (the facilitator); who left is "
    "recorded",
)
def ask_guests_to_leave(node: Node, by: Person, meeting_id: str, number: int) -> MeetingOut:
    node.meetings.ask_guests_to_leave(by, meeting_id, number)
    return _read(node, by, meeting_id)


class ItemDecidedIn(BaseModel):
    outcome: Say
    reference: Ref | None = Field(None, description="E.g. the proposal or decision it concerned")


@router.post(
    "/meetings/{meeting_id}/agenda/{number}/decided",
    summary="Record what was decided on an agenda item (the secretary)",
)
def record_item_decided(
    node: Node, by: Person, meeting_id: str, number: int, body: ItemDecidedIn
) -> MeetingOut:
    node.meetings.record_item_decided(by, meeting_id, number, body.outcome, body.reference)
    return _read(node, by, meeting_id)


class MinutesIn(BaseModel):
    text: Body = Field(description="The minutes; those of confidential items go apart")
    confidential_text: Body | None = Field(
        None,
        description="The minutes of the confidential items, read by full and learning "
        "participants only",
    )


@router.post("/meetings/{meeting_id}/minutes", summary="Record the minutes (the secretary)")
def record_minutes(node: Node, by: Person, meeting_id: str, body: MinutesIn) -> MeetingOut:
    node.meetings.record_minutes(by, meeting_id, body.text, body.confidential_text)
    return _read(node, by, meeting_id)


@router.post(
    "/meetings/{meeting_id}/minutes/consent",
    summary="Record that the minutes were consented (the facilitator); the meeting closes",
)
def consent_minutes(node: Node, by: Person, meeting_id: str) -> MeetingOut:
    node.meetings.consent_minutes(by, meeting_id)
    return _read(node, by, meeting_id)
