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

import contextlib
import functools
import hashlib
import socket
import sqlite3
import threading
from collections.abc import Iterable, Iterator, Sequence
from itertools import chain
from typing import Any, Protocol
from uuid import UUID

from eventsourcing.persistence import (
    IntegrityError,
    InterfaceError,
    OperationalError,
    StoredEvent,
)
from eventsourcing.popo import POPOApplicationRecorder, POPOFactory
from eventsourcing.sqlite import SQLiteApplicationRecorder, SQLiteCursor
from eventsourcing.utils import retry

from node.store.sqlite_store import OwnReads

# A body row: (hash, data, audience as concatenated 32-byte feed ids; empty for public).
BodyRow = tuple[bytes, bytes, bytes]
# An entry row: (feed id, seq, encoded SignedEntry).
EntryRow = tuple[bytes, int, bytes]
CHUNK = 500
# New SQLite stores have SQLite's default pages (4 KiB). Stores made with 16 KiB pages by
# earlier versions keep theirs (a store's page size is fixed once it holds anything). Larger
# pages cut the SQLite time of a catch-up's large saves, but a command's commit writes every
# page it touched (9.5 a command, counted in the WAL: events and their index, entries, bodies
# and theirs) to the WAL:
# with 4 KiB pages a command is about an eighth faster, and a catch-up as fast within the noise.
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


def _by_hash(bodies: Sequence[BodyRow]) -> list[BodyRow]:
    """Body rows in the order of their hashes (a stable sort: rows of one hash keep theirs, so
    their audiences merge as they came). Hashes are random: in order, a batch of inserts walks
    the hash index in order instead of jumping about it (a fifth to a third faster)."""
    return sorted(bodies, key=_hash_of)


def _hash_of(row: BodyRow) -> bytes:
    return row[0]


def _chunks(items: Sequence[bytes]) -> Iterable[Sequence[bytes]]:
    for start in range(0, len(items), CHUNK):
        yield items[start : start + CHUNK]


