"""Meetings: scheduling, attendance, the agenda consented, items decided, minutes consented."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from domain.circle import Circle
from domain.meeting import Meeting
from node.app.work import UnitOfWork, Work
from node.store.retry import retry_on_conflict as command


class Meetings:
    """The circle's meetings and what is recorded of them."""

    def __init__(self, work: Work) -> None:
        self._work = work

    @command
    def schedule_meeting(self, by: str, title: str, when: datetime) -> str:
        with UnitOfWork(self._work) as uow:
            meeting = Meeting.schedule(self._work.get_circle(), by, title, when)
            uow.file("meeting", meeting)
            return str(meeting.id)

    def _change_meeting(self, meeting_id: str, change: Callable[[Circle, Meeting], Any]) -> None:
        with UnitOfWork(self._work) as uow:
            circle = self._work.get_circle()
            change(circle, uow.meeting(meeting_id))

    @command
    def record_attendance(self, by: str, meeting_id: str, present: list[str]) -> None:
        self._change_meeting(meeting_id, lambda c, m: m.record_attendance(c, by, present))

    @command
    def consent_agenda(self, by: str, meeting_id: str, items: list[str]) -> None:
        self._change_meeting(meeting_id, lambda c, m: m.consent_agenda(c, by, items))

    @command
    def record_item_decided(
        self, by: str, meeting_id: str, number: int, outcome: str, reference: str | None = None
    ) -> None:
        self._change_meeting(
            meeting_id, lambda c, m: m.record_item_decided(c, by, number, outcome, reference)
        )

    @command
    def record_minutes(self, by: str, meeting_id: str, text: str) -> None:
        self._change_meeting(meeting_id, lambda c, m: m.record_minutes(c, by, text))

    @command
    def consent_minutes(self, by: str, meeting_id: str) -> None:
        self._change_meeting(meeting_id, lambda c, m: m.consent_minutes(c, by))
