"""Meetings: scheduling, absences told ahead, attendance, the agenda consented (some items
confidential, the guests leaving for them), items decided, minutes consented."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from domain.circle import Circle
from domain.meeting import Meeting
from domain.records import AgendaItem
from domain.values import ACTING, Level
from node.app.work import UnitOfWork, Work
from node.store.retry import retry_on_conflict as command


class Meetings:
    """The circle's meetings and what is recorded of them."""

    def __init__(self, work: Work) -> None:
        self._work = work

    @command
    def schedule_meeting(self, by: str, title: str, when: datetime) -> str:
        with UnitOfWork(self._work) as uow:
            meeting = Meeting.schedule(self._work.get_circle(), by, title, when, uow.now)
            uow.file("meeting", meeting)
            return str(meeting.id)

    def _change_meeting(self, meeting_id: str, change: Callable[[Circle, Meeting], Any]) -> None:
        with UnitOfWork(self._work) as uow:
            circle = self._work.get_circle()
            change(circle, uow.meeting(meeting_id))

    def reader_level(self, person_id: str) -> str:
        """How a person takes part, as what they may read goes by it (confidential items):
        someone who does not act in the circle now (not a participant, an applicant, on trial,
        stepped back, or gone) reads as a guest, whatever their level."""
        participant = self._work.peek_circle().participants.get(person_id)
        if participant is None or participant.status not in ACTING:
            return Level.GUEST
        return participant.level

    @command
    def tell_absence(
        self, by: str, meeting_id: str, person_id: str, note: str | None = None
    ) -> None:
        self._change_meeting(meeting_id, lambda c, m: m.tell_absence(c, by, person_id, note))

    @command
    def record_attendance(self, by: str, meeting_id: str, present: list[str]) -> None:
        self._change_meeting(meeting_id, lambda c, m: m.record_attendance(c, by, present))

    @command
    def consent_agenda(self, by: str, meeting_id: str, items: Sequence[str | AgendaItem]) -> None:
        self._change_meeting(meeting_id, lambda c, m: m.consent_agenda(c, by, items))

    @command
    def ask_guests_to_leave(self, by: str, meeting_id: str, number: int) -> None:
        self._change_meeting(meeting_id, lambda c, m: m.ask_guests_to_leave(c, by, number))

    @command
    def record_item_decided(
        self, by: str, meeting_id: str, number: int, outcome: str, reference: str | None = None
    ) -> None:
        self._change_meeting(
            meeting_id, lambda c, m: m.record_item_decided(c, by, number, outcome, reference)
        )

    @command
    def record_minutes(
        self, by: str, meeting_id: str, text: str, confidential_text: str | None = None
    ) -> None:
        self._change_meeting(
            meeting_id, lambda c, m: m.record_minutes(c, by, text, confidential_text)
        )

    @command
    def consent_minutes(self, by: str, meeting_id: str) -> None:
        self._change_meeting(meeting_id, lambda c, m: m.consent_minutes(c, by))
