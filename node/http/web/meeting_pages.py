"""Meetings: the list (each meeting linked to its page, those whose minutes wait for the
signed-in person's consent marked), the form to schedule one, and each meeting's own page.

On a meeting's page the circle's rules (domain/meeting.py) offer each step to those who take
it, at its stage: before the meeting, a full participant tells the secretary they will be
absent, and the secretary records it for anyone; the secretary records who came; the
facilitator records the agenda the meeting consented to (items may be confidential) and asks
the guests to leave for a confidential item; the secretary records what was decided on each
item and the minutes (those of confidential items apart); the facilitator records that the
minutes were consented, which closes the meeting. While nobody wears the facilitator's or the
secretary's hat, any full participant does what it would. A guest reads a confidential item
as withheld, without its outcome or the confidential minutes. The domain decides; a refusal is
shown beside the field it is about, or at the top of the page.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import APIRouter
from fastapi.responses import Response

from domain.circle import Circle
from domain.errors import DomainError
from domain.hats import SECRETARY
from domain.meeting import Meeting, reads_confidential
from domain.records import AgendaItem
from domain.values import ACTING, Level, MeetingStage
from node.app.node import CircleNode
from node.app.waiting import Waiting, waiting_for
from node.http.web.circle_pages import facilitates
from node.http.web.forms import FieldRefused, Form
from node.http.web.names import Names
from node.http.web.refusals import refusal
from node.http.web.visits import Member, MemberPost, PageRoute, Visit

router = APIRouter(route_class=PageRoute)

# The member API's operations these pages carry out (node.http.web.page_table).
OPERATIONS = {
    "GET /api/meetings": "/meetings",
    "POST /api/meetings": "/meetings",
    "GET /api/meetings/{meeting_id}": "/meetings/{meeting_id}",
    "POST /api/meetings/{meeting_id}/absences": "/meetings/{meeting_id}",
    "POST /api/meetings/{meeting_id}/attendance": "/meetings/{meeting_id}",
    "POST /api/meetings/{meeting_id}/agenda": "/meetings/{meeting_id}",
    "POST /api/meetings/{meeting_id}/agenda/{number}/guests-left": "/meetings/{meeting_id}",
    "POST /api/meetings/{meeting_id}/agenda/{number}/decided": "/meetings/{meeting_id}",
    "POST /api/meetings/{meeting_id}/minutes": "/meetings/{meeting_id}",
    "POST /api/meetings/{meeting_id}/minutes/consent": "/meetings/{meeting_id}",
}

# The agenda form's rows (blank ones are left out); a longer agenda is recorded by the API.
AGENDA_ROWS = 10
WITHHELD = "A confidential item (withheld)"


def keeps_records(circle: Circle, person: str) -> bool:
    """Whether the circle's rules let this person keep its records: the secretary, or any full
    participant while nobody wears that hat (as domain.membership decides)."""
    participant = circle.participants.get(person)
    if participant is None or participant.status not in ACTING:
        return False
    wearers = circle.wearers(SECRETARY)
    return person in wearers if wearers else participant.level == Level.FULL


def _agenda(meeting: Meeting, reads: bool, names: Names) -> list[dict[str, Any]]:
    """The items as this reader reads them: a confidential one withheld from a guest (its
    number kept, and who left for it)."""
    items = []
    for number, item in enumerate(meeting.agenda, start=1):
        withheld = item.confidential and not reads
        items.append(
            {
                "number": number,
                "title": WITHHELD if withheld else item.title,
                "confidential": item.confidential,
                "withheld": withheld,
                "outcome": None if withheld else item.outcome,
                "reference": None if withheld else item.reference,
                "guests_left": None
                if item.guests_left is None
                else [names(p) for p in item.guests_left],
            }
        )
    return items


def _minutes_waiting(node: CircleNode, person: str) -> set[str]:
    """The meetings whose minutes wait for this person to record the circle's consent."""
    return {
        item.record_id for item in waiting_for(node.records, person) if item.what == Waiting.MINUTES
    }


