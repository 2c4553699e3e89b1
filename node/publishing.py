"""Which changes of the circle become entries of the node's feed, and what they say."""

from __future__ import annotations

from collections.abc import Sequence

from eventsourcing.domain import Aggregate

from domain.circle import Circle
from domain.decision import Decision
from node.federated import Outgoing
from node.public_records import (
    CIRCLE_PROFILE,
    DECISION_RECORD,
    CircleProfile,
    DecisionRecord,
    encode_body,
)

# Circle events that change its public profile.
PROFILE_EVENTS = frozenset(
    {
        "Founded",
        "Activated",
        "AimRevised",
        "DomainChanged",
        "Incorporated",
        "WentIndependent",
        "Dissolved",
    }
)


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


def outgoing(aggregates: Sequence[Aggregate]) -> list[Outgoing]:
    """One public record per changed circle profile or decision, as it stands after the save."""
    entries = []
    for aggregate in aggregates:
        names = {type(event).__name__ for event in aggregate.pending_events}
        if isinstance(aggregate, Circle) and names & PROFILE_EVENTS:
            entries.append(Outgoing(CIRCLE_PROFILE, encode_body(circle_profile(aggregate)), []))
        elif isinstance(aggregate, Decision) and names:
            entries.append(Outgoing(DECISION_RECORD, encode_body(decision_record(aggregate)), []))
    return entries
