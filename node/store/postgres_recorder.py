"""The PostgreSQL recorder
(`APPLICATION_RECORDER_TOPIC=node.store.postgres_recorder:PostgresFeedRecorder`): eventsourcing's,
with the feed-entry and body tables (`recorders.py`), writes that are not retried blindly,
claims on the outbox towards each peer, and a datastore that fails fast while the server is
down. Only a store on PostgreSQL imports it (through that topic): SQLite-only installs never
import psycopg."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from itertools import pairwise
from typing import Any
from uuid import UUID

import psycopg
from eventsourcing.persistence import InterfaceError, OperationalError, StoredEvent
from eventsourcing.postgres import PostgresApplicationRecorder
from eventsourcing.utils import retry
from psycopg import Cursor, sql

from node.store.append_notices import CHANNEL, payload
from node.store.postgres_claims import ClaimsSession
from node.store.postgres_pool import PoolLease, guard_outages
from node.store.postgres_store import ArrayInserts
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
from node.store.written_by import SQLWrittenBy

_POSTGRES_CONCAT = "{table}.audience || excluded.audience"


# libpq's parameters for the connections kept beside the pool: connecting gives up after 5 s;
# an idle one is probed after 10 s of silence, twice 5 s apart; and sent data the server does
# not acknowledge within 10 s (`tcp_user_timeout`, milliseconds) ends the connection.
APART_TIMEOUTS: dict[str, Any] = {
    "connect_timeout": 5,
    "keepalives": 1,
    "keepalives_idle": 10,
    "keepalives_interval": 5,
    "keepalives_count": 2,
    "tcp_user_timeout": 10_000,
}


def _values(row: Any) -> list[Any]:
    return list(row.values()) if isinstance(row, dict) else list(row)


def _first(row: Any) -> Any:
    return _values(row)[0]


def _columns(rows: Sequence[tuple[Any, ...]], width: int) -> list[list[Any]]:
    """The rows as one list per column (the parameters of an `unnest` of arrays)."""
    return [[row[column] for row in rows] for column in range(width)]


def _distinct_hashes(bodies: Sequence[BodyRow]) -> bool:
    """Whether the body rows (in hash order) are non-empty and name each hash once."""
    return bool(bodies) and all(a[0] != b[0] for a, b in pairwise(bodies))


class PostgresFeedRecorder(PostgresApplicationRecorder, ArrayInserts):
    # eventsourcing retries a failed write; but when the server committed it and only the
    # acknowledgement was lost, the retry conflicts with the write itself, and the command
    # would be run again (a second decision). A failed write is reported instead: its
    # outcome is unknown, and the caller hears that the store failed.
    insert_events = PostgresApplicationRecorder.insert_events.__wrapped__

    def __init__(self, datastore: Any, *, events_table_name: str = "stored_events") -> None:
        super().__init__(datastore, events_table_name=events_table_name)
        guard_outages(datastore)
        # Outbox claims: advisory locks held on the process's claims connection to the server.
        pool: Any = self.datastore.pool
        shared = isinstance(pool, PoolLease)
        self._claims_session = pool.claims if shared else ClaimsSession(pool.kwargs)
        self._own_claims_session = not shared
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
        # A save's entries and bodies go as one array per column, one statement each (not a
        # statement per row: a catch-up's save holds thousands), in binary (`%b`): as text,
        # each bytea of an array is written out in hex by Python, which costs more than the
        # statements it saves.
        self._insert_entries = sql.SQL(
            "INSERT INTO {}.{} SELECT * FROM unnest(%b::bytea[], %b::bigint[], %b::bytea[])"
        ).format(self.schema, self.entries_table)
        merged = sql.SQL(
            " ON CONFLICT (hash) DO UPDATE SET audience = "
            + MERGED_AUDIENCE.format(
                table="b",
                concat=_POSTGRES_CONCAT.format(table="b"),
                contains="position(excluded.audience in b.audience) > 0",
            )
        )
        self._insert_bodies = (
            sql.SQL(
                "INSERT INTO {}.{} AS b SELECT * FROM unnest(%b::bytea[], %b::bytea[], %b::bytea[])"
            ).format(self.schema, self.bodies_table)
            + merged
        )
        self._insert_body = (
            sql.SQL("INSERT INTO {}.{} AS b VALUES (%s, %s, %s)").format(
                self.schema, self.bodies_table
            )
            + merged
        )
        # The web pages' sessions (node/store/session_rows.py). Its statements are plain
        # strings (the table's name quoted: the schema's and the store's own name).
        self.session_rows = SQLSessionRows(
            self.datastore.transaction, self._quoted(prefix + "_sessions"), "%s"
        )
        self.sql_create_statements.append(
            sql.SQL(self.session_rows.create_statement("bytea", "double precision"))  # type: ignore[arg-type]
        )
        # Rate limits' buckets (node/store/rate_buckets.py), the same way.
        self.rate_buckets = SQLRateBuckets(
            self.datastore.transaction, self._quoted(prefix + "_rate_buckets"), "%s",
            "LEAST", "GREATEST",
        )  # fmt: skip
        self.sql_create_statements.append(
            sql.SQL(self.rate_buckets.create_statement("double precision"))  # type: ignore[arg-type]
        )
        # The version that last wrote the store (node/store/written_by.py).
        self.written_by = SQLWrittenBy(
            self.datastore.transaction, self._quoted(prefix + "_written_by"), "%s"
        )
        self.sql_create_statements.append(sql.SQL(self.written_by.create_statement()))  # type: ignore[arg-type]

    def _quoted(self, table: str) -> str:
        """The table's name in the store's schema, quoted, for statements in plain strings."""
        return '"{}"."{}"'.format(*(n.replace('"', '""') for n in (self.datastore.schema, table)))

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
        moved: list[SupersededRows] = kwargs.get("superseded") or []
        for feed, first_seq, evidence in moved:
            curs.execute(
                sql.SQL("UPDATE {}.{} SET feed = %s WHERE feed = %s AND seq >= %s").format(
                    self.schema, self.entries_table
                ),
                (evidence, feed, first_seq),
            )
        entries: list[EntryRow] = kwargs.get("entries") or []
        if entries:
            curs.execute(self._insert_entries, _columns(entries, 3))
        bodies = by_hash(kwargs.get("bodies") or [])
        if _distinct_hashes(bodies):
            curs.execute(self._insert_bodies, _columns(bodies, 3))
        elif bodies:
            # One body bound twice in the save: a statement may not change a row twice, so
            # each row goes on its own, its audience merged with the one before.
            curs.executemany(self._insert_body, bodies)
        erased: list[bytes] = list(kwargs.get("erase_bodies") or [])
        for chunk in chunks(erased):
            curs.execute(
                sql.SQL("DELETE FROM {}.{} WHERE hash = ANY(%s)").format(
                    self.schema, self.bodies_table
                ),
                (list(chunk),),
            )
        for originator_id in kwargs.get("erase_events") or []:
            curs.execute(
                sql.SQL("DELETE FROM {}.{} WHERE originator_id = %s").format(
                    self.schema, sql.Identifier(self.events_table_name)
                ),
                (originator_id,),
            )

    # Claiming the outbox towards a peer (node/store/postgres_claims.py): on the process's one
    # claims session for this server, shared with the other stores it has opened there.

    def claim_outbox(self, peer: bytes) -> bool:
        """Claim delivery to `peer`; False if another worker (or task) holds it."""
        return self._claims_session.claim(self._claim_key(peer), self)

    def release_outbox(self, peer: bytes) -> None:
        self._claims_session.release(self._claim_key(peer))

    def _claim_key(self, peer: bytes) -> int:
        digest = hashlib.sha256(self._claims_scope + b"/outbox/" + peer).digest()
        return int.from_bytes(digest[:8], "big", signed=True)

    def connection_kwargs(self) -> dict[str, Any]:
        """What connects to the store's database (psycopg's keyword arguments), as the pool
        does, for connections of its own (the leader lease, listening for appends), with TCP
        keepalives and a TCP user timeout: on a cut network such a connection fails within
        `APART_TIMEOUTS`' bound instead of waiting on the kernel's retransmissions."""
        pooled: Any = self.datastore.pool.kwargs or {}
        kwargs = {k: v for k, v in pooled.items() if v is not None and k != "row_factory"}
        return {**kwargs, **APART_TIMEOUTS}

    def connect_apart(self) -> psycopg.Connection[Any]:
        """A new connection to the store's database, outside the pool, in autocommit mode."""
        return psycopg.connect(**self.connection_kwargs(), autocommit=True)

    # Telling the other workers that the own feed was appended to (node/store/append_notices.py).

    @property
    def notice_scope(self) -> str:
        return self._claims_scope.decode()

    def announce_appended(self) -> None:
        with self.datastore.transaction(commit=True) as curs:
            curs.execute("SELECT pg_notify(%s, %s)", (CHANNEL, payload(self.notice_scope)))

    def drop_claims(self) -> None:
        """Release this store's claims (the store is closing)."""
        if self._own_claims_session:
            self._claims_session.close()
        else:
            self._claims_session.release_all(self)

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
                    conn.execute(sql.SQL("VACUUM {}.{}").format(self.schema, sql.Identifier(table)))
            except psycopg.Error as error:
                raise OperationalError(f"could not compact the store: {error}") from error
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
        """The bodies held of these hashes, in one statement however many (an array knows no
        limit on its length, where SQLite's parameters do: `chunks`), sent in binary."""
        found: dict[bytes, BodyRow] = {}
        if not hashes:
            return found
        query = sql.SQL("SELECT hash, data, audience FROM {}.{} WHERE hash = ANY(%b::bytea[])")
        with self.datastore.transaction(commit=False) as curs:
            curs.execute(query.format(self.schema, self.bodies_table), (list(hashes),))
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
            for chunk in chunks(list(hashes)):
                curs.execute(query, (list(chunk),))
                deleted += curs.rowcount
        return deleted
