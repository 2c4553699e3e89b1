"""The library's Repository, replaying events without a runtime Protocol check per event.

eventsourcing's default projector asserts `isinstance(event, CanMutateProtocol)` before it
applies each event: a runtime check against a typing Protocol, which walks the protocol's
attributes every time (most of the time to load a circle from its events alone:
bench/RESULTS.md, "cold start"). Every event the node stores is an aggregate's
event, which has `mutate`; applying one that had not would fail at once, as clearly.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any
from uuid import UUID

from eventsourcing import application


def project_events(aggregate: Any, domain_events: Iterable[Any]) -> Any:
    """Apply each event to the aggregate in turn (the first makes it); returns it."""
    for domain_event in domain_events:
        aggregate = domain_event.mutate(aggregate)
    return aggregate


class Repository(application.Repository[UUID]):
    def get(self, aggregate_id: UUID, **options: Any) -> Any:
        options.setdefault("projector_func", project_events)
        return super().get(aggregate_id, **options)
