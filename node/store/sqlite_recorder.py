"""The SQLite recorder (`APPLICATION_RECORDER_TOPIC=node.store.sqlite_recorder:SQLiteFeedRecorder`):
eventsourcing's, reading on connections kept for reads (`Readers`), with the feed-entry and body
tables (`recorders.py`), and many rows inserted by one statement."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from itertools import chain
from typing import Any
from uuid import UUID

from eventsourcing.persistence import StoredEvent
from eventsourcing.sqlite import SQLiteApplicationRecorder, SQLiteCursor

from node.store.rate_buckets import SQLRateBuckets
from node.store.recorders import (
    MERGED_AUDIENCE,
    BodyRow,
    EntryRow,
    SupersededRows,
    by_hash,
    chunks,
)
from node.store.session_rows import SQLSessionRows
from node.store.sqlite_store import OwnReads, readers_of
from node.store.written_by import SQLWrittenBy

# New SQLite stores have SQLite's default pages (4 KiB). Stores made with 16 KiB pages by
# earlier versions keep theirs (a store's page size is fixed once it holds anything). Larger
# pages cut the SQLite time of a catch-up's large saves, but a command's commit writes every
# page it touched (events and their index, entries, bodies and theirs) to the WAL: with 4 KiB
# pages a command is faster, and a catch-up as fast within the noise (bench/RESULTS.md).

# Bodies bound twice merge their audiences (`MERGED_AUDIENCE`). SQLite's || makes text of two
# blobs, hence the cast back to a blob.
_SQLITE_CONCAT = "CAST({table}.audience || excluded.audience AS BLOB)"
_UPSERT = " ON CONFLICT (hash) DO UPDATE SET audience = " + MERGED_AUDIENCE.format(
    table="bodies",
    concat=_SQLITE_CONCAT.format(table="bodies"),
    contains="instr(bodies.audience, excluded.audience) > 0",
)
# Rows inserted by one statement (the multi-row VALUES of SQLite): events, entries, bodies.
# Row by row (executemany, or eventsourcing's statement per event), Python takes and gives
# back the GIL around each one, and other threads (the event loop fetching pages) make it
# wait for it; one statement per 1000 rows is also faster on its own.
ROWS_PER_INSERT = 1000


def _insert_rows(
    cursor: sqlite3.Cursor, insert: str, rows: Sequence[tuple[Any, ...]], suffix: str = ""
) -> list[int]:
    """`insert` + VALUES for `rows` (all of one width) + `suffix`, as a few statements; for a
    plain insert into a rowid table, the rowids given to the rows (consecutive in a statement:
    each new row takes the largest plus one)."""
    width = len(rows[0])
    limit = cursor.connection.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER) // width
    step = max(1, min(ROWS_PER_INSERT, limit))
    row = "(" + ",".join("?" * width) + ")"
    rowids: list[int] = []
    for start in range(0, len(rows), step):
        chunk = rows[start : start + step]
        cursor.execute(
            insert + ",".join([row] * len(chunk)) + suffix, list(chain.from_iterable(chunk))
        )
        last = cursor.lastrowid
        assert last is not None  # sqlite3 gives one after every INSERT
        rowids.extend(range(last - len(chunk) + 1, last + 1))
    return rowids


class SQLiteFeedRecorder(OwnReads, SQLiteApplicationRecorder):
    @property
    def session_rows(self) -> SQLSessionRows:
        """The web pages' sessions (node/store/session_rows.py)."""
        return SQLSessionRows(self.datastore.transaction, "sessions", "?")

    @property
    def written_by(self) -> SQLWrittenBy:
        """The version that last wrote the store (node/store/written_by.py)."""
        return SQLWrittenBy(self.datastore.transaction, "written_by", "?")

    @property
    def rate_buckets(self) -> SQLRateBuckets:
        """Rate limits' buckets (node/store/rate_buckets.py)."""
        readers = readers_of(self.datastore)
        return SQLRateBuckets(
            self.datastore.transaction,
            "rate_buckets",
            "?",
            "min",
            "max",
            read=readers.rows if readers is not None else None,
        )

    def construct_create_table_statements(self) -> list[str]:
        return [
            *super().construct_create_table_statements(),
            "CREATE TABLE IF NOT EXISTS feed_entries "
            "(feed BLOB NOT NULL, seq INTEGER NOT NULL, signed BLOB NOT NULL, "
            "PRIMARY KEY (feed, seq)) WITHOUT ROWID",
            "CREATE TABLE IF NOT EXISTS bodies "
            "(hash BLOB PRIMARY KEY, data BLOB NOT NULL, audience BLOB NOT NULL)",
            self.session_rows.create_statement("BLOB", "REAL"),
            self.rate_buckets.create_statement("REAL"),
            self.written_by.create_statement(),
        ]

    def _insert_events(
        self, c: SQLiteCursor, stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> Sequence[int] | None:
        # The events as eventsourcing inserts them (its statement, one per event), but in one
        # statement for the lot: a command saves three (its record, its filing, the feed's).
        returning = (
            _insert_rows(
                c.sqlite_cursor,
                f"INSERT INTO {self.events_table_name} VALUES ",
                [
                    (event.originator_id.hex, event.originator_version, event.topic, event.state)
                    if isinstance(event.originator_id, UUID)
                    else (event.originator_id, event.originator_version, event.topic, event.state)
                    for event in stored_events
                ],
            )
            if stored_events
            else []
        )
        moved: list[SupersededRows] = kwargs.get("superseded") or []
        for feed, first_seq, evidence in moved:
            c.execute(
                "UPDATE feed_entries SET feed = ? WHERE feed = ? AND seq >= ?",
                (evidence, feed, first_seq),
            )
        entries: list[EntryRow] = kwargs.get("entries") or []
        if entries:
            _insert_rows(c.sqlite_cursor, "INSERT INTO feed_entries VALUES ", entries)
        bodies: list[BodyRow] = kwargs.get("bodies") or []
        if bodies:
            _insert_rows(c.sqlite_cursor, "INSERT INTO bodies VALUES ", by_hash(bodies), _UPSERT)
        for chunk in chunks(list(kwargs.get("erase_bodies") or [])):
            c.execute(f"DELETE FROM bodies WHERE hash IN ({','.join('?' * len(chunk))})", chunk)
        for originator_id in kwargs.get("erase_events") or []:
            c.execute(
                f"DELETE FROM {self.events_table_name} WHERE originator_id = ?",
                (originator_id.hex,),
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
            cursor = c.sqlite_cursor
            cursor.row_factory = None  # plain tuples of bytes
            # In hash order, each chunk looks up one stretch of the hash index after the other.
            for chunk in chunks(sorted(set(hashes))):
                marks = ",".join("?" * len(chunk))
                query = f"SELECT hash, data, audience FROM bodies WHERE hash IN ({marks})"
                cursor.execute(query, chunk)
                for row in cursor.fetchall():
                    found[row[0]] = row
        return found

    def delete_bodies(self, hashes: Sequence[bytes]) -> int:
        deleted = 0
        with self.datastore.transaction(commit=True) as c:
            for chunk in chunks(list(hashes)):
                marks = ",".join("?" * len(chunk))
                c.execute(f"DELETE FROM bodies WHERE hash IN ({marks})", chunk)
                deleted += c.sqlite_cursor.rowcount
        return deleted