def _meetings_page(found: Visit, status: int = 200, **extra: Any) -> Response:
    node = found.node
    me = found.person or ""
    names = Names(node)
    reads = reads_confidential(node.meetings.reader_level(me))
    waiting = _minutes_waiting(node, me)
    meetings = [
        {
            "id": str(meeting.id),
            "title": meeting.title,
            "when": node.records.local(meeting.when),
            "stage": meeting.stage,
            "present": [names(p) for p in meeting.present],
            "absent": [names(p) for p in meeting.absent],
            "agenda": _agenda(meeting, reads, names),
            "minutes": meeting.minutes,
            "confidential_minutes": meeting.confidential_minutes if reads else None,
            "waits_for_me": str(meeting.id) in waiting,
        }
        for meeting in sorted(node.records.list_meetings(), key=lambda m: m.when, reverse=True)
    ]
    return found.page(
        "meetings.html",
        status,
        meetings=meetings,
        can_schedule=facilitates(node.records.peek_circle(), me),
        **extra,
    )


@router.get("/meetings", include_in_schema=False)
def meetings_page(found: Member) -> Response:
    return _meetings_page(found)


@router.post("/meetings", include_in_schema=False)
def schedule_meeting(posted: MemberPost) -> Response:
    found, form = posted.visit, posted.form
    try:
        when = form.moment("when", "meeting's date and time", found.node.records.time_zone())
        if when is None:
            raise FieldRefused("when", "Say when the meeting is")
        found.node.meetings.schedule_meeting(posted.person, form.get("title"), when)
    except DomainError as error:
        shown = refusal(error, "schedule", form, main_field="when")
        return _meetings_page(found, shown.status, refused=shown)
    return found.redirect("/meetings", "The meeting is scheduled.")


def meeting_view(found: Visit, meeting: Meeting) -> dict[str, Any]:
    """What a meeting's page shows, and which forms it offers this person."""
    node = found.node
    circle = node.records.peek_circle()
    names = Names(node)
    me = found.person or ""
    participant = circle.participants.get(me)
    full = (
        participant is not None and participant.status in ACTING and participant.level == Level.FULL
    )
    reads = reads_confidential(node.meetings.reader_level(me))
    facilitator = facilitates(circle, me)
    keeper = keeps_records(circle, me)
    stage = meeting.stage
    agenda = _agenda(meeting, reads, names)
    told = set(meeting.told_absent)
    # Who may be recorded absent ahead: the full participants who have not told yet.
    absent_ahead = [(p, names(p)) for p in circle.full_participants() if p not in told]
    planned = stage == MeetingStage.PLANNED
    taking_items = stage == MeetingStage.AGENDA_CONSENTED
    return {
        "meeting": meeting,
        "id": str(meeting.id),
        "when": node.records.local(meeting.when),
        "stage": stage,
        # By name: the record keeps them by id.
        "present": sorted(names(p) for p in meeting.present),
        "absent": sorted(
            ({"name": names(p), "told": p in told} for p in meeting.absent),
            key=lambda person: str(person["name"]),
        ),
        "absences": [
            {
                "name": names(notice.person_id),
                "told_by": names(notice.told_by) if notice.told_by != notice.person_id else "",
                "note": notice.note,
            }
            for notice in meeting.absences
        ],
        "agenda": agenda,
        "minutes": meeting.minutes,
        "confidential_minutes": meeting.confidential_minutes if reads else None,
        "agenda_rows": range(1, AGENDA_ROWS + 1),
        # Who the secretary may record present, and absent ahead (full participants only).
        "acting": [(p, names(p)) for p in circle.acting_participants()],
        "told": told,
        "absent_ahead": absent_ahead,
        "can": {
            "absence": planned and ((keeper and bool(absent_ahead)) or (full and me not in told)),
            "absence_for_others": planned and keeper,
            "attendance": planned and keeper,
            "agenda": stage == MeetingStage.OPEN and facilitator,
            "guests_leave": taking_items and facilitator and reads,
            "decide": taking_items and keeper,
            "minutes": taking_items and keeper,
            "confidential_minutes": taking_items
            and keeper
            and reads
            and any(item.confidential for item in meeting.agenda),
            "consent_minutes": stage == MeetingStage.MINUTES_RECORDED and facilitator,
        },
    }


def _meeting_page(found: Visit, meeting_id: str, status: int = 200, **extra: Any) -> Response:
    meeting = found.node.records.get_meeting(meeting_id)
    return found.page("meeting.html", status, **meeting_view(found, meeting), **extra)


