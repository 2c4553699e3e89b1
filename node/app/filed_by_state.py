"""The records of one kind by a state of theirs (the proposals by their stage), each state's
records in the order they were filed, so that a page of a filtered list reads only its own
records, whatever the number the circle holds.

It is built from the records as listed the first time it is read, and from then on brought up
to date from the store's notifications after the last one it saw, as the decisions in force
are (node/app/decisions_in_force.py): the records their events name are read again. Events
saved by another thread or worker are found the same way. The node keeps it in memory only:
nothing of it is stored, so any store opens.
"""

from __future__ import annotations

import threading
from bisect import bisect_left, insort
from collections.abc import Callable
from typing import Any, Generic, TypeVar
from uuid import UUID

from eventsourcing.domain import Aggregate

from node.app.notified import event_topics, notified_since
from node.store.application import NodeStore

A = TypeVar("A", bound=Aggregate)


class FiledByState(Generic[A]):
    """The records of class `cls` filed under `kind` (CircleRecords.ids), by `state_of` each,
    brought up to date from the store at each read."""

    def __init__(
        self,
        store: NodeStore,
        ids: Callable[[], tuple[UUID, ...]],
        cls: type[A],
        state_of: Callable[[A], str],
    ) -> None:
        self._store = store
        self._ids = ids
        self._cls = cls
        self._state_of = state_of
        self._topics = event_topics(cls)
        self._lock = threading.Lock()  # one reader or catch-up at a time
        self._position: int | None = None  # the last notification seen; None: not built
        self._placed: dict[UUID, int] = {}  # each filed record's place in the filed order
        self._looked = 0  # how many of the filed ids were placed
        self._states: dict[UUID, str] = {}  # each placed record's state
        self._unplaced: set[UUID] = set()  # changed, not yet seen filed: looked for again
        self._by_state: dict[str, list[int]] = {}  # each state's records' places, sorted

    def window(self, state: str, offset: int, limit: int) -> tuple[list[A], int]:
        """The records in `state` from `offset` on, at most `limit`, in the order filed, and
        how many are in it."""
        with self._lock:
            self._catch_up()
            places = self._by_state.get(state, [])
            ids = self._ids()
            window = [ids[place] for place in places[offset : offset + limit]]
            total = len(places)
        records = self._store.kept.peek_all(window)
        return [record for record in records if isinstance(record, self._cls)], total

    def _catch_up(self) -> None:
        recorder: Any = self._store.recorder
        top = recorder.max_notification_id() or 0
        if self._position is None or top < self._position:  # not built, or a store restored
            self._build(top)
            return
        changed = set(self._unplaced)
        notified = notified_since(recorder, self._position + 1, top, self._topics)
        changed.update(notification.originator_id for notification in notified)
        self._position = top
        if changed:
            self._place_new(self._ids())
            for record in self._store.kept.peek_all(sorted(changed)):
                if isinstance(record, self._cls):
                    self._put(record)

    def _build(self, top: int) -> None:
        """Every record as listed now (any change from `top` on is read again next time)."""
        self._placed, self._states, self._unplaced, self._by_state = {}, {}, set(), {}
        self._looked = 0
        ids = self._ids()
        self._place_new(ids)
        for record in self._store.kept.replay_all(ids):  # a few hundred to a read, none kept
            if isinstance(record, self._cls):
                self._put(record)
        self._position = top

    def _place_new(self, ids: tuple[UUID, ...]) -> None:
        """The places of the records filed since the last look (an index only grows)."""
        for place in range(self._looked, len(ids)):
            self._placed.setdefault(ids[place], place)
        self._looked = len(ids)

    def _put(self, record: A) -> None:
        """Record the record's state as it is now."""
        place = self._placed.get(record.id)
        if place is None:  # its events seen before its filing: looked for at the next read
            self._unplaced.add(record.id)
            return
        self._unplaced.discard(record.id)
        state = self._state_of(record)
        held = self._states.get(record.id)
        if held == state:
            return
        if held is not None:
            places = self._by_state[held]
            del places[bisect_left(places, place)]
        self._states[record.id] = state
        insort(self._by_state.setdefault(state, []), place)
