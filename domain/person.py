"""Personal details, kept apart from the circle's record so that they can be erased."""

from __future__ import annotations

from eventsourcing.domain import Aggregate, event

from domain.circle import required_text


class PersonalDetails(Aggregate):
    """A person's name and contact. The record refers to people only by this aggregate's id."""

    @classmethod
    def register(cls, name: str, contact: str = "") -> PersonalDetails:
        return cls(name=required_text(name, "A person needs a name"), contact=contact.strip())

    @event("Registered")
    def __init__(self, name: str, contact: str) -> None:
        self.name = name
        self.contact = contact

    def update(self, name: str, contact: str) -> None:
        self._updated(required_text(name, "A person needs a name"), contact.strip())

    @event("Updated")
    def _updated(self, name: str, contact: str) -> None:
        self.name = name
        self.contact = contact
