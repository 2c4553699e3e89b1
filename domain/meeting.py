"""Meetings: attendance, the agenda consented, items decided, minutes consented."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from domain.circle import Circle
from domain.errors import InvalidRequest, WrongStage
from domain.inputs import required_text
from domain.membership import check_can_act, check_facilitator, check_open, check_records_keeper
from domain.records import AgendaItem, Copied
from domain.values import MeetingStage


class Meeting(Copied, Aggregate):
    @classmethod
    def schedule(cls, circle: Circle, by: str, title: str, when: datetime) -> Meeting:
        check_facilitator(circle, by, "schedule a meeting")
        return cls(
            circle_id=circle.id,
            title=required_text(title, "A meeting needs a title"),
            when=when,
            scheduled_by=by,
        )

    @event("Scheduled")
    def __init__(self, circle_id: UUID, title: str, when: datetime, scheduled_by: str) -> None:
        self.circle_id = circle_id
        self.title = title
        self.when = when
        self.stage: str = MeetingStage.PLANNED
        self.present: list[str] = []
        self.absent: list[str] = []
        self.agenda: list[AgendaItem] = []
        self.minutes: str | None = None

    def record_attendance(self, circle: Circle, by: str, present: list[str]) -> None:
        """Who came; the participants who did not are recorded as absent."""
        self._check(circle, MeetingStage.PLANNED, "record attendance")
        check_records_keeper(circle, by, "record attendance")
        if not present:
            raise InvalidRequest("A meeting needs someone present")
        for person_id in present:
            check_can_act(circle, person_id)
        absent = [p for p in circle.acting_participants() if p not in present]
        self._attendance_recorded(sorted(set(present)), absent)

    @event("AttendanceRecorded")
    def _attendance_recorded(self, present: list[str], absent: list[str]) -> None:
        self.present = present
        self.absent = absent
        self.stage = MeetingStage.OPEN

    def consent_agenda(self, circle: Circle, by: str, items: list[str]) -> None:
        self._check(circle, MeetingStage.OPEN, "consent to the agenda")
        check_facilitator(circle, by, "record the agenda's consent")
        titles = [item.strip() for item in items if item.strip()]
        if not titles:
            raise InvalidRequest("An agenda needs at least one item")
        self._agenda_consented(titles)

    @event("AgendaConsented")
    def _agenda_consented(self, items: list[str]) -> None:
        self.agenda = [AgendaItem(title) for title in items]
        self.stage = MeetingStage.AGENDA_CONSENTED

    def record_item_decided(
        self, circle: Circle, by: str, number: int, outcome: str, reference: str | None = None
    ) -> None:
        self._check(circle, MeetingStage.AGENDA_CONSENTED, "record an item's outcome")
        check_records_keeper(circle, by, "record an item's outcome")
        if not 1 <= number <= len(self.agenda):
            raise InvalidRequest(f"The agenda has no item {number}")
        self._item_decided(number, required_text(outcome, "Say what was decided"), reference)

    @event("ItemDecided")
    def _item_decided(self, number: int, outcome: str, reference: str | None) -> None:
        item = self.agenda[number - 1]
        item.outcome = outcome
        item.reference = reference

    def record_minutes(self, circle: Circle, by: str, text: str) -> None:
        self._check(circle, MeetingStage.AGENDA_CONSENTED, "record minutes")
        check_records_keeper(circle, by, "record minutes")
        self._minutes_recorded(required_text(text, "Minutes need their text"))

    @event("MinutesRecorded")
    def _minutes_recorded(self, text: str) -> None:
        self.minutes = text
        self.stage = MeetingStage.MINUTES_RECORDED

    def consent_minutes(self, circle: Circle, by: str) -> None:
        self._check(circle, MeetingStage.MINUTES_RECORDED, "consent to the minutes")
        check_facilitator(circle, by, "record the minutes' consent")
        self._minutes_consented()

    @event("MinutesConsented")
    def _minutes_consented(self) -> None:
        self.stage = MeetingStage.CLOSED

    def _check(self, circle: Circle, stage: str, doing: str) -> None:
        if circle.id != self.circle_id:
            raise InvalidRequest("That meeting belongs to another circle")
        check_open(circle)
        if self.stage != stage:
            raise WrongStage(f"Cannot {doing}: the meeting is {self.stage.replace('_', ' ')}")
