"""Which worker process runs the work that must run once per store: the pulls from peers and
the calendar (node/network/deliveries.py). Several workers may serve one PostgreSQL store;
exactly one at a time holds the lease.

On PostgreSQL the lease is a session-level advisory lock (`pg_try_advisory_lock`) held on a
connection of its own, outside the store's pool: the server ends the lock with the session, so
a worker that dies (a crash, a SIGKILL, a lost network) gives the lease up at once, and the
next worker to ask takes it over. The others ask again now and then (`try_take`).

A holder cut off from the server must stop leading before the server lets the lock go, or two
would lead at once. The holder's check is bounded: its connection has TCP keepalives and a TCP
user timeout (the recorder's `connection_kwargs`), so a check the server never acknowledges
fails within `tcp_user_timeout`, and the check has a statement timeout (`check_timeout`), so
one the server does not answer in time fails too; either way the holder stops leading. The
session asks the server, in turn, to end it only after a longer silence (`SERVER_KEEPALIVES`):
the server frees the lock after the holder has given it up. A store that
one process serves alone (SQLite, memory) needs no lock: that process always leads
(`SoleLeader`).
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import threading
from collections.abc import Callable
from typing import Any, Protocol

log = logging.getLogger("circle_node.store.lease")

# The holder's statement timeout on its check, in seconds.
CHECK_TIMEOUT = 5.0
# The server's keepalives on the lease's session (settings a session may set): the server ends a
# session it has heard nothing from for 30 seconds, then 3 probes 10 seconds apart, unanswered;
# longer than the holder takes to give up (the check's interval and the client's
# `tcp_user_timeout`, node/store/postgres_recorder.py).
SERVER_KEEPALIVES = {
    "tcp_keepalives_idle": 30,
    "tcp_keepalives_interval": 10,
    "tcp_keepalives_count": 3,
}
# Whether this session still holds an advisory lock (the lease's is its only one). A read of
# pg_locks, so that the check asks the server for the lock itself, not only for an answer.
_STILL_HELD = (
    "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid()"
    " AND granted"
)


class Lease(Protocol):
    """Whether this process leads; `try_take` and `release` may block (call them in a thread)."""

    @property
    def held(self) -> bool: ...

    def try_take(self) -> bool: ...

    def release(self) -> None: ...


class SoleLeader:
    """The lease of a store served by one process: always held."""

    held = True

    def try_take(self) -> bool:
        return True

    def release(self) -> None:
        pass


def lease_key(name: str) -> int:
    """The advisory lock's key for a lease name (a signed 64-bit integer)."""
    digest = hashlib.sha256(b"circle-node/leader/" + name.encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


class LeaderLease:
    """The lease named `name` among the processes sharing a PostgreSQL server: `connect` opens
    a new connection (autocommit) outside the store's pool, kept while the lease is held.

    `try_take` takes the lease if no one holds it, or checks that it is still held (the
    connection may have been lost, and the lock with it): True while this process leads."""

    def __init__(
        self, connect: Callable[[], Any], name: str, check_timeout: float = CHECK_TIMEOUT
    ) -> None:
        self._connect = connect
        self.name = name
        self.check_timeout = check_timeout
        self._key = lease_key(name)
        self._connection: Any = None
        self._held = False
        self._lock = threading.Lock()

    @property
    def held(self) -> bool:
        return self._held

    def try_take(self) -> bool:
        with self._lock:
            try:
                if self._connection is None or self._connection.closed:
                    self._held = False
                    self._connection = self._session()
                if self._held:  # the lock lives as long as the session: is it still there?
                    row = self._connection.execute(_STILL_HELD).fetchone()
                    if not (row and row[0]):
                        log.info("lost the lease %s (its lock is gone)", self.name)
                        self._drop()
                else:
                    row = self._connection.execute(
                        "SELECT pg_try_advisory_lock(%s)", (self._key,)
                    ).fetchone()
                    self._held = bool(row and row[0])
            except Exception as error:  # the server is away: whatever was held went with it
                if self._held:  # said as info: a store that is down is said once elsewhere
                    log.info("lost the lease %s (its connection failed): %s", self.name, error)
                self._drop()
            return self._held

    def _session(self) -> Any:
        """A new connection for the lease, its check's timeout and the server's keepalives set."""
        connection = self._connect()
        settings = {**SERVER_KEEPALIVES, "statement_timeout": round(self.check_timeout * 1000)}
        for name, value in settings.items():
            connection.execute(f"SET {name} = {int(value)}")
        return connection

    def release(self) -> None:
        with self._lock:
            if self._held and self._connection is not None:
                with contextlib.suppress(Exception):
                    self._connection.execute("SELECT pg_advisory_unlock(%s)", (self._key,))
            self._drop()

    def _drop(self) -> None:
        self._held = False
        if self._connection is not None:
            with contextlib.suppress(Exception):
                self._connection.close()
        self._connection = None
