"""The process's connections to a PostgreSQL server: one pool shared by every store opened on it,
whatever its schema, and fast failure while the server is down.

A process may open many stores on one server and database, one schema each (a host's circles,
issue 16). eventsourcing gives each store's datastore a pool of its own; here every datastore
opened with the same connection parameters (database, host, port, user, password) is given the
process's one pool instead (`share_pool`). eventsourcing names every table with its datastore's
schema (`schema.table`), so a connection serves any store. Each datastore holds a `PoolLease`
on the shared pool: closing a store ends its lease, and the pool is closed with the last one.
Beside the pool, each server has one connection for the outbox claims of all its stores
(`node/store/postgres_claims.py`), closed with the pool.

The shared pool checks a connection as it hands it out (`checked_if_spoken_to`) without a round
trip to the server: only a connection the server sent something to while it lay in the pool (a
server that shut down or restarted sends its reason and closes the socket) is pinged, and
replaced if the ping fails. eventsourcing's pre-ping would ping each one, one wait on the server
before every statement a command sends.
"""

from __future__ import annotations

import contextlib
import select
import socket
import threading
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from eventsourcing.persistence import OperationalError
from psycopg_pool import ConnectionPool

from node.store.postgres_claims import ClaimsSession

# How long the pool keeps retrying one lost connection before it gives up (it starts again
# when a command next needs one): a server that returns is found within seconds, not after
# the pool's exponential backoff has grown to minutes.
RECONNECT_WINDOW = 5.0
PROBE_TIMEOUT = 1.0
# The connection parameters that make two datastores' connections interchangeable.
_KEYS = ("dbname", "host", "port", "user", "password")


@dataclass
class _Shared:
    pool: Any  # eventsourcing's ConnectionPool (a psycopg_pool.ConnectionPool)
    claims: ClaimsSession
    leases: int = 0


_shared: dict[tuple[str, ...], _Shared] = {}
_lock = threading.Lock()


class PoolLease:
    """A datastore's hold on its server's shared pool, in place of a pool of its own: what the
    datastore asks of its pool goes to the shared one, except closing it, which ends this lease
    (once, however often the datastore closes) and closes the pool only with the last lease."""

    def __init__(self, key: tuple[str, ...], shared: _Shared) -> None:
        self._key = key
        self._shared: _Shared | None = shared

    @property
    def claims(self) -> ClaimsSession:
        return self._held().claims

    def _held(self) -> _Shared:
        if self._shared is None:
            raise OperationalError("the store is closed")
        return self._shared

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)  # not the pool's protocols (copying, pickling)
        return getattr(self._held().pool, name)

    def close(self, timeout: float = 5.0) -> None:
        with _lock:
            shared, self._shared = self._shared, None
            if shared is None:
                return
            shared.leases -= 1
            last = shared.leases == 0
            if last and _shared.get(self._key) is shared:
                del _shared[self._key]
        if last:
            shared.claims.close()
            shared.pool.close(timeout)

    def __enter__(self) -> PoolLease:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def share_pool(datastore: Any) -> None:
    """Give the datastore (eventsourcing's PostgresDatastore, its own pool not yet opened) the
    process's pool for its server and database: its own, the first time (its size is the
    `database_pool_size` setting of the store opened first)."""
    own = datastore.pool
    key = _key(own.kwargs)
    with _lock:
        shared = _shared.get(key)
        if shared is None:
            pool = checked_pool(datastore)
            shared = _shared[key] = _Shared(pool, ClaimsSession(pool.kwargs))
        shared.leases += 1
    own.close()  # never opened: it holds no connection
    datastore.pool = PoolLease(key, shared)


def checked_pool(datastore: Any) -> Any:
    """A pool like the one eventsourcing made for the datastore (not opened), whose connections
    are checked by `checked_if_spoken_to` instead of a ping each, and which gives up
    reconnecting after `RECONNECT_WINDOW`."""
    own = datastore.pool
    return type(own)(
        get_password_func=own.get_password_func,
        connection_class=own.connection_class,
        kwargs=own.kwargs,
        min_size=own.min_size,
        max_size=own.max_size,
        open=False,
        configure=datastore.after_connect_func(),
        check=checked_if_spoken_to,
        timeout=own.timeout,
        max_waiting=own.max_waiting,
        max_lifetime=own.max_lifetime,
        max_idle=own.max_idle,
        reconnect_timeout=RECONNECT_WINDOW,
        num_workers=own.num_workers,
    )


def checked_if_spoken_to(connection: Any) -> None:
    """The pool's check of a connection it hands out: raises if the connection is closed, or if
    the server sent something on it while it lay idle (its shutdown's notice and end of stream)
    and a ping then fails. Nothing was sent: nothing is asked of the server, which would
    answer an idle connection's ping anyway."""
    if connection.closed or connection.broken:
        raise OperationalError("the pooled connection is closed")
    waiting = select.poll()  # not select.select: a host's descriptors may pass FD_SETSIZE
    waiting.register(connection.fileno(), select.POLLIN)
    if waiting.poll(0):
        ConnectionPool.check_connection(connection)


@contextlib.contextmanager
def pooled_connection(params: Mapping[str, object]) -> Iterator[Any | None]:
    """A connection of the process's shared pool for these connection parameters (`_KEYS`), in
    autocommit mode, if the process holds one (None if not): the pool is held open while the
    connection is used. What a store needs before it is opened (its schema) is then asked on
    a connection already open, not on one of its own."""
    key = _key(params)
    with _lock:
        shared = _shared.get(key)
        if shared is not None:
            shared.leases += 1
    if shared is None:
        yield None
        return
    with PoolLease(key, shared) as lease:
        lease.open()  # as the datastores open it: at once if it is open already
        with lease.connection() as connection:
            yield connection


def _key(params: Mapping[str, object]) -> tuple[str, ...]:
    return tuple(str(params.get(name) or "") for name in _KEYS)


def shared_pools() -> int:
    """How many shared pools the process holds (one per server and database in use)."""
    with _lock:
        return len(_shared)


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
