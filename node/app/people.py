"""People coming and going: founding members, applications, trials, levels, stepping back,
returning and leaving (with a note of appreciation, kept with their personal details)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

from domain.circle import Circle
from domain.errors import NotFound
from domain.person import PersonalDetails
from domain.values import Level
from node.app.work import UnitOfWork, Work
from node.store.retry import retry_on_conflict as command


class People:
    """Membership of the circle, from application to leaving."""

    def __init__(self, work: Work) -> None:
        self._work = work

    @command
    def add_founding_member(
        self, by: str, name: str, level: str = Level.FULL, contact: str = ""
    ) -> str:
        with UnitOfWork(self._work) as uow:
            person = PersonalDetails.register(name, contact)
            uow.add(person)
            uow.circle().welcome_founder(by, str(person.id), level, uow.today)
            uow.add(*self._work.filed("person", person.id))
            return str(person.id)

    @command
    def apply_to_join(
        self, name: str, level: str = Level.FULL, contact: str = "", email: str = ""
    ) -> str:
        with UnitOfWork(self._work) as uow:
            person = PersonalDetails.register(name, contact, email)
            uow.add(person)
            uow.circle().receive_application(str(person.id), level, uow.today)
            uow.add(*self._work.filed("person", person.id))
            return str(person.id)

    @command
    def start_trial(self, by: str, person_id: str, sessions: int) -> None:
        with UnitOfWork(self._work) as uow:
            uow.circle().start_trial(by, person_id, sessions, uow.today)

    @command
    def hold_trial_session(self, by: str, person_id: str) -> int:
        """Count a session of someone's trial; returns its number."""
        with UnitOfWork(self._work) as uow:
            return uow.circle().hold_trial_session(by, person_id, uow.today)

    @command
    def admit(self, by: str, person_id: str, level: str = Level.FULL) -> None:
        with UnitOfWork(self._work) as uow:
            uow.circle().admit(by, person_id, level, uow.today)

    @command
    def decline(self, by: str, person_id: str) -> None:
        with UnitOfWork(self._work) as uow:
            uow.circle().decline(by, person_id, uow.today)

    @command
    def change_level(self, by: str, person_id: str, level: str) -> None:
        with UnitOfWork(self._work) as uow:
            uow.circle().change_level(by, person_id, level)

    @command
    def step_back(self, by: str, person_id: str, note: str | None = None) -> None:
        self._membership_with_note(
            person_id,
            "stepped_back",
            note,
            lambda c, today: c.step_back(by, person_id, today),
        )

    @command
    def welcome_back(self, by: str, person_id: str) -> None:
        with UnitOfWork(self._work) as uow:
            uow.circle().welcome_back(by, person_id, uow.today)

    @command
    def leave(self, by: str, person_id: str, note: str | None = None) -> None:
        self._membership_with_note(
            person_id, "left", note, lambda c, today: c.leave(by, person_id, today)
        )

    def _membership_with_note(
        self,
        person_id: str,
        occasion: str,
        note: str | None,
        change: Callable[[Circle, date], Any],
    ) -> None:
        """A note of appreciation names the person, so it is kept with their personal
        details (erasable), not in the circle's record."""
        with UnitOfWork(self._work) as uow:
            change(uow.circle(), uow.today)
            if note and note.strip():
                details = uow.record(PersonalDetails, person_id, "person")
                details.add_note(occasion, note)

    def note_of_appreciation(self, person_id: str, occasion: str) -> str | None:
        try:
            details = self._work.get_record(PersonalDetails, person_id, "person")
        except NotFound:
            return None
        notes: dict[str, str] = details.notes
        return notes.get(occasion)