_UPSERT = " ON CONFLICT (hash) DO UPDATE SET audience = " + _MERGED_AUDIENCE.format(
    table="bodies", concat=_SQLITE_CONCAT.format(table="bodies")
)
# Rows inserted by one statement (the multi-row VALUES of SQLite): events, entries, bodies.
# Row by row (executemany, or eventsourcing's statement per event), Python takes and gives
# back the GIL around each one, and other threads (the event loop fetching pages) make it
# wait for it; one statement per 1000 rows is also a fifth to a quarter faster on its own.
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
        entries: list[EntryRow] = kwargs.get("entries") or []
        if entries:
            _insert_rows(c.sqlite_cursor, "INSERT INTO feed_entries VALUES ", entries)
        bodies: list[BodyRow] = kwargs.get("bodies") or []
        if bodies:
            _insert_rows(c.sqlite_cursor, "INSERT INTO bodies VALUES ", _by_hash(bodies), _UPSERT)
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
            for chunk in _chunks(sorted(set(hashes))):
                marks = ",".join("?" * len(chunk))
                query = f"SELECT hash, data, audience FROM bodies WHERE hash IN ({marks})"
                cursor.execute(query, chunk)
                for row in cursor.fetchall():
                    found[row[0]] = row
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
    import psycopg
    from eventsourcing.postgres import PostgresApplicationRecorder
    from psycopg import Cursor, sql

    class PostgresFeedRecorder(PostgresApplicationRecorder):
        # eventsourcing retries a failed write; but when the server committed it and only the
        # acknowledgement was lost, the retry conflicts with the write itself, and the command
        # would be run again (a second decision). A failed write is reported instead: its
        # outcome is unknown, and the caller hears that the store failed.
        insert_events = PostgresApplicationRecorder.insert_events.__wrapped__

        def __init__(self, datastore: Any, *, events_table_name: str = "stored_events") -> None:
            super().__init__(datastore, events_table_name=events_table_name)
            guard_outages(datastore)
            # Outbox claims: advisory locks held on a connection of their own.
            self._claims: set[bytes] = set()
            self._claims_lock = threading.Lock()
            self._claims_connection: psycopg.Connection[Any] | None = None
            self._claims_scope = f"{self.datastore.schema}.{events_table_name}".encode()
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

        @retry((InterfaceError, OperationalError), max_attempts=10, wait=0.2)  # as select_events
        def select_later(self, versions: Sequence[tuple[UUID, int]]) -> list[StoredEvent]:
            """The events stored after the given version of each aggregate, in one query (a
            listing checks hundreds of kept records at once: one round trip, not hundreds)."""
            as_uuid = self.datastore.originator_id_type == "uuid"
            statement = sql.SQL(
                "SELECT e.originator_id, e.originator_version, e.topic, e.state "
                "FROM unnest(%s::{}[], %s::bigint[]) AS kept(id, version) "
                "JOIN {}.{} AS e ON e.originator_id = kept.id "
                "AND e.originator_version > kept.version "
                "ORDER BY e.originator_id, e.originator_version"
            ).format(
                sql.SQL("uuid" if as_uuid else "text"),
                self.schema,
                sql.Identifier(self.events_table_name),
            )
            ids = [i if as_uuid else str(i) for i, _ in versions]
            with self.datastore.get_connection() as connection, connection.cursor() as curs:
                curs.execute(statement, [ids, [version for _, version in versions]])
                return [
                    StoredEvent(
                        originator_id=row["originator_id"],
                        originator_version=row["originator_version"],
                        topic=row["topic"],
                        state=bytes(row["state"]),
                    )
                    for row in curs.fetchall()
                ]

        def _insert_events(
            self, curs: Cursor[Any], stored_events: Sequence[StoredEvent], **kwargs: Any
        ) -> None:
            super()._insert_events(curs, stored_events, **kwargs)
            if not stored_events:  # else they go with the events, below
                self._insert_feed_rows(curs, **kwargs)

        def _insert_stored_events(
            self, curs: Cursor[Any], stored_events: Sequence[StoredEvent], **kwargs: Any
        ) -> None:
            # The events first, synced at once: two workers appending to the feed at once
            # conflict on its version there, which is then reported as a conflict (and the
            # command retried). Otherwise the pipeline is aborted by the first failure, and
            # what surfaces is an unretried "pipeline aborted". The rows go on a cursor of
            # their own (the events' cursor is read for their notification ids afterwards).
            super()._insert_stored_events(curs, stored_events, **kwargs)
            with curs.connection.pipeline() as pipeline:
                pipeline.sync()
            with curs.connection.cursor() as rows:
                self._insert_feed_rows(rows, **kwargs)

        def _insert_feed_rows(self, curs: Cursor[Any], **kwargs: Any) -> None:
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
                    _by_hash(bodies),
                )

        # Claiming the outbox towards a peer, so that several workers on one store push each
        # entry once: a session-level advisory lock, on a connection kept for claims (not a
        # pooled one, and no transaction is held open during a push). It is released by
        # release_outbox, or by the server when the worker's connection ends (a crash, a
        # SIGKILL, a lost connection), so a dead worker never keeps a peer's outbox.

        def claim_outbox(self, peer: bytes) -> bool:
            """Claim delivery to `peer`; False if another worker (or task) holds it."""
            with self._claims_lock:
                if peer in self._claims:
                    return False
                key = self._claim_key(peer)
                try:
                    connection = self._claims_session()
                    row = connection.execute("SELECT pg_try_advisory_lock(%s)", (key,)).fetchone()
                except psycopg.Error as error:
                    self.drop_claims()
                    raise OperationalError(f"could not claim the outbox: {error}") from error
                if row is None or not row[0]:
                    return False
                self._claims.add(peer)
                return True

        def release_outbox(self, peer: bytes) -> None:
            with self._claims_lock:
                if peer not in self._claims:
                    return
                self._claims.discard(peer)
                if self._claims_connection is None:
                    return
                try:
                    self._claims_connection.execute(
                        "SELECT pg_advisory_unlock(%s)", (self._claim_key(peer),)
                    )
                except psycopg.Error:
                    self.drop_claims()  # its locks ended with it

        def _claim_key(self, peer: bytes) -> int:
            digest = hashlib.sha256(self._claims_scope + b"/outbox/" + peer).digest()
            return int.from_bytes(digest[:8], "big", signed=True)

        def _claims_session(self) -> psycopg.Connection[Any]:
            if self._claims_connection is None or self._claims_connection.closed:
                self._claims.clear()  # the locks of a lost session are gone with it
                pooled: Any = self.datastore.pool.kwargs or {}
                kwargs = {k: v for k, v in pooled.items() if v is not None and k != "row_factory"}
                self._claims_connection = psycopg.connect(
                    **kwargs, autocommit=True, connect_timeout=5
                )
            return self._claims_connection

        def drop_claims(self) -> None:
            """End the claims session (its claims end with it)."""
            self._claims.clear()
            if self._claims_connection is not None:
                with contextlib.suppress(psycopg.Error):
                    self._claims_connection.close()
            self._claims_connection = None

        def delete_events(self, originator_id: UUID) -> int:
            query = sql.SQL("DELETE FROM {}.{} WHERE originator_id = %s").format(
                self.schema, sql.Identifier(self.events_table_name)
            )
            with self.datastore.transaction(commit=True) as curs:
                curs.execute(query, (originator_id,))
                return int(curs.rowcount)

        def compact(self) -> None:
            # VACUUM cannot run in a transaction: use a connection in autocommit mode.
            # The pool's connections are in autocommit mode already (eventsourcing's datastore
            # asserts it); one goes back to the pool as it came.
            with self.datastore.get_connection() as conn:
                was = conn.autocommit
                conn.autocommit = True
                try:
                    for table in (self.events_table_name, self.bodies_table_name):
                        conn.execute(
                            sql.SQL("VACUUM {}.{}").format(self.schema, sql.Identifier(table))
                        )
                finally:
                    conn.autocommit = was

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


