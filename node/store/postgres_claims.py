"""Claims on the outbox towards a peer, so that several workers on one store push each entry
once: session-level advisory locks, on one connection per process and server kept for claims
(not a pooled one, and no transaction is held open during a push), shared by every store the
process has opened there (a host's circles: their keys are told apart by their schemas).

A lock ends when it is released, or when the server ends the connection (a crash, a SIGKILL, a
lost connection), so a dead worker never keeps a peer's outbox. Advisory locks are re-entrant
within a session, so the claims held in this process are also kept here: a second claim of the
same key from this process is refused as one from another worker is.
"""

from __future__ import annotations

import contextlib
import threading
from typing import Any

import psycopg
from eventsourcing.persistence import OperationalError


class ClaimsSession:
    """The claims of one process on one server (`kwargs`: the pool's connection parameters)."""

    def __init__(self, kwargs: dict[str, Any]) -> None:
        self._kwargs = {k: v for k, v in kwargs.items() if v is not None and k != "row_factory"}
        self._lock = threading.Lock()
        self._connection: psycopg.Connection[Any] | None = None
        self._held: dict[int, object] = {}  # key -> the recorder holding it

    def claim(self, key: int, holder: object) -> bool:
        """Take the lock `key` for `holder`; False if this process or another holds it."""
        with self._lock:
            if key in self._held:
                return False
            try:
                row = self._session().execute("SELECT pg_try_advisory_lock(%s)", (key,)).fetchone()
            except psycopg.Error as error:
                self._drop()
                raise OperationalError(f"could not claim the outbox: {error}") from error
            if row is None or not row[0]:
                return False
            self._held[key] = holder
            return True

    def release(self, key: int) -> None:
        with self._lock:
            if self._held.pop(key, None) is None or self._connection is None:
                return
            try:
                self._connection.execute("SELECT pg_advisory_unlock(%s)", (key,))
            except psycopg.Error:
                self._drop()  # its locks ended with it

    def release_all(self, holder: object) -> None:
        """Release every claim `holder` holds (its store is closing)."""
        with self._lock:
            keys = [key for key, held_by in self._held.items() if held_by is holder]
        for key in keys:
            self.release(key)

    def close(self) -> None:
        """End the session (its claims end with it)."""
        with self._lock:
            self._drop()

    def _session(self) -> psycopg.Connection[Any]:
        if self._connection is None or self._connection.closed:
            self._held.clear()  # the locks of a lost session are gone with it
            self._connection = psycopg.connect(**self._kwargs, autocommit=True, connect_timeout=5)
        return self._connection

    def _drop(self) -> None:
        self._held.clear()
        if self._connection is not None:
            with contextlib.suppress(psycopg.Error):
                self._connection.close()
        self._connection = None
