"""What the store relies on in the domain's classes: each aggregate and event class is found again
by the topic it was stored under, and each event class's annotations name types its module knows.

Stores hold topics such as `domain.circle:Circle.Founded`; a class moved to another module must
stay resolvable from its old topic. The store types an event's values by its annotations: an
annotation its module cannot resolve would have new events stored as JSON, and events already
stored in MessagePack could not be read back.
"""

from __future__ import annotations

import importlib
import pkgutil
import typing

from eventsourcing.domain import Aggregate, CanMutateAggregate
from eventsourcing.utils import get_topic, resolve_topic

import domain
from domain.circle import Circle

# The topics of the circle and its events, as stores written so far hold them.
CIRCLE_EVENTS = [
    "Founded",
    "Activated",
    "AimRevised",
    "DomainChanged",
    "RulesChanged",
    "Incorporated",
    "WentIndependent",
    "Dissolved",
    "FounderJoined",
    "Applied",
    "Admitted",
    "LevelChanged",
    "MembershipChanged",
    "HatDefined",
    "HatPutOn",
    "HatRenewed",
    "HatTakenOff",
    "PersonalDataErased",
    "LinkedSeatTaken",
    "AimFormed",
    "MissionLinkChanged",
    "TrialStarted",
    "TrialSessionHeld",
]
CIRCLE_TOPICS = [
    "domain.circle:Circle",
    *(f"domain.circle:Circle.{name}" for name in CIRCLE_EVENTS),
]


def _domain_aggregates() -> list[type[Aggregate]]:
    for module in pkgutil.iter_modules(domain.__path__):
        importlib.import_module(f"domain.{module.name}")
    found: list[type[Aggregate]] = []
    waiting: list[type[Aggregate]] = [Aggregate]
    while waiting:
        for sub in waiting.pop().__subclasses__():
            if sub not in found:
                waiting.append(sub)
                if sub.__module__.startswith("domain."):
                    found.append(sub)
    return found


def test_the_circle_and_its_events_resolve_from_their_stored_topics() -> None:
    for topic in CIRCLE_TOPICS:
        cls = resolve_topic(topic)
        assert cls is Circle or cls is getattr(Circle, topic.rpartition(".")[2])
        assert get_topic(cls) == topic


def test_every_domain_event_resolves_and_its_annotations_are_known_to_its_module() -> None:
    aggregates = _domain_aggregates()
    assert Circle in aggregates
    events = [
        value
        for aggregate in aggregates
        for value in vars(aggregate).values()
        if isinstance(value, type) and issubclass(value, CanMutateAggregate)
    ]
    assert len(events) > len(CIRCLE_TOPICS)
    for cls in [*aggregates, *events]:
        assert resolve_topic(get_topic(cls)) is cls
    for cls in events:
        # Raises NameError for an annotation its module does not import.
        hints = typing.get_type_hints(cls)
        assert "originator_id" in hints
