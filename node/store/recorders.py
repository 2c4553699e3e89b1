"""What every recorder of the node keeps beside the events: feed entries and bodies, in tables
of their own, and the protocol the node reads them through.

They are written by the same transaction as the events of the save that brings them
(`save(..., entries=[...], bodies=[...])`): an aggregate's change, the entries it appends or
takes, and their bodies are stored together or not at all. An erasure goes in the same
transaction, after them (`erase_bodies=[hash, ...]`, `erase_events=[aggregate id, ...]`): what
it deletes is gone if and only if the save is stored, whatever the save brought of it. The
recorders: SQLite
(`sqlite_recorder.py`), PostgreSQL (`postgres_recorder.py`) and memory (`memory_store.py`).

- `feed_entries (feed, seq, signed)`: every signed entry held, of the own feed and of peers'.
  The primary key (feed, seq) is a second guard, beside the aggregates' versions, that an entry
  is stored once; pages are served straight from it.
  A superseding rotation (PROTOCOL.md 6.1) moves the entries it drops under another key
  (`superseded=`), where they stay as evidence.
- `bodies (hash, data, audience)`: bodies apart from the entries that bind them by hash, so a
  body can be withheld from readers outside its audience, or erased (a DELETE), while every
  feed still verifies.
"""

from __future__ import annotations

import operator
from collections.abc import Iterable, Sequence
from typing import Protocol
from uuid import UUID

# A body row: (hash, data, audience as concatenated 32-byte feed ids; empty for public).
BodyRow = tuple[bytes, bytes, bytes]
# An entry row: (feed id, seq, encoded SignedEntry).
EntryRow = tuple[bytes, int, bytes]
# Entries a superseding rotation drops: (feed id, from seq, key they are kept under). A save
# given `superseded=[...]` moves those rows to that key before it inserts its own entries.
SupersededRows = tuple[bytes, int, bytes]
CHUNK = 500
# The same body bound by two entries: public if either is, else readable by both audiences;
# an audience held already (the same body bound again for the same readers) is not added
# again, so a body bound many times keeps its audience's size.
MERGED_AUDIENCE = (
    "CASE WHEN length(excluded.audience) = 0 THEN excluded.audience "
    "WHEN length({table}.audience) = 0 THEN {table}.audience "
    "WHEN {contains} THEN {table}.audience "
    "ELSE {concat} END"
)


class FeedRecorder(Protocol):
    def select_bodies(self, hashes: Sequence[bytes]) -> dict[bytes, BodyRow]: ...

    def delete_bodies(self, hashes: Sequence[bytes]) -> int: ...

    def select_entries(self, feed: bytes, after: int, limit: int) -> list[bytes]: ...

    def delete_events(self, originator_id: UUID) -> int: ...

    def compact(self) -> None: ...


def by_hash(bodies: Sequence[BodyRow]) -> list[BodyRow]:
    """Body rows in the order of their hashes (a stable sort: rows of one hash keep theirs, so
    their audiences merge as they came). Hashes are random: in order, a batch of inserts walks
    the hash index in order instead of jumping about it, which is faster."""
    return sorted(bodies, key=_HASH_OF)


_HASH_OF = operator.itemgetter(0)  # a row's hash (in C: the sort's key is asked of every row)


def chunks(items: Sequence[bytes]) -> Iterable[Sequence[bytes]]:
    for start in range(0, len(items), CHUNK):
        yield items[start : start + CHUNK]
