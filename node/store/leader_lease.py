"""Which worker process runs the work that must run once per store: the pulls from peers and
the calendar (node/network/deliveries.py). Several workers may serve one PostgreSQL store;
exactly one at a time holds the lease.

On PostgreSQL the lease is a session-level advisory lock (`pg_try_advisory_lock`) held on a
connection of its own, outside the store's pool: the server ends the lock with the session, so
a worker that dies (a crash, a SIGKILL, a lost network) gives the lease up at once, and the
next worker to ask takes it over. The others ask again now and then (`try_take`). A store that
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

    def __init__(self, connect: Callable[[], Any], name: str) -> None:
        self._connect = connect
        self.name = name
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
                    self._connection = self._connect()
                if self._held:
                    self._connection.execute("SELECT 1")  # the lock lives as long as this
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
