"""Back-stops: for each hat a circle rotates, the participant who steps in when its wearer
cannot. The records keeper records who the circle named (as a term's renewal is recorded), or
that it named nobody any more.

A circle's back-stops are an aggregate of their own (one per circle, at an id derived from
the circle's), so that the circle's record does not grow with them: each command reads the
circle for its rules and changes only the back-stops.
"""

from __future__ import annotations

from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate, event

from domain.errors import InvalidRequest, WrongStage
from domain.hats import check_wearer, find_hat, wearers, worn_by
from domain.membership import CircleRecords, check_can_act, check_open, check_records_keeper
from domain.records import Copied
from domain.values import ACTING


def back_stops_id(circle_id: UUID) -> UUID:
    """Where a circle's back-stops sit."""
    return uuid5(NAMESPACE_URL, f"circle-node:back-stops:{circle_id}")


class BackStops(Copied, Aggregate):
    """Who steps in for each hat's wearer (by hat id: one back-stop per hat)."""

    @staticmethod
    def create_id(circle_id: UUID, **kwargs: Any) -> UUID:
        return back_stops_id(circle_id)

    @classmethod
    def open(cls, circle: CircleRecords) -> BackStops:
        """A circle's back-stops, none named yet."""
        return cls(circle_id=circle.id)

    def __init__(self, circle_id: UUID) -> None:  # its `Created` event: no line in the logbook
        self.circle_id = circle_id
        self.by_hat: dict[str, str] = {}

    def name_back_stop(self, circle: CircleRecords, by: str, hat_id: str, person_id: str) -> None:
        """Record the back-stop the circle named for a hat (replacing the one named before)."""
        self._check_circle(circle)
        check_records_keeper(circle, by, "record a hat's back-stop")
        hat = find_hat(circle.hats, hat_id)
        participant = check_can_act(circle, person_id)
        if person_id in wearers(circle.terms, hat_id):
            raise InvalidRequest(
                f"This person wears the {hat.name.lower()} hat; its back-stop is someone else"
            )
        # Who steps in must be able to wear the hat (a guest cannot; the delegate is never
        # the leader's back-stop, nor the other way round).
        check_wearer(hat, participant, worn_by(circle.terms, person_id), again=False)
        if self.by_hat.get(hat_id) == person_id:
            raise InvalidRequest(f"This person is already the {hat.name.lower()}'s back-stop")
        self._named(hat_id, person_id)

    @event("BackStopNamed")
    def _named(self, hat_id: str, person_id: str) -> None:
        self.by_hat[hat_id] = person_id

    def clear_back_stop(self, circle: CircleRecords, by: str, hat_id: str) -> None:
        """Record that the circle names no back-stop for a hat any more."""
        self._check_circle(circle)
        check_records_keeper(circle, by, "clear a hat's back-stop")
        hat = find_hat(circle.hats, hat_id)
        if hat_id not in self.by_hat:
            raise WrongStage(f"The {hat.name.lower()} hat has no back-stop to clear")
        self._cleared(hat_id, self.by_hat[hat_id])

    @event("BackStopCleared")
    def _cleared(self, hat_id: str, person_id: str) -> None:
        del self.by_hat[hat_id]

    def back_stop(self, circle: CircleRecords, hat_id: str) -> str | None:
        """Who steps in for the hat now: its back-stop while they still act in the circle and
        do not wear the hat themselves (someone who stepped back, left, or was selected for
        the hat steps in for nobody, though the record keeps them until the circle names
        another)."""
        person_id = self.by_hat.get(hat_id)
        if person_id is None or person_id in wearers(circle.terms, hat_id):
            return None  # none named, or they wear the hat now themselves
        participant = circle.participants.get(person_id)
        return person_id if participant is not None and participant.status in ACTING else None

    def _check_circle(self, circle: CircleRecords) -> None:
        if circle.id != self.circle_id:
            raise InvalidRequest("Those back-stops belong to another circle")
        check_open(circle)
