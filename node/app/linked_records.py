"""What a circle tells the circles it is linked to of its records (PROTOCOL.md 11.4): its
`circle.records` (aim, mission link, hats with their wearers and back-stops, decisions in
force, reviews due) and each meeting's consented `meeting.minutes`, never a confidential item.

A member circle tells its co-ops all of it; a co-op tells its member circles its records when
its hats or back-stops change (what they need of it: who steps in for whom), not at each of its
decisions. Built from the records as the save leaves them; publishing (node/app/publishing.py)
asks for them when a save holds a change they carry.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

from eventsourcing.domain import Aggregate

from domain.backstops import BackStops
from domain.circle import Circle
from domain.decision import Decision
from domain.meeting import Meeting
from domain.relationships import Relationship
from domain.values import CoopLink
from node.app import event_classes
from node.app.published_records import SUMMARY_EVENTS, Publishing, addressed_to
from node.network.batch import Outgoing
from node.network.messages import (
    CIRCLE_RECORDS,
    MEETING_MINUTES,
    CircleRecords,
    DecisionInForce,
    HatRecord,
    MeetingMinutes,
    MinutesItem,
    Wearer,
)

# Circle events that change who wears which hat (told to co-ops and member circles alike).
HAT_EVENTS: frozenset[type[Any]] = frozenset(
    {
        event_classes.Circle.HatDefined,
        event_classes.Circle.HatPutOn,
        event_classes.Circle.HatTakenOff,
        event_classes.Circle.HatRenewed,
    }
)
# Circle events that change the records a co-op keeps of its member circle.
RECORDS_EVENTS: frozenset[type[Any]] = SUMMARY_EVENTS | HAT_EVENTS


def records_due(aggregates: Sequence[Aggregate]) -> tuple[bool, bool]:
    """Whether this save changes what the co-ops hear (first) and what the member circles
    hear (second) of this circle's records."""
    to_coops = to_members = False
    for aggregate in aggregates:
        events: list[Any] = list(aggregate.pending_events)
        classes = {type(event) for event in events}
        if isinstance(aggregate, Circle):
            to_coops |= bool(classes & RECORDS_EVENTS)
            to_members |= bool(classes & HAT_EVENTS)
        elif isinstance(aggregate, BackStops) and events:
            to_coops = to_members = True
        elif isinstance(aggregate, Decision) and events:
            to_coops = True
        elif isinstance(aggregate, Relationship):
            for event in events:
                if isinstance(event, event_classes.Relationship.CoopLinkChanged):
                    to_coops |= event.coop == CoopLink.MEMBER_OF  # admitted: the first copy
                    to_members |= event.coop == CoopLink.HAS_MEMBER  # a new member circle
    return to_coops, to_members


def circle_records(node: Publishing, aggregates: Sequence[Aggregate]) -> list[Outgoing]:
    """The circle's records for each linked circle the save changes them for."""
    to_coops, to_members = records_due(aggregates)
    if not (to_coops or to_members):
        return []
    current = {rel.other: rel for rel in node.relationships()}
    current.update({a.other: a for a in aggregates if isinstance(a, Relationship)})
    readers = [
        ref
        for ref, rel in current.items()
        if (to_coops and rel.coop == CoopLink.MEMBER_OF)
        or (to_members and rel.coop == CoopLink.HAS_MEMBER)
    ]
    if not readers:
        return []
    circle = next((a for a in aggregates if isinstance(a, Circle)), None) or node.get_circle()
    stops = next((a for a in aggregates if isinstance(a, BackStops)), None)
    stops = stops or node.get_back_stops()
    # Read, not changed (listings are the shared copies): the decisions in force.
    decisions = {d.id: d for d in node.list_decisions()}
    decisions.update({a.id: a for a in aggregates if isinstance(a, Decision)})
    today = node.clock().date()
    hats = [_hat(node, circle, stops, hat_id) for hat_id in circle.hats]
    in_force = sorted(
        (d for d in decisions.values() if d.in_force), key=lambda d: (d.review_date, d.title)
    )
    listed = [
        DecisionInForce(str(d.id), str(d.kind), d.title, str(d.status), d.review_date)
        for d in in_force
    ]
    due = [str(d.id) for d in in_force if d.is_review_due(today)]
    # A circle founded before mission links has none (another part of the model adds them).
    mission_link: str | None = getattr(circle, "mission_link", None)
    return [
        addressed_to(
            ref,
            CIRCLE_RECORDS,
            CircleRecords(ref, circle.aim, mission_link, str(circle.status), hats, listed, due),
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
    held_on: date = meeting.when.date()
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
