"""The unit of work of taking a peer's entries: the aggregates their effects change, each
loaded once and saved together, what they erase, and a rollback to a checkpoint when a message
is refused."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError, Repository
from eventsourcing.domain import Aggregate

from node.store.recorders import EntryRow

A = TypeVar("A", bound=Aggregate)


@dataclass(frozen=True)
class Outgoing:
    """An entry a stored change causes: its type, body and audience (empty: public)."""

    type: str
    body: bytes | None
    audience: list[bytes]


class Batch:
    """The aggregates that taking a run of entries changes: each loaded once, saved together."""

    def __init__(self, repository: Repository[UUID]) -> None:
        self._repository = repository
        self._items: dict[UUID, Aggregate] = {}
        # Entry rows to store with the batch (inceptions of nodes it starts following).
        self.entries: list[EntryRow] = []
        # What the batch's save erases (after storing the rest): bodies by hash, aggregates.
        self.erased_bodies: list[bytes] = []
        self.erased: list[UUID] = []
        self.afterwards: list[Callable[[], None]] = []

    def get(self, aggregate_id: UUID, create: Callable[[], A]) -> A:
        """The batch's copy of an aggregate: loaded, or made by `create` if there is none."""
        if aggregate_id not in self._items:
            try:
                self._items[aggregate_id] = self._repository.get(aggregate_id)
            except AggregateNotFoundError:
                self._items[aggregate_id] = create()
        return self._items[aggregate_id]  # type: ignore[return-value]

    def add(self, aggregate: Aggregate) -> None:
        self._items.setdefault(aggregate.id, aggregate)

    def after_save(self, action: Callable[[], None]) -> None:
        """Something to do once the batch is saved (e.g. apply the messages it lets through)."""
        self.afterwards.append(action)

    def erase(self, bodies: list[bytes], aggregate_ids: list[UUID]) -> None:
        """Erase these bodies and aggregates in the batch's save, whatever the batch changed or
        brought of them (personal data another circle erased)."""
        self.erased_bodies.extend(bodies)
        self.erased.extend(aggregate_ids)

    def __contains__(self, aggregate_id: UUID) -> bool:
        return aggregate_id in self._items

    def aggregates(self) -> list[Aggregate]:
        """The aggregates to save: all the batch got, but those it erases."""
        erased = set(self.erased)
        return [aggregate for key, aggregate in self._items.items() if key not in erased]

    def save_kwargs(self) -> dict[str, Any]:
        """What the batch's save stores besides its aggregates."""
        return {"erase_bodies": list(self.erased_bodies), "erase_events": list(self.erased)}

    def checkpoint(self) -> Checkpoint:
        """Where the batch stands now, to roll back to if what follows is refused."""
        pending = {key: len(aggregate.pending_events) for key, aggregate in self._items.items()}
        return Checkpoint(
            pending,
            len(self.entries),
            len(self.erased_bodies),
            len(self.erased),
            len(self.afterwards),
        )

    def rollback(self, mark: Checkpoint) -> None:
        """Undo everything done to the batch since `mark`: aggregates first got since are
        dropped, and those changed since are rebuilt as they were then (as stored, with the
        events that were pending then)."""
        for key in list(self._items):
            if key not in mark.pending:
                del self._items[key]
                continue
            events = self._items[key].pending_events
            if len(events) != mark.pending[key]:
                self._items[key] = self._rebuilt(key, events[: mark.pending[key]])
        del self.entries[mark.entries :]
        del self.erased_bodies[mark.erased_bodies :]
        del self.erased[mark.erased :]
        del self.afterwards[mark.afterwards :]

    def _rebuilt(self, aggregate_id: UUID, pending: list[Any]) -> Aggregate:
        try:
            aggregate: Any = self._repository.get(aggregate_id)
        except AggregateNotFoundError:
            aggregate = None  # made in this batch: its first pending event creates it
        for pending_event in pending:
            aggregate = pending_event.mutate(aggregate)
        # eventsourcing keeps an aggregate's events to save in `_pending_events`.
        aggregate._pending_events = list(pending)
        assert isinstance(aggregate, Aggregate)
        return aggregate


@dataclass(frozen=True)
class Checkpoint:
    """A batch as it stood: its aggregates' counts of pending events, and its lists' lengths."""

    pending: dict[UUID, int]
    entries: int
    erased_bodies: int
    erased: int
    afterwards: int
