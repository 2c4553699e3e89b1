"""`PERSISTENCE_MODULE=node.store.sqlite_store`: eventsourcing's SQLite store, reading events on
connections of its own.

Every command reads a few aggregates' latest events (is the kept circle still current? what
is the last version of this index?), and eventsourcing reads each through its connection
pool: a pooled connection taken and given back under the pool's locks, a BEGIN, the query,
a ROLLBACK. On SQLite that is most of the cost of such a read. Reads of events outside a
transaction need none of it: in WAL mode a statement on a connection in autocommit mode reads
the last committed state, by whichever connection or process it was committed. So reads of
events take a connection of a small set kept for them (`Readers`), and writes still go
through the pool, in transactions.

An in-memory store (`:memory:`, `mode=memory`) has no WAL and a connection shares nothing
with another: its reads stay on the pool.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Sequence
from typing import Any
from uuid import UUID

from eventsourcing import persistence
from eventsourcing import sqlite as library
from eventsourcing.persistence import StoredEvent
from eventsourcing.sqlite import (
    SQLITE3_DEFAULT_LOCK_TIMEOUT,
    SQLiteAggregateRecorder,
    SQLiteDatastore,
)

from node.store.snapshot_rows import latest_versions

# sqlite3's errors as eventsourcing's (the node answers OperationalError and InterfaceError
# as a store it cannot use just now: 503), as the library's own transactions map them.
_ERRORS: tuple[tuple[type[sqlite3.Error], type[Exception]], ...] = (
    (sqlite3.InterfaceError, persistence.InterfaceError),
    (sqlite3.DataError, persistence.DataError),
    (sqlite3.OperationalError, persistence.OperationalError),
    (sqlite3.IntegrityError, persistence.IntegrityError),
    (sqlite3.InternalError, persistence.InternalError),
    (sqlite3.ProgrammingError, persistence.ProgrammingError),
    (sqlite3.NotSupportedError, persistence.NotSupportedError),
    (sqlite3.DatabaseError, persistence.DatabaseError),
    (sqlite3.Error, persistence.PersistenceError),
)


def _translated(error: sqlite3.Error) -> Exception:
    # The first that matches (sqlite3.Error, last, matches every one).
    return next(ours(error) for raw, ours in _ERRORS if isinstance(error, raw))


# Seconds `Readers.close` waits for the reads under way before it closes what is idle.
CLOSE_WAIT = 10.0
# Read connections a store keeps open between reads: as many as a node's requests and delivery
# read at once, mostly (one more is opened for a read, and closed after it).
IDLE_READERS = 4


class Readers:
    """Read connections of one store (autocommit: each statement reads the last committed
    state), shared by the threads that read it: a read takes an idle connection, or opens one,
    and gives it back after; at most `keep` stay open between reads. So a store costs a few
    connections however many threads read it: a host serves hundreds of stores with the same
    threads, and a connection for each thread and store was most of the files it held open.

    Closing a connection while another thread runs a statement on it crashes the process
    (SIGSEGV), so `close` refuses new reads and waits for the ones under way first."""

    def __init__(self, db_name: str, timeout: float, keep: int = IDLE_READERS) -> None:
        self._db_name = db_name
        self._timeout = timeout
        self._keep = keep
        self._idle: list[sqlite3.Connection] = []
        self._reading = 0  # connections taken by reads under way
        self._lock = threading.Lock()
        self._read_done = threading.Condition(self._lock)
        self._closed = False

    @property
    def open_idle(self) -> int:
        """How many connections are open and idle now."""
        with self._lock:
            return len(self._idle)

    def rows(self, statement: str, params: Sequence[Any]) -> list[tuple[Any, ...]]:
        """All rows of one statement (all of them: a statement left unfinished would hold
        its read open, and keep the WAL from being checkpointed)."""
        connection = self._take()
        try:
            return connection.execute(statement, params).fetchall()
        except sqlite3.Error as error:
            raise _translated(error) from error
        finally:
            self._give_back(connection)

    def _take(self) -> sqlite3.Connection:
        """An idle connection, or a new one; counted as reading under the lock, so that `close`
        either waits for the read or has refused it."""
        with self._lock:
            if self._closed:
                raise persistence.InterfaceError("the store is closed")
            self._reading += 1
            if self._idle:
                return self._idle.pop()  # the most recently used: its caches are warm
        try:
            return sqlite3.connect(
                self._db_name,
                uri=True,
                isolation_level=None,  # autocommit: no transaction is left open
                check_same_thread=False,  # used by one thread at a time, any thread
                timeout=self._timeout,
            )
        except sqlite3.Error as error:
            self._done()
            raise _translated(error) from error

    def _give_back(self, connection: sqlite3.Connection) -> None:
        with self._lock:
            kept = not self._closed and len(self._idle) < self._keep
            if kept:
                self._idle.append(connection)
        if not kept:
            connection.close()
        self._done()

    def _done(self) -> None:
        with self._lock:
            self._reading -= 1
            if self._closed:  # `close` is waiting for the reads under way
                self._read_done.notify_all()

    def close(self, wait: float = CLOSE_WAIT) -> None:
        """Refuse new reads, wait (at most `wait` seconds) for the reads under way, and close
        the idle connections; one still reading after that is closed when its read ends."""
        deadline = time.monotonic() + wait
        with self._lock:
            self._closed = True
            while self._reading:
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                self._read_done.wait(left)
            idle, self._idle = self._idle, []
        for connection in idle:
            connection.close()


_READERS_MADE = threading.Lock()


def readers_of(datastore: SQLiteDatastore) -> Readers | None:
    """The datastore's read connections (one set per datastore, made on first use); None for
    an in-memory store."""
    pool = datastore.pool
    if pool.is_sqlite_memory_mode:
        return None
    readers: Readers | None = getattr(datastore, "readers", None)
    if readers is None:
        with _READERS_MADE:
            readers = getattr(datastore, "readers", None)
            if readers is None:
                timeout = pool.lock_timeout or SQLITE3_DEFAULT_LOCK_TIMEOUT
                readers = Readers(pool.db_name, timeout)
                datastore.readers = readers  # type: ignore[attr-defined]
    return readers


class OwnReads(SQLiteAggregateRecorder):
    """`select_events` on a connection kept for reads (`Readers`)."""

    def select_events(
        self,
        originator_id: UUID | str,
        *,
        gt: int | None = None,
        lte: int | None = None,
        desc: bool = False,
        limit: int | None = None,
    ) -> Sequence[StoredEvent]:
        readers = readers_of(self.datastore)
        if readers is None:
            return super().select_events(originator_id, gt=gt, lte=lte, desc=desc, limit=limit)
        statement = (
            "SELECT originator_id, originator_version, topic, state "
            f"FROM {self.events_table_name} WHERE originator_id=? "
        )
        params: list[Any] = [
            originator_id.hex if isinstance(originator_id, UUID) else originator_id
        ]
        if gt is not None:
            statement += "AND originator_version>? "
            params.append(gt)
        if lte is not None:
            statement += "AND originator_version<=? "
            params.append(lte)
        statement += "ORDER BY originator_version " + ("DESC " if desc else "ASC ")
        if limit is not None:
            statement += "LIMIT ? "
            params.append(limit)
        return [self._stored_event(row) for row in readers.rows(statement, params)]

    def select_later(self, versions: Sequence[tuple[UUID, int]]) -> Sequence[StoredEvent]:
        """The events stored after the given version of each aggregate, in one statement per
        LATER_CHUNK aggregates (a listing checks hundreds of kept records at once)."""
        readers = readers_of(self.datastore)
        if readers is None:
            return [
                event
                for aggregate_id, version in versions
                for event in self.select_events(aggregate_id, gt=version)
            ]
        found: list[StoredEvent] = []
        for start in range(0, len(versions), LATER_CHUNK):
            chunk = versions[start : start + LATER_CHUNK]
            # CROSS JOIN: the kept versions drive, each a seek in the events' primary key.
            statement = (
                "WITH kept(id, version) AS (VALUES "
                + ",".join(["(?,?)"] * len(chunk))
                + ") SELECT e.originator_id, e.originator_version, e.topic, e.state "
                f"FROM kept CROSS JOIN {self.events_table_name} AS e "
                "WHERE e.originator_id = kept.id AND e.originator_version > kept.version "
                "ORDER BY e.originator_id, e.originator_version"
            )
            params = [
                value for aggregate_id, version in chunk for value in (aggregate_id.hex, version)
            ]
            found.extend(self._stored_event(row) for row in readers.rows(statement, params))
        return found

    def _stored_event(self, row: tuple[Any, ...]) -> StoredEvent:
        """A row of (originator_id, originator_version, topic, state) as a StoredEvent."""
        return StoredEvent(
            originator_id=self.convert_originator_id(row[0]),
            originator_version=row[1],
            topic=row[2],
            state=row[3],
        )


# Aggregates checked by one statement of `select_later` (two parameters each: well under
# SQLite's smallest limit of 999).
LATER_CHUNK = 400


class SnapshotRecorder(OwnReads):
    """The snapshots' recorder (eventsourcing's aggregate recorder, with `OwnReads`), which
    keeps only the latest snapshot of each aggregate (node/store/snapshot_rows.py)."""

    def insert_events(
        self, stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> Sequence[int] | None:
        inserted = super().insert_events(stored_events, **kwargs)
        statement = (
            f"DELETE FROM {self.events_table_name} "
            "WHERE originator_id = ? AND originator_version < ?"
        )
        with self.datastore.transaction(commit=True) as c:
            for aggregate_id, version in latest_versions(stored_events):
                c.execute(statement, (aggregate_id.hex, version))
        return inserted


# The one factory class of this module (eventsourcing looks for exactly one).
class Factory(library.SQLiteFactory):
    aggregate_recorder_class = SnapshotRecorder

    def close(self) -> None:
        """Close the read connections, then the pool once the writes under way are done (its
        `close` closes connections in use too, which would crash the thread using one)."""
        readers: Readers | None = getattr(self.datastore, "readers", None)
        if readers is not None:
            readers.close()
        deadline = time.monotonic() + CLOSE_WAIT
        while self.datastore.pool.num_in_use and time.monotonic() < deadline:
            time.sleep(0.01)
        super().close()