# How long the pool keeps retrying one lost connection before it gives up (it starts again
# when a command next needs one): a server that returns is found within seconds, not after
# the pool's exponential backoff has grown to minutes.
RECONNECT_WINDOW = 5.0
PROBE_TIMEOUT = 1.0


def guard_outages(datastore: Any) -> None:
    """Fail fast while the PostgreSQL server cannot be reached, and find it again quickly.

    eventsourcing retries every read ten times, each waiting out the pool's timeout, so that a
    command would hang for minutes while the server is down. Once getting a connection has
    failed, later attempts fail at once for as long as a plain TCP connection to the server is
    refused. The store's own tables and the snapshots share the datastore, so both are guarded.
    """
    if getattr(datastore, "outage_guarded", False):
        return
    pool = datastore.pool
    pool.reconnect_timeout = RECONNECT_WINDOW
    host = str(pool.kwargs.get("host") or "localhost")
    port = int(pool.kwargs.get("port") or 5432)
    get_connection = datastore.get_connection
    down = [False]

    def reachable() -> bool:
        if host.startswith("/"):
            return True  # a Unix socket: leave it to the pool
        try:
            socket.create_connection((host, port), timeout=PROBE_TIMEOUT).close()
        except OSError:
            return False
        return True

    @contextlib.contextmanager
    def guarded() -> Iterator[Any]:
        if down[0] and not reachable():
            raise OperationalError(f"The PostgreSQL server at {host}:{port} cannot be reached")
        acquired = False
        try:
            with get_connection() as connection:
                acquired = True
                down[0] = False
                yield connection
        except OperationalError:
            if not acquired:
                down[0] = True
            raise

    datastore.get_connection = guarded
    datastore.outage_guarded = True


def __getattr__(name: str) -> Any:
    # Resolved lazily so that SQLite-only installs never import psycopg.
    if name == "PostgresFeedRecorder":
        return _postgres_feed_recorder()
    raise AttributeError(name)


class MemoryFactory(POPOFactory):
    """In-memory event store with a body table (PERSISTENCE_MODULE=node.store.memory_store)."""

    def application_recorder(self) -> POPOFeedRecorder:  # type: ignore[override]
        return POPOFeedRecorder()