@router.get("/meetings/{meeting_id}", include_in_schema=False)
def meeting_page(found: Member, meeting_id: str) -> Response:
    return _meeting_page(found, meeting_id)


# A step of a meeting's page: takes the node, who, the meeting's id and the form, and returns
# the sentence shown once it is done.
Step = Callable[[CircleNode, str, str, Form], str]


def _take(
    posted: MemberPost, meeting_id: str, form_name: str, main_field: str, step: Step
) -> Response:
    found, form = posted.visit, posted.form
    found.node.records.get_meeting(meeting_id)  # NotFound: a 404 page
    try:
        notice = step(found.node, posted.person, meeting_id, form)
    except DomainError as error:
        shown = refusal(error, form_name, form, main_field)
        return _meeting_page(found, meeting_id, shown.status, refused=shown)
    return found.redirect(f"/meetings/{meeting_id}", notice)


@router.post("/meetings/{meeting_id}/absences", include_in_schema=False)
def tell_absence(posted: MemberPost, meeting_id: str) -> Response:
    def step(node: CircleNode, by: str, mid: str, form: Form) -> str:
        person = form.get("person_id") or by
        node.meetings.tell_absence(by, mid, person, form.get("note"))
        if person == by:
            return "The secretary knows you will be absent."
        return f"{node.records.person_name(person)}'s absence is recorded."

    return _take(posted, meeting_id, "absence", "person_id", step)


@router.post("/meetings/{meeting_id}/attendance", include_in_schema=False)
def record_attendance(posted: MemberPost, meeting_id: str) -> Response:
    def step(node: CircleNode, by: str, mid: str, form: Form) -> str:
        node.meetings.record_attendance(by, mid, form.getlist("present"))
        return "Attendance is recorded: the meeting is open."

    return _take(posted, meeting_id, "attendance", "present", step)


@router.post("/meetings/{meeting_id}/agenda", include_in_schema=False)
def consent_agenda(posted: MemberPost, meeting_id: str) -> Response:
    def step(node: CircleNode, by: str, mid: str, form: Form) -> str:
        items = [
            AgendaItem(form.get(f"item{row}"), confidential=bool(form.get(f"confidential{row}")))
            for row in range(1, AGENDA_ROWS + 1)
        ]
        node.meetings.consent_agenda(by, mid, items)
        return "The agenda is recorded."

    return _take(posted, meeting_id, "agenda", "item1", step)


@router.post("/meetings/{meeting_id}/agenda/{number}/guests-left", include_in_schema=False)
def ask_guests_to_leave(posted: MemberPost, meeting_id: str, number: int) -> Response:
    def step(node: CircleNode, by: str, mid: str, form: Form) -> str:
        node.meetings.ask_guests_to_leave(by, mid, number)
        return f"The guests have left for item {number}."

    return _take(posted, meeting_id, f"guests{number}", "", step)


@router.post("/meetings/{meeting_id}/agenda/{number}/decided", include_in_schema=False)
def record_item_decided(posted: MemberPost, meeting_id: str, number: int) -> Response:
    def step(node: CircleNode, by: str, mid: str, form: Form) -> str:
        reference = form.get("reference").strip() or None
        node.meetings.record_item_decided(by, mid, number, form.get("outcome"), reference)
        return f"What was decided on item {number} is recorded."

    return _take(posted, meeting_id, f"item{number}", "outcome", step)


@router.post("/meetings/{meeting_id}/minutes", include_in_schema=False)
def record_minutes(posted: MemberPost, meeting_id: str) -> Response:
    def step(node: CircleNode, by: str, mid: str, form: Form) -> str:
        node.meetings.record_minutes(by, mid, form.get("text"), form.get("confidential_text"))
        return "The minutes are recorded; they wait for the circle's consent."

    return _take(posted, meeting_id, "minutes", "text", step)


@router.post("/meetings/{meeting_id}/minutes/consent", include_in_schema=False)
def consent_minutes(posted: MemberPost, meeting_id: str) -> Response:
    def step(node: CircleNode, by: str, mid: str, form: Form) -> str:
        node.meetings.consent_minutes(by, mid)
        return "The minutes are consented: the meeting is closed."

    return _take(posted, meeting_id, "consent", "", step)
