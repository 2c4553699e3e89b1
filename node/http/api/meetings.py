"""Meetings: scheduled by the facilitator; attendance, the agenda, items decided and minutes."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, status
from pydantic import BaseModel, Field

from domain.meeting import Meeting
from node.http.api.auth import Node, Person
from node.http.api.errors import ERROR_RESPONSES
from node.http.api.fields import Body, Ref, Say, Title, aware
from node.http.api.paging import Page, Paging, page_of
from node.http.api.threaded import ThreadedRoute

router = APIRouter(route_class=ThreadedRoute, tags=["meetings"], responses=ERROR_RESPONSES)


class AgendaItemOut(BaseModel):
    number: int
    title: str
    outcome: str | None
    reference: str | None = Field(description="E.g. the proposal or decision it concerned")


class MeetingOut(BaseModel):
    id: str
    title: str
    when: datetime
    stage: str = Field(description="planned, open, agenda_consented, minutes_recorded or closed")
    present: list[str]
    absent: list[str]
    agenda: list[AgendaItemOut]
    minutes: str | None


def meeting_out(meeting: Meeting) -> MeetingOut:
    return MeetingOut(
        id=str(meeting.id),
        title=meeting.title,
        when=meeting.when,
        stage=str(meeting.stage),
        present=list(meeting.present),
        absent=list(meeting.absent),
        agenda=[
            AgendaItemOut(number=number, **vars(item))
            for number, item in enumerate(meeting.agenda, start=1)
        ],
        minutes=meeting.minutes,
    )


@router.get("/meetings", summary="Meetings, in the order they were scheduled (paginated)")
def list_meetings(node: Node, by: Person, paging: Paging) -> Page[MeetingOut]:
    return page_of([meeting_out(m) for m in node.records.list_meetings()], paging)


@router.get("/meetings/{meeting_id}", summary="One meeting: attendance, agenda, minutes")
def get_meeting(node: Node, by: Person, meeting_id: str) -> MeetingOut:
    return meeting_out(node.records.get_meeting(meeting_id))


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
    return meeting_out(node.records.get_meeting(meeting_id))


class AttendanceIn(BaseModel):
    present: list[Ref] = Field(max_length=1000, description="Person ids of who came")


@router.post(
    "/meetings/{meeting_id}/attendance",
    summary="Record who came (the secretary); the others are recorded absent",
)
def record_attendance(node: Node, by: Person, meeting_id: str, body: AttendanceIn) -> MeetingOut:
    node.meetings.record_attendance(by, meeting_id, body.present)
    return meeting_out(node.records.get_meeting(meeting_id))


class AgendaIn(BaseModel):
    items: list[Title] = Field(max_length=200)


@router.post(
    "/meetings/{meeting_id}/agenda",
    summary="Record the agenda the meeting consented to (the facilitator)",
)
def consent_agenda(node: Node, by: Person, meeting_id: str, body: AgendaIn) -> MeetingOut:
    node.meetings.consent_agenda(by, meeting_id, body.items)
    return meeting_out(node.records.get_meeting(meeting_id))


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
    return meeting_out(node.records.get_meeting(meeting_id))


class MinutesIn(BaseModel):
    text: Body


@router.post("/meetings/{meeting_id}/minutes", summary="Record the minutes (the secretary)")
def record_minutes(node: Node, by: Person, meeting_id: str, body: MinutesIn) -> MeetingOut:
    node.meetings.record_minutes(by, meeting_id, body.text)
    return meeting_out(node.records.get_meeting(meeting_id))


@router.post(
    "/meetings/{meeting_id}/minutes/consent",
    summary="Record that the minutes were consented (the facilitator); the meeting closes",
)
def consent_minutes(node: Node, by: Person, meeting_id: str) -> MeetingOut:
    node.meetings.consent_minutes(by, meeting_id)
    return meeting_out(node.records.get_meeting(meeting_id))
