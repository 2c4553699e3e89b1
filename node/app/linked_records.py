"""What a circle tells the circles it is linked to of its records (PROTOCOL.md 11.4): its
`circle.records` (aim, mission link, hats with their wearers and back-stops) and each meeting's
consented `meeting.minutes`, never a confidential item. Its decisions in force and those due
for review go one by one in their public `decision.record` (node/app/published_records.py):
repeating them here would read every decision of the circle at each everyday decision, and
grow each body with the circle's history.

A member circle tells its co-ops its records and minutes; a co-op tells its member circles
its records (who wears its hats, who steps in for whom). Built from the circle and its
back-stops as the save leaves them; publishing (node/app/publishing.py) asks for them when a
save holds a change they carry.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

from eventsourcing.domain import Aggregate

from domain.backstops import BackStops
from domain.circle import Circle
from domain.meeting import Meeting
from domain.relationships import Relationship
from domain.rules import local_date
from domain.values import CoopLink
from node.app import event_classes
from node.app.published_records import PROFILE_EVENTS, Publishing, addressed_to
from node.network.batch import Outgoing
from node.network.messages import (
    CIRCLE_RECORDS,
    MEETING_MINUTES,
    CircleRecords,
    HatRecord,
    MeetingMinutes,
    MinutesItem,
    Wearer,
)

# The links along which records go: to the co-ops a circle is part of, to its member circles.
LINKED = frozenset({CoopLink.MEMBER_OF, CoopLink.HAS_MEMBER})
# Circle events that change its records: its aim and status (the profile's events), and who
# wears which hat.
RECORDS_EVENTS: frozenset[type[Any]] = PROFILE_EVENTS | {
    event_classes.Circle.MissionLinkChanged,
    event_classes.Circle.HatDefined,
    event_classes.Circle.HatPutOn,
    event_classes.Circle.HatTakenOff,
    event_classes.Circle.HatRenewed,
}


def records_readers(node: Publishing, aggregates: Sequence[Aggregate]) -> list[str]:
    """The linked circles (node ids) this save changes this circle's records for: every co-op
    it is part of and every member circle, as the save leaves its relationships, when the
    records change; and a co-op it is admitted to, or a member circle it admits, in that save
    (their first copy)."""
    changed = False
    admitted: set[str] = set()
    for aggregate in aggregates:
        events: list[Any] = list(aggregate.pending_events)
        if isinstance(aggregate, Circle):
            changed |= any(type(event) in RECORDS_EVENTS for event in events)
        elif isinstance(aggregate, BackStops):
            changed |= bool(events)
        elif isinstance(aggregate, Relationship):
            admitted |= {
                aggregate.other
                for event in events
                if isinstance(event, event_classes.Relationship.CoopLinkChanged)
                and event.coop in LINKED
            }
    if not (changed or admitted):
        return []
    current = {rel.other: rel for rel in node.relationships()}
    current.update({a.other: a for a in aggregates if isinstance(a, Relationship)})
    return [
        ref for ref, rel in current.items() if rel.coop in LINKED and (changed or ref in admitted)
    ]


def circle_records(node: Publishing, aggregates: Sequence[Aggregate]) -> list[Outgoing]:
    """The circle's records for each linked circle the save changes them for."""
    readers = records_readers(node, aggregates)
    if not readers:
        return []
    circle = next((a for a in aggregates if isinstance(a, Circle)), None) or node.get_circle()
    stops = next((a for a in aggregates if isinstance(a, BackStops)), None)
    stops = stops or node.get_back_stops()
    hats = [_hat(node, circle, stops, hat_id) for hat_id in circle.hats]
    return [
        addressed_to(
            ref,
            CIRCLE_RECORDS,
            CircleRecords(ref, circle.aim, circle.mission_link, str(circle.status), hats),
        )
        for ref in readers
    ]


def _hat(node: Publishing, circle: Circle, stops: BackStops | None, hat_id: str) -> HatRecord:
    hat = circle.hats[hat_id]
    wearers = [
        Wearer(term.person_id, node.person_name(term.person_id), term.review_date)
        for term in circle.terms
        if term.hat_id == hat_id
    ]
    back_stop = stops.back_stop(circle, hat_id) if stops is not None else None
    name = node.person_name(back_stop) if back_stop else ""
    return HatRecord(hat_id, hat.name, wearers, back_stop, name)


def meeting_minutes(node: Publishing, meeting: Meeting, event: Any) -> list[Outgoing]:
    """A meeting's minutes, once consented, go to each co-op this circle is part of: its
    title, day, the items decided that are not confidential, and the minutes' text (which
    never holds a confidential item's: those are kept apart, and never read here)."""
    items = [
        MinutesItem(item.title, item.outcome)
        for item in meeting.agenda
        if not item.confidential and item.outcome
    ]
    held_on: date = local_date(node.get_circle().rules, meeting.when)  # the circle's day
    return [
        addressed_to(
            rel.other,
            MEETING_MINUTES,
            MeetingMinutes(
                rel.other, str(meeting.id), meeting.title, held_on, items, meeting.minutes or ""
            ),
        )
        for rel in node.relationships()
        if rel.coop == CoopLink.MEMBER_OF
    ]
