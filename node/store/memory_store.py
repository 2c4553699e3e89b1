"""`PERSISTENCE_MODULE=node.store.memory_store`: the in-memory event store, with the feed-entry
and body tables (`recorders.py`) as dictionaries."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from uuid import UUID

from eventsourcing import popo
from eventsourcing.persistence import IntegrityError, StoredEvent

from node.store.recorders import BodyRow, EntryRow, SupersededRows
from node.store.session_rows import MemorySessionRows


class POPOFeedRecorder(popo.POPOApplicationRecorder):
    def __init__(self) -> None:
        super().__init__()
        self._bodies: dict[bytes, BodyRow] = {}
        self._entries: dict[bytes, dict[int, bytes]] = {}
        self.session_rows = MemorySessionRows()  # the web pages' sessions

    def insert_events(self, stored_events: Sequence[StoredEvent], **kwargs: Any) -> Any:
        with self._database_lock:
            moved: list[SupersededRows] = kwargs.get("superseded") or []
            moving = {feed: first_seq for feed, first_seq, _ in moved}
            entries: list[EntryRow] = kwargs.get("entries") or []
            for feed, seq, _ in entries:
                if seq in self._entries.get(feed, {}) and seq < moving.get(feed, seq + 1):
                    raise IntegrityError(f"entry {seq} of that feed is already held")
            returning = super().insert_events(stored_events, **kwargs)
            for feed, first_seq, evidence in moved:
                held = self._entries.get(feed, {})
                dropped = {seq: raw for seq, raw in held.items() if seq >= first_seq}
                for seq in dropped:
                    del held[seq]
                self._entries.setdefault(evidence, {}).update(dropped)
            for feed, seq, signed in entries:
                self._entries.setdefault(feed, {})[seq] = signed
            for row in kwargs.get("bodies") or []:
                self._bodies[row[0]] = _merged(self._bodies.get(row[0]), row)
            for digest in kwargs.get("erase_bodies") or []:
                self._bodies.pop(digest, None)
            for originator_id in kwargs.get("erase_events") or []:
                self._delete_events(originator_id)
            return returning

    def delete_events(self, originator_id: UUID) -> int:
        with self._database_lock:
            return self._delete_events(originator_id)

    def _delete_events(self, originator_id: UUID) -> int:
        # In memory, the notification positions of later events move up (nothing persists).
        kept = [e for e in self._stored_events if e.originator_id != originator_id]
        deleted = len(self._stored_events) - len(kept)
        self._stored_events[:] = kept
        self._stored_events_index.clear()
        for position, stored in enumerate(kept):
            index = self._stored_events_index[str(stored.originator_id)]
            index[stored.originator_version] = position
        return deleted

    def compact(self) -> None:
        pass  # nothing of an in-memory store outlives the process

    def select_entries(self, feed: bytes, after: int, limit: int) -> list[bytes]:
        held = self._entries.get(feed, {})
        return [held[seq] for seq in sorted(s for s in held if s > after)[:limit]]

    def select_bodies(self, hashes: Sequence[bytes]) -> dict[bytes, BodyRow]:
        return {h: self._bodies[h] for h in hashes if h in self._bodies}

    def delete_bodies(self, hashes: Sequence[bytes]) -> int:
        return sum(self._bodies.pop(h, None) is not None for h in hashes)


def _merged(held: BodyRow | None, row: BodyRow) -> BodyRow:
    """One row per hash, as the SQL recorders keep it (`MERGED_AUDIENCE`): public if either
    binding is, else the two audiences one after the other (an audience held already is not
    added again); the data stays as first stored."""
    if held is None:
        return row
    digest, data, audience = held
    if not audience:
        return held
    if not row[2]:
        return (digest, data, row[2])
    if row[2] in audience:
        return held
    return (digest, data, audience + row[2])


# The one factory class of this module (eventsourcing looks for exactly one).
class Factory(popo.POPOFactory):
    """In-memory event store with a body table (PERSISTENCE_MODULE=node.store.memory_store)."""

    def application_recorder(self) -> POPOFeedRecorder:  # type: ignore[override]
        return POPOFeedRecorder()
