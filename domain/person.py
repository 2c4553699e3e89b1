"""Personal details, kept apart from the circle's record so that they can be erased."""

from __future__ import annotations

from eventsourcing.domain import Aggregate, event

from domain.inputs import required_text
from domain.records import Copied


class PersonalDetails(Copied, Aggregate):
    """A person's name and contact. The record refers to people only by this aggregate's id."""

    @classmethod
    def register(cls, name: str, contact: str = "") -> PersonalDetails:
        return cls(name=required_text(name, "A person needs a name"), contact=contact.strip())

    @event("Registered")
    def __init__(self, name: str, contact: str) -> None:
        self.name = name
        self.contact = contact
        # Notes of appreciation, by the occasion (a membership status such as "left"): kept
        # with the person, not in the circle's record, because they name the person.
        self.notes: dict[str, str] = {}

    def add_note(self, occasion: str, text: str) -> None:
        self._noted(occasion, required_text(text, "A note needs its words"))

    @event("Noted")
    def _noted(self, occasion: str, text: str) -> None:
        self.notes[occasion] = text

    def update(self, name: str, contact: str) -> None:
        self._updated(required_text(name, "A person needs a name"), contact.strip())

    @event("Updated")
    def _updated(self, name: str, contact: str) -> None:
        self.name = name
        self.contact = contact
