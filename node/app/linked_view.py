"""What this node keeps of the records linked circles send it (PROTOCOL.md 11.4): a member
circle's `circle.records` and `meeting.minutes` (and a co-op's records, at its member
circles), each kept in the save of the run that brings them.

One read model per linked circle (`LinkedRecords`: its latest records, and the meetings whose
minutes came, in order) and one per meeting (`LinkedMinutes`), so that taking a message loads
what it changes and no more, however long the other circle's history. People are kept by their
id; their names are kept apart (`RemotePerson`), so that `person.erased` erases them.
"""

from __future__ import annotations

from datetime import date
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

import msgspec
from eventsourcing.domain import Aggregate, event

from domain.errors import DomainError
from domain.records import Copied
from domain.values import CoopLink
from node.app.receiving import RunContext
from node.network.messages import CircleRecords, MeetingMinutes


def linked_records_id(other: str) -> UUID:
    return uuid5(NAMESPACE_URL, f"circle-node:linked-records:{other}")


def linked_minutes_id(other: str, meeting: str) -> UUID:
    return uuid5(NAMESPACE_URL, f"circle-node:linked-minutes:{other}:{meeting}")


class LinkedRecords(Copied, Aggregate):
    """A linked circle's records as it last sent them, and the minutes it sent."""

    @staticmethod
    def create_id(other: str, **kwargs: Any) -> UUID:
        return linked_records_id(other)

    def __init__(self, other: str) -> None:  # its `Created` event: no line in the logbook
        self.other = other
        self.records: dict[str, Any] = {}  # the last `circle.records`, without names
        self.minutes: list[str] = []  # the meetings whose minutes came, oldest first

    @event("RecordsArrived")
    def records_arrived(self, other: str, records: dict[str, Any]) -> None:
        """Its records (hat wearers and back-stops by person id) replace those it sent before."""
        self.records = records

    @event("MinutesArrived")
    def minutes_arrived(self, other: str, meeting: str, title: str, held_on: date) -> None:
        if meeting not in self.minutes:
            self.minutes.append(meeting)


class LinkedMinutes(Copied, Aggregate):
    """One meeting's minutes, as a member circle sent them."""

    @staticmethod
    def create_id(other: str, meeting: str, **kwargs: Any) -> UUID:
        return linked_minutes_id(other, meeting)

    @event("Opened")
    def __init__(
        self,
        other: str,
        meeting: str,
        title: str,
        held_on: date,
        items: list[dict[str, str]],
        minutes: str,
    ) -> None:
        self.other = other
        self.meeting = meeting
        self._set(title, held_on, items, minutes)

    @event("Replaced")
    def replace(self, title: str, held_on: date, items: list[dict[str, str]], minutes: str) -> None:
        """Minutes of the same meeting sent again replace those kept."""
        self._set(title, held_on, items, minutes)

    def _set(self, title: str, held_on: date, items: list[dict[str, str]], minutes: str) -> None:
        self.title = title
        self.held_on = held_on
        self.items = items
        self.minutes = minutes


def _linked(c: RunContext) -> LinkedRecords:
    return c.batch.get(linked_records_id(c.other), lambda: LinkedRecords(other=c.other))


def take_records(c: RunContext, record: CircleRecords) -> None:
    """A linked circle's records: kept (names apart), replacing those it sent before."""
    if c.relationship().coop not in (CoopLink.HAS_MEMBER, CoopLink.MEMBER_OF):
        raise DomainError(
            "Only a circle that is part of this one, or the co-op this circle is part of, "
            "sends its records"
        )
    kept = msgspec.to_builtins(record)
    del kept["to"]
    for hat, sent in zip(kept["hats"], record.hats, strict=True):
        for wearer, person in zip(hat["wearers"], sent.wearers, strict=True):
            c.name(person.person, person.name)
            del wearer["name"]  # names are kept apart, as erasable personal data
        if sent.back_stop:
            c.name(sent.back_stop, sent.back_stop_name)
        del hat["back_stop_name"]
    _linked(c).records_arrived(c.other, kept)


def take_minutes(c: RunContext, record: MeetingMinutes) -> None:
    """A member circle's minutes of a meeting: kept, and listed with the others it sent."""
    if c.relationship().coop != CoopLink.HAS_MEMBER:
        raise DomainError("Only a circle that is part of this one sends its minutes")
    if not record.title.strip() or not record.meeting.strip():
        raise DomainError("Minutes name their meeting")
    items = [{"title": item.title, "outcome": item.outcome} for item in record.items]
    minutes_id = linked_minutes_id(c.other, record.meeting)
    made: list[LinkedMinutes] = []

    def first() -> LinkedMinutes:
        made.append(
            LinkedMinutes(
                other=c.other,
                meeting=record.meeting,
                title=record.title,
                held_on=record.held_on,
                items=items,
                minutes=record.minutes,
            )
        )
        return made[0]

    kept = c.batch.get(minutes_id, first)
    if not made:  # sent before: these replace them
        kept.replace(record.title, record.held_on, items, record.minutes)
    _linked(c).minutes_arrived(c.other, record.meeting, record.title, record.held_on)
