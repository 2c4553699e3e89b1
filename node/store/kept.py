"""Aggregates nearly every command or request loads (the own feed, the circle, the sign-in
credentials), kept in memory and brought up to date from the store at each use.

A kept object is never changed once kept: when the store holds later events (saved by this
process, another thread, or another worker on the same store), a copy brought up to date
replaces it. So a reader may use a kept object as it is (`peek`), from any thread, while a
command takes its own copy to change (`copy`). Each use costs one indexed read of the events
after the kept version, instead of a load from the last snapshot; a listing (`peek_all`) one
read for all its records.

An aggregate the store did not hold at the last look (a node's register before its circle is
founded, the messages held back while none are) is remembered as missing: the next look reads
its events alone (one read), not its snapshot and then its events.

A command done with its copy once saved hands it over (`adopt`): kept as it is, the next use
finds nothing later in the store and copies nothing. Copies are cheap where it matters:
records that never change once made (answers) are shared between copies (domain/records.py).

Why not eventsourcing's own aggregate cache (`AGGREGATE_CACHE_MAXSIZE`): it brings a cached
aggregate up to date by changing it in place, so it hands out a deep copy on every `get` for
safety (or, without the copy, an object that changes under its reader); it reads the store
once per aggregate, where a listing here reads once for all its records; and it cannot leave
out the classes an erasure deletes. Only public parts of the library are used here.
"""

from __future__ import annotations

import copy as copying
import threading
from collections import OrderedDict
from collections.abc import Iterator, Sequence
from typing import Any
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError, Repository
from eventsourcing.domain import Aggregate
from eventsourcing.persistence import StoredEvent

# Enough for a circle's working set (its circle, feed, credentials, open processes) and the
# decisions a member circle's summary reads at each change of them.
KEPT = 1024
# Records read at once by `replay_all`: one read of the store each, and no more of them in
# memory at a time.
REPLAYED = 400


