"""The public records a node's feed carries of its circle: the circle's profile, its decision
records, and, for a member circle, the summary of its logbook its co-ops keep (node/app/
publishing.py decides when each is sent; the member API shows the same records)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date, datetime
from typing import Any, Protocol

import msgspec
from eventsourcing.domain import Aggregate

from domain.backstops import BackStops
from domain.circle import Circle
from domain.decision import Decision
from domain.relationships import Relationship
from domain.rules import local_date
from domain.values import CoopLink, DecisionKind
from federation.feed import feed_id_from_node_id
from node.app import event_classes
from node.network.batch import Outgoing
from node.network.messages import (
    CIRCLE_SUMMARY,
    CircleProfile,
    CircleSummary,
    DecisionRecord,
    HatHolder,
    encode_body,
)


class Publishing(Protocol):
    """What publishing reads of the node: its records, the people's names, the clock."""

    clock: Callable[[], datetime]

    def get_circle(self) -> Circle: ...

    def relationships(self) -> list[Relationship]: ...

    def decisions_in_force(
        self, today: date, pending: Sequence[Decision]
    ) -> tuple[list[str], list[str]]: ...

    def person_name(self, person_id: str) -> str: ...

    def get_back_stops(self) -> BackStops | None: ...

    def introduction_of(self, other: str) -> tuple[bytes, str]: ...

    def exchanging_with(self) -> list[tuple[str, str]]: ...


# Circle events that change its public profile.
PROFILE_EVENTS: frozenset[type[Any]] = frozenset(
    {
        event_classes.Circle.Founded,
        event_classes.Circle.Activated,
        event_classes.Circle.AimRevised,
        event_classes.Circle.AimFormed,
        event_classes.Circle.DomainChanged,
        event_classes.Circle.Incorporated,
        event_classes.Circle.WentIndependent,
        event_classes.Circle.Dissolved,
    }
)
# Changes a co-op hears about in its member circle's summary.
SUMMARY_EVENTS = PROFILE_EVENTS | {
    event_classes.Circle.HatPutOn,
    event_classes.Circle.HatTakenOff,
    event_classes.Circle.HatRenewed,
    event_classes.Circle.MembershipChanged,
}


def circle_profile(circle: Circle) -> CircleProfile:
    entity = circle.legal_entity
    return CircleProfile(
        name=circle.name,
        aim=circle.aim,
        domain=circle.domain,
        kind=str(circle.kind),
        parent=circle.parent,
        status=str(circle.status),
        legal_name=entity.registered_name if entity else None,
        legal_number=entity.number if entity else None,
        legal_registry=entity.registry if entity else None,
    )


def decision_record(decision: Decision) -> DecisionRecord:
    return DecisionRecord(
        decision_id=str(decision.id),
        binding=decision.binding,
        kind=str(decision.kind),
        title=decision.title,
        text=decision.text,
        status=str(decision.status),
        effective=decision.effective,
        review_date=decision.review_date,
        area=decision.area,
        hat_id=decision.hat_id,
        term_end=decision.term_end,
        measures=list(decision.measures),
    )


def addressed_to(ref: str, kind: str, body: msgspec.Struct) -> Outgoing:
    return Outgoing(kind, encode_body(body), [feed_id_from_node_id(ref)])


def changes_summary(decision: Decision, classes: set[type[Any]]) -> bool:
    """Whether a decision's change can change its circle's summary (the policies in force,
    the decisions due for review). A new operational decision cannot: it is no policy, and
    its review date is in the future. Everyday decisions are the most frequent change: the
    summary is worked out only when it can change."""
    return classes != {event_classes.Decision.Taken} or decision.kind == DecisionKind.POLICY


def summaries(node: Publishing, aggregates: Sequence[Aggregate]) -> list[Outgoing]:
    """A member circle keeps its co-op's copy of its logbook summary up to date."""
    # The relationships as this save leaves them (an admission may be in it).
    current = {rel.other: rel for rel in node.relationships()}
    current.update({a.other: a for a in aggregates if isinstance(a, Relationship)})
    parents = [ref for ref, rel in current.items() if rel.coop == CoopLink.MEMBER_OF]
    if not parents:
        return []
    circle = next((a for a in aggregates if isinstance(a, Circle)), None) or node.get_circle()
    today = local_date(circle.rules, node.clock())
    # The decisions in force as stored, with those this save changes as it leaves them.
    pending = [a for a in aggregates if isinstance(a, Decision)]
    policies, due = node.decisions_in_force(today, pending)
    hats = [
        HatHolder(term.hat_id, term.person_id, node.person_name(term.person_id), term.review_date)
        for term in circle.terms
    ]
    return [
        addressed_to(
            ref,
            CIRCLE_SUMMARY,
            CircleSummary(ref, circle.aim, str(circle.status), hats, policies, due),
        )
        for ref in parents
    ]
