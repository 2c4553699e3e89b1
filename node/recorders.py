"""Event recorders that also keep feed entries and bodies, in tables of their own.

Both are written by the same transaction as the events of the save that brings them
(`save(..., entries=[...], bodies=[...])`): an aggregate's change, the entries it appends or
takes, and their bodies are stored together or not at all.

- `feed_entries (feed, seq, signed)`: every signed entry held, of the own feed and of peers'.
  The primary key (feed, seq) is a second guard, beside the aggregates' versions, that an entry
  is stored once; pages are served straight from it.
- `bodies (hash, data, audience)`: bodies apart from the entries that bind them by hash, so a
  body can be withheld from readers outside its audience, or erased (a DELETE), while every
  feed still verifies.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Sequence
from typing import Any, Protocol
from uuid import UUID

from eventsourcing.persistence import IntegrityError, StoredEvent
from eventsourcing.popo import POPOApplicationRecorder, POPOFactory
from eventsourcing.sqlite import SQLiteApplicationRecorder, SQLiteCursor

# A body row: (hash, data, audience as concatenated 32-byte feed ids; empty for public).
BodyRow = tuple[bytes, bytes, bytes]
# An entry row: (feed id, seq, encoded SignedEntry).
EntryRow = tuple[bytes, int, bytes]
CHUNK = 500
# The same body bound by two entries: public if either is, else readable by both audiences.
# (SQLite's || makes text of two blobs, hence the cast back to a blob there.)
_MERGED_AUDIENCE = (
    "CASE WHEN length(excluded.audience) = 0 THEN excluded.audience "
    "WHEN length({table}.audience) = 0 THEN {table}.audience "
    "ELSE {concat} END"
)
_SQLITE_CONCAT = "CAST({table}.audience || excluded.audience AS BLOB)"
_POSTGRES_CONCAT = "{table}.audience || excluded.audience"


class FeedRecorder(Protocol):
    def select_bodies(self, hashes: Sequence[bytes]) -> dict[bytes, BodyRow]: ...

    def delete_bodies(self, hashes: Sequence[bytes]) -> int: ...

    def select_entries(self, feed: bytes, after: int, limit: int) -> list[bytes]: ...

    def delete_events(self, originator_id: UUID) -> int: ...

    def compact(self) -> None: ...


def _chunks(items: Sequence[bytes]) -> Iterable[Sequence[bytes]]:
    for start in range(0, len(items), CHUNK):
        yield items[start : start + CHUNK]


class SQLiteFeedRecorder(SQLiteApplicationRecorder):
    def construct_create_table_statements(self) -> list[str]:
        return [
            *super().construct_create_table_statements(),
            "CREATE TABLE IF NOT EXISTS feed_entries "
            "(feed BLOB NOT NULL, seq INTEGER NOT NULL, signed BLOB NOT NULL, "
            "PRIMARY KEY (feed, seq)) WITHOUT ROWID",
            "CREATE TABLE IF NOT EXISTS bodies "
            "(hash BLOB PRIMARY KEY, data BLOB NOT NULL, audience BLOB NOT NULL)",
        ]

    def _insert_events(
        self, c: SQLiteCursor, stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> Sequence[int] | None:
        returning = super()._insert_events(c, stored_events, **kwargs)
        entries: list[EntryRow] = kwargs.get("entries") or []
        if entries:
            c.executemany("INSERT INTO feed_entries VALUES (?, ?, ?)", entries)
        bodies: list[BodyRow] = kwargs.get("bodies") or []
        if bodies:
            c.executemany(
                "INSERT INTO bodies VALUES (?, ?, ?) ON CONFLICT (hash) DO UPDATE SET audience = "
                + _MERGED_AUDIENCE.format(
                    table="bodies", concat=_SQLITE_CONCAT.format(table="bodies")
                ),
                bodies,
            )
        return returning

    def delete_events(self, originator_id: UUID) -> int:
        """Erase an aggregate (personal data) from the store: its events are gone."""
        with self.datastore.transaction(commit=True) as c:
            c.execute(
                f"DELETE FROM {self.events_table_name} WHERE originator_id = ?",
                (originator_id.hex,),
            )
            return int(c.sqlite_cursor.rowcount)

    def compact(self) -> None:
        """Rewrite the file so that erased data leaves no trace in it (nor in the WAL)."""
        with self.datastore.transaction(commit=False) as c:
            c.sqlite_cursor.connection.commit()
            c.execute("VACUUM")
            c.execute("PRAGMA wal_checkpoint(TRUNCATE)")

    def select_entries(self, feed: bytes, after: int, limit: int) -> list[bytes]:
        with self.datastore.transaction(commit=False) as c:
            c.execute(
                "SELECT signed FROM feed_entries WHERE feed = ? AND seq > ? ORDER BY seq LIMIT ?",
                (feed, after, limit),
            )
            return [bytes(row[0]) for row in c.fetchall()]

    def select_bodies(self, hashes: Sequence[bytes]) -> dict[bytes, BodyRow]:
        found: dict[bytes, BodyRow] = {}
        with self.datastore.transaction(commit=False) as c:
            for chunk in _chunks(list(hashes)):
                marks = ",".join("?" * len(chunk))
                c.execute(f"SELECT hash, data, audience FROM bodies WHERE hash IN ({marks})", chunk)
                for row in c.fetchall():
                    found[bytes(row[0])] = (bytes(row[0]), bytes(row[1]), bytes(row[2]))
        return found

    def delete_bodies(self, hashes: Sequence[bytes]) -> int:
        deleted = 0
        with self.datastore.transaction(commit=True) as c:
            for chunk in _chunks(list(hashes)):
                marks = ",".join("?" * len(chunk))
                c.execute(f"DELETE FROM bodies WHERE hash IN ({marks})", chunk)
                deleted += c.sqlite_cursor.rowcount
        return deleted


class POPOFeedRecorder(POPOApplicationRecorder):
    def __init__(self) -> None:
        super().__init__()
        self._bodies: dict[bytes, BodyRow] = {}
        self._entries: dict[bytes, dict[int, bytes]] = {}

    def insert_events(self, stored_events: Sequence[StoredEvent], **kwargs: Any) -> Any:
        with self._database_lock:
            entries: list[EntryRow] = kwargs.get("entries") or []
            for feed, seq, _ in entries:
                if seq in self._entries.get(feed, {}):
                    raise IntegrityError(f"entry {seq} of that feed is already held")
            returning = super().insert_events(stored_events, **kwargs)
            for feed, seq, signed in entries:
                self._entries.setdefault(feed, {})[seq] = signed
            for row in kwargs.get("bodies") or []:
                self._bodies.setdefault(row[0], row)
            return returning

    def delete_events(self, originator_id: UUID) -> int:
        # In memory, the notification positions of later events move up (nothing persists).
        with self._database_lock:
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


def _values(row: Any) -> list[Any]:
    return list(row.values()) if isinstance(row, dict) else list(row)


def _first(row: Any) -> Any:
    return _values(row)[0]


@functools.cache
def _postgres_feed_recorder() -> type:
    from eventsourcing.postgres import PostgresApplicationRecorder
    from psycopg import Cursor, sql

    class PostgresFeedRecorder(PostgresApplicationRecorder):
        def __init__(self, datastore: Any, *, events_table_name: str = "stored_events") -> None:
            super().__init__(datastore, events_table_name=events_table_name)
            prefix = events_table_name.replace("_events", "")
            self.bodies_table_name = prefix + "_bodies"
            self.bodies_table = sql.Identifier(self.bodies_table_name)
            self.entries_table = sql.Identifier(prefix + "_feed_entries")
            self.schema = sql.Identifier(self.datastore.schema)
            self.sql_create_statements.append(
                sql.SQL(
                    "CREATE TABLE IF NOT EXISTS {}.{} (feed bytea NOT NULL, seq bigint NOT NULL, "
                    "signed bytea NOT NULL, PRIMARY KEY (feed, seq))"
                ).format(self.schema, self.entries_table)
            )
            self.sql_create_statements.append(
                sql.SQL(
                    "CREATE TABLE IF NOT EXISTS {}.{} "
                    "(hash bytea PRIMARY KEY, data bytea NOT NULL, audience bytea NOT NULL)"
                ).format(self.schema, self.bodies_table)
            )

        def _insert_events(
            self, curs: Cursor[Any], stored_events: Sequence[StoredEvent], **kwargs: Any
        ) -> None:
            super()._insert_events(curs, stored_events, **kwargs)
            entries: list[EntryRow] = kwargs.get("entries") or []
            if entries:
                curs.executemany(
                    sql.SQL("INSERT INTO {}.{} VALUES (%s, %s, %s)").format(
                        self.schema, self.entries_table
                    ),
                    entries,
                )
            bodies: list[BodyRow] = kwargs.get("bodies") or []
            if bodies:
                curs.executemany(
                    sql.SQL(
                        "INSERT INTO {}.{} AS b VALUES (%s, %s, %s) ON CONFLICT (hash) DO UPDATE "
                        "SET audience = "
                        + _MERGED_AUDIENCE.format(
                            table="b", concat=_POSTGRES_CONCAT.format(table="b")
                        )
                    ).format(self.schema, self.bodies_table),
                    bodies,
                )

        def delete_events(self, originator_id: UUID) -> int:
            query = sql.SQL("DELETE FROM {}.{} WHERE originator_id = %s").format(
                self.schema, sql.Identifier(self.events_table_name)
            )
            with self.datastore.transaction(commit=True) as curs:
                curs.execute(query, (originator_id,))
                return int(curs.rowcount)

        def compact(self) -> None:
            # VACUUM cannot run in a transaction: use a connection in autocommit mode.
            with self.datastore.get_connection() as conn:
                conn.autocommit = True
                try:
                    for table in (self.events_table_name, self.bodies_table_name):
                        conn.execute(
                            sql.SQL("VACUUM {}.{}").format(self.schema, sql.Identifier(table))
                        )
                finally:
                    conn.autocommit = False

        def select_entries(self, feed: bytes, after: int, limit: int) -> list[bytes]:
            query = sql.SQL(
                "SELECT signed FROM {}.{} WHERE feed = %s AND seq > %s ORDER BY seq LIMIT %s"
            ).format(self.schema, self.entries_table)
            with self.datastore.transaction(commit=False) as curs:
                curs.execute(query, (feed, after, limit))
                return [bytes(_first(row)) for row in curs.fetchall()]

        def select_bodies(self, hashes: Sequence[bytes]) -> dict[bytes, BodyRow]:
            found: dict[bytes, BodyRow] = {}
            query = sql.SQL("SELECT hash, data, audience FROM {}.{} WHERE hash = ANY(%s)").format(
                self.schema, self.bodies_table
            )
            with self.datastore.transaction(commit=False) as curs:
                for chunk in _chunks(list(hashes)):
                    curs.execute(query, (list(chunk),))
                    for row in curs.fetchall():
                        values = _values(row)
                        key = bytes(values[0])
                        found[key] = (key, bytes(values[1]), bytes(values[2]))
            return found

        def delete_bodies(self, hashes: Sequence[bytes]) -> int:
            query = sql.SQL("DELETE FROM {}.{} WHERE hash = ANY(%s)").format(
                self.schema, self.bodies_table
            )
            deleted = 0
            with self.datastore.transaction(commit=True) as curs:
                for chunk in _chunks(list(hashes)):
                    curs.execute(query, (list(chunk),))
                    deleted += curs.rowcount
            return deleted

    return PostgresFeedRecorder


def __getattr__(name: str) -> Any:
    # Resolved lazily so that SQLite-only installs never import psycopg.
    if name == "PostgresFeedRecorder":
        return _postgres_feed_recorder()
    raise AttributeError(name)


class MemoryFactory(POPOFactory):
    """In-memory event store with a body table (PERSISTENCE_MODULE=node.memory_store)."""

    def application_recorder(self) -> POPOFeedRecorder:  # type: ignore[override]
        return POPOFeedRecorder()
