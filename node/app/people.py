"""People coming and going: founding members, applications, trials, levels, stepping back,
returning and leaving (with a note of appreciation, kept with their personal details)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from eventsourcing.domain import Aggregate

from domain.circle import Circle
from domain.errors import NotFound
from domain.person import PersonalDetails
from domain.values import Level
from node.app.work import Work, change_circle
from node.store.retry import retry_on_conflict as command


class People:
    """Membership of the circle, from application to leaving."""

    def __init__(self, work: Work) -> None:
        self._work = work

    def _new_person(self, name: str, contact: str) -> tuple[PersonalDetails, list[Any]]:
        person = PersonalDetails.register(name, contact)
        return person, self._work.filed("person", person.id)

    @command
    def add_founding_member(
        self, by: str, name: str, level: str = Level.FULL, contact: str = ""
    ) -> str:
        circle = self._work.get_circle()
        person, filed = self._new_person(name, contact)
        circle.welcome_founder(by, str(person.id), level, self._work.today())
        self._work.save(person, circle, *filed)
        return str(person.id)

    @command
    def apply_to_join(self, name: str, level: str = Level.FULL, contact: str = "") -> str:
        circle = self._work.get_circle()
        person, filed = self._new_person(name, contact)
        circle.receive_application(str(person.id), level, self._work.today())
        self._work.save(person, circle, *filed)
        return str(person.id)

    @command
    def start_trial(self, by: str, person_id: str) -> None:
        change_circle(self._work, lambda c: c.start_trial(by, person_id, self._work.today()))

    @command
    def admit(self, by: str, person_id: str, level: str = Level.FULL) -> None:
        change_circle(self._work, lambda c: c.admit(by, person_id, level, self._work.today()))

    @command
    def decline(self, by: str, person_id: str) -> None:
        change_circle(self._work, lambda c: c.decline(by, person_id, self._work.today()))

    @command
    def change_level(self, by: str, person_id: str, level: str) -> None:
        change_circle(self._work, lambda c: c.change_level(by, person_id, level))

    @command
    def step_back(self, by: str, person_id: str, note: str | None = None) -> None:
        self._membership_with_note(
            person_id,
            "stepped_back",
            note,
            lambda c: c.step_back(by, person_id, self._work.today()),
        )

    @command
    def welcome_back(self, by: str, person_id: str) -> None:
        change_circle(self._work, lambda c: c.welcome_back(by, person_id, self._work.today()))

    @command
    def leave(self, by: str, person_id: str, note: str | None = None) -> None:
        self._membership_with_note(
            person_id, "left", note, lambda c: c.leave(by, person_id, self._work.today())
        )

    def _membership_with_note(
        self, person_id: str, occasion: str, note: str | None, change: Callable[[Circle], Any]
    ) -> None:
        """A note of appreciation names the person, so it is kept with their personal
        details (erasable), not in the circle's record."""
        circle = self._work.get_circle()
        change(circle)
        changed: list[Aggregate] = [circle]
        if note and note.strip():
            details = self._work.get_record(PersonalDetails, person_id, "person")
            details.add_note(occasion, note)
            changed.append(details)
        self._work.save(*changed)

    def note_of_appreciation(self, person_id: str, occasion: str) -> str | None:
        try:
            details = self._work.get_record(PersonalDetails, person_id, "person")
        except NotFound:
            return None
        notes: dict[str, str] = details.notes
        return notes.get(occasion)