class Kept:
    """`never`: classes of aggregates not to keep (personal details, whose events an erasure
    deletes: a copy kept in memory would outlive them, in this worker or another)."""

    def __init__(
        self, repository: Repository[UUID], size: int = KEPT, never: tuple[type, ...] = ()
    ) -> None:
        self._repository = repository
        self._size = size
        self._never = never
        self._lock = threading.Lock()
        self._kept: OrderedDict[UUID, Aggregate] = OrderedDict()
        # The ids the store held no aggregate of at the last look, most recently asked last.
        self._missing: OrderedDict[UUID, None] = OrderedDict()
        self._listings: dict[str, int] = {}  # the size of each listing read whole, by name

    def peek(self, aggregate_id: UUID) -> Any:
        """The aggregate as stored now, shared: read it, never change it.

        Raises eventsourcing's AggregateNotFoundError if the store has no such aggregate."""
        with self._lock:
            kept = self._current(aggregate_id)
        if kept is None:
            fresh: Aggregate = self.load(aggregate_id)
            self._put(fresh)
            return fresh
        later = list(self._repository.event_store.get(aggregate_id, gt=kept.version))
        if not later:
            return kept
        fresh = copying.deepcopy(kept)
        for event in later:
            mutate: Any = event
            mutate.mutate(fresh)
        self._put(fresh)
        return fresh

    def peek_all(self, aggregate_ids: Sequence[UUID], listing: str | None = None) -> list[Any]:
        """The aggregates as stored now, shared, in the order given (those the store does not
        hold are left out): one read of the store for all the kept ones, however many, where
        `peek` makes one each.

        A listing read whole, named by `listing` (every record of a kind, every peer), is read
        again and again (delivery lists every peer and its cursor at each round): the kept set
        grows to hold it and every other listing read whole at once, as each last was, since
        with more records than KEPT they would push out the circle, the feed, the credentials
        and each other, and load most of their records from the store every time. A part of a
        list (a page) does not grow it: its records are kept as any others, the most recently
        used first."""
        with self._lock:
            if listing is not None:
                self._listings[listing] = len(aggregate_ids)
                self._size = max(self._size, sum(self._listings.values()) + KEPT)
            kept = {}
            for aggregate_id in aggregate_ids:
                found = self._current(aggregate_id)
                if found is not None:
                    kept[aggregate_id] = found
        later: dict[UUID, list[Any]] = {}
        store = self._repository.event_store
        for stored in events_after(store.recorder, [(i, a.version) for i, a in kept.items()]):
            event: Any = store.mapper.to_domain_event(stored)
            later.setdefault(event.originator_id, []).append(event)
        aggregates = []
        for aggregate_id in aggregate_ids:
            aggregate = kept.get(aggregate_id)
            if aggregate is None:
                try:
                    aggregate = self.load(aggregate_id)
                except AggregateNotFoundError:
                    continue
                self._put(aggregate)
            elif aggregate_id in later:
                aggregate = copying.deepcopy(aggregate)
                for event in later[aggregate_id]:
                    event.mutate(aggregate)
                self._put(aggregate)
            aggregates.append(aggregate)
        return aggregates

    def load(self, aggregate_id: UUID) -> Any:
        """The aggregate from the store (its snapshot and the events after it), neither kept
        nor shared (the caller's own). One the store does not hold is remembered as missing:
        while it is, one read of its events finds that it still is (a snapshot is only taken
        of events stored: no events, no snapshot)."""
        with self._lock:
            missing = aggregate_id in self._missing
        if missing and not list(self._repository.event_store.get(aggregate_id, limit=1)):
            with self._lock:
                self._missing.move_to_end(aggregate_id, last=True)
            raise AggregateNotFoundError(aggregate_id)
        try:
            found: Aggregate = self._repository.get(aggregate_id)
        except AggregateNotFoundError:
            with self._lock:
                self._missing[aggregate_id] = None
                self._missing.move_to_end(aggregate_id)
                while len(self._missing) > self._size:
                    self._missing.popitem(last=False)
            raise
        with self._lock:
            self._missing.pop(aggregate_id, None)
        return found

    def replay_all(self, aggregate_ids: Sequence[UUID]) -> Iterator[Any]:
        """The aggregates as stored now, shared, in the order given (those the store does not
        hold are left out), read REPLAYED at a time: one read of the store per chunk (the
        events after the kept version of each kept one, every event of the others, replayed),
        and none of them kept. For a read model built once from every record of a kind: where
        `peek_all` would load each record it does not keep in a read of its own, and keep
        them all."""
        store = self._repository.event_store
        for start in range(0, len(aggregate_ids), REPLAYED):
            ids = aggregate_ids[start : start + REPLAYED]
            with self._lock:
                kept = {i: a for i in ids if (a := self._current(i)) is not None}
            versions = [(i, kept[i].version if i in kept else 0) for i in ids]
            later: dict[UUID, list[Any]] = {}
            for stored in events_after(store.recorder, versions):
                event: Any = store.mapper.to_domain_event(stored)
                later.setdefault(event.originator_id, []).append(event)
            for aggregate_id in ids:
                aggregate = kept.get(aggregate_id)
                events = later.get(aggregate_id, [])
                if aggregate is not None and events:
                    aggregate = copying.deepcopy(aggregate)
                for event in events:
                    aggregate = event.mutate(aggregate)
                if aggregate is not None:
                    yield aggregate

    def copy(self, aggregate_id: UUID) -> Any:
        """The aggregate as stored now, a copy of its own for a command to change."""
        return copying.deepcopy(self.peek(aggregate_id))

    def adopt(self, aggregate: Aggregate) -> None:
        """An aggregate just saved, which its caller will not change again (a command's own
        copy, once the command is done): kept as it is, without a copy."""
        if aggregate.pending_events:
            return  # not as stored
        self._put(aggregate)

    def _current(self, aggregate_id: UUID) -> Aggregate | None:
        """The kept aggregate, if any, made the most recently used (under the lock)."""
        kept = self._kept.get(aggregate_id)
        if kept is not None and kept.pending_events:
            # Adopted, then changed after all (a bug of the adopter): not as stored.
            del self._kept[aggregate_id]
            return None
        if kept is not None:
            self._kept.move_to_end(aggregate_id)  # the least recently used goes first
        return kept

    def forget(self, aggregate_id: UUID) -> None:
        with self._lock:
            self._kept.pop(aggregate_id, None)
            self._missing.pop(aggregate_id, None)

    def _put(self, aggregate: Aggregate) -> None:
        if isinstance(aggregate, self._never):
            return
        with self._lock:
            kept = self._kept.get(aggregate.id)
            if kept is not None and kept.version >= aggregate.version:
                return  # another thread kept a later one meanwhile
            self._kept[aggregate.id] = aggregate
            self._kept.move_to_end(aggregate.id)
            while len(self._kept) > self._size:
                self._kept.popitem(last=False)


def events_after(recorder: Any, versions: list[tuple[UUID, int]]) -> Sequence[StoredEvent]:
    """The events stored after each given version of its aggregate: in one read where the
    recorder can (`select_later`: SQLite and PostgreSQL), else one read per aggregate."""
    if not versions:
        return []
    select_later = getattr(recorder, "select_later", None)
    if select_later is not None:
        found: Sequence[StoredEvent] = select_later(versions)
        return found
    return [
        stored
        for aggregate_id, version in versions
        for stored in recorder.select_events(aggregate_id, gt=version)
    ]
