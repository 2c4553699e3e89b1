"""A member's own aims and development goals in the circle: set and changed by them alone,
read by the circle. Personal: kept apart from the circle's record (as `PersonalDetails` is),
so that they are erased with the person's personal data; never published to other circles."""

from __future__ import annotations

from datetime import date
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate, event

from domain.errors import InvalidRequest, NotPermitted
from domain.inputs import required_text
from domain.membership import CircleRecords, check_can_act
from domain.records import Copied

# Enough for anyone's aims; a list without end is not a record anyone reads.
MOST_ITEMS = 20


def member_aims_id(person_id: str) -> UUID:
    """Where someone's aims are kept: found from their person id, without an index."""
    return uuid5(NAMESPACE_URL, f"circle-node:member-aims:{person_id}")


class MemberAims(Copied, Aggregate):
    """Someone's aims in the circle and the ways they want to grow."""

    @staticmethod
    def create_id(person_id: str, **_: Any) -> UUID:
        return member_aims_id(person_id)

    @classmethod
    def set_out(
        cls,
        circle: CircleRecords,
        by: str,
        person_id: str,
        aims: list[str],
        development_goals: list[str],
        today: date,
    ) -> MemberAims:
        """Someone sets out their aims and development goals for the first time."""
        check_own(circle, by, person_id)
        aims, development_goals = _checked(aims, development_goals)
        return cls(person_id=person_id, aims=aims, development_goals=development_goals, today=today)

    @event("SetOut")
    def __init__(
        self, person_id: str, aims: list[str], development_goals: list[str], today: date
    ) -> None:
        self.person_id = person_id
        self.aims = aims
        self.development_goals = development_goals
        self.updated_on = today

    def revise(
        self,
        circle: CircleRecords,
        by: str,
        aims: list[str],
        development_goals: list[str],
        today: date,
    ) -> None:
        """They change their aims and goals: the new lists replace the old."""
        check_own(circle, by, self.person_id)
        self._revised(self.person_id, *_checked(aims, development_goals), today)

    # The event names whose they are, as `SetOut` does: each tells who changed their aims.
    @event("Revised")
    def _revised(
        self, person_id: str, aims: list[str], development_goals: list[str], today: date
    ) -> None:
        self.aims = aims
        self.development_goals = development_goals
        self.updated_on = today


def check_own(circle: CircleRecords, by: str, person_id: str) -> None:
    """Only the person themselves, acting in the circle, sets their aims and goals."""
    if by != person_id:
        raise NotPermitted("Only the person themselves sets their aims and development goals")
    check_can_act(circle, by)


def _checked(aims: list[str], development_goals: list[str]) -> tuple[list[str], list[str]]:
    """The aims and goals as kept: each with its words, at least one of either kind."""
    if not aims and not development_goals:
        raise InvalidRequest("Name at least one aim or development goal")
    if len(aims) > MOST_ITEMS or len(development_goals) > MOST_ITEMS:
        raise InvalidRequest(f"Name at most {MOST_ITEMS} aims and {MOST_ITEMS} goals")
    return (
        [required_text(aim, "An aim needs its words") for aim in aims],
        [required_text(goal, "A development goal needs its words") for goal in development_goals],
    )
