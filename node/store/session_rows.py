"""The web pages' sessions, kept in a table of the store beside the events: one row per session.

A row is not an event: a session changes as its visitor comes and goes (`seen`), and it is
deleted when it ends, so it is kept as a plain row, never appended to the event store. Every
recorder keeps the table: SQLite (`sessions`), PostgreSQL (`circlenode_sessions`) and memory
(a dictionary). A row is keyed by the SHA-256 of the session's id (the cookie's value, never
stored); its `data` (who signed in, with which token, a notice to show once) is encrypted as
events are when the store is. Which rows are live, and when they end, is decided by
node.http.web.sessions; here they are only read and written.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Any, NamedTuple, Protocol


class SessionRow(NamedTuple):
    key: bytes  # SHA-256 of the session's id
    data: bytes  # who and what, encoded (and encrypted when the store is)
    signed_in: bool  # a signed-in session, not one for the sign-in form only
    started: float  # seconds since the epoch
    seen: float


class SessionRows(Protocol):
    def insert(self, row: SessionRow) -> None: ...

    def select(self, key: bytes) -> SessionRow | None: ...

    def touch(self, key: bytes, seen: float) -> None: ...

    def rewrite(self, key: bytes, data: bytes) -> None: ...

    def delete(self, key: bytes) -> None: ...

    def count(self) -> int: ...

    def delete_expired(self, seen_before: float, started_before: float, form_before: float) -> int:
        """Delete rows idle since before `seen_before`, signed-in rows started before
        `started_before`, and sign-in forms' rows started before `form_before`."""
        ...

    def delete_least_used(self, how_many: int) -> int:
        """Delete the rows seen longest ago, sign-in forms' first."""
        ...


class MemorySessionRows:
    """The table as a dictionary (the in-memory store, and sessions made without a store)."""

    def __init__(self) -> None:
        self._rows: dict[bytes, SessionRow] = {}
        self._lock = threading.Lock()

    def insert(self, row: SessionRow) -> None:
        with self._lock:
            self._rows[row.key] = row

    def select(self, key: bytes) -> SessionRow | None:
        return self._rows.get(key)

    def touch(self, key: bytes, seen: float) -> None:
        with self._lock:
            if key in self._rows:
                self._rows[key] = self._rows[key]._replace(seen=seen)

    def rewrite(self, key: bytes, data: bytes) -> None:
        with self._lock:
            if key in self._rows:
                self._rows[key] = self._rows[key]._replace(data=data)

    def delete(self, key: bytes) -> None:
        with self._lock:
            self._rows.pop(key, None)

    def count(self) -> int:
        return len(self._rows)

    def delete_expired(self, seen_before: float, started_before: float, form_before: float) -> int:
        with self._lock:
            gone = [
                k
                for k, r in self._rows.items()
                if _expired(r, seen_before, started_before, form_before)
            ]
            for key in gone:
                del self._rows[key]
            return len(gone)

    def delete_least_used(self, how_many: int) -> int:
        with self._lock:
            oldest = sorted(self._rows.values(), key=lambda row: (row.signed_in, row.seen))
            for row in oldest[:how_many]:
                del self._rows[row.key]
            return min(how_many, len(oldest))


def _expired(
    row: SessionRow, seen_before: float, started_before: float, form_before: float
) -> bool:
    return row.seen < seen_before or row.started < (
        started_before if row.signed_in else form_before
    )


# A transaction of the store's own datastore: a cursor with execute, fetchone and fetchall.
Transaction = Callable[..., AbstractContextManager[Any]]


class SQLSessionRows:
    """The table in SQLite or PostgreSQL, through the store's datastore (its transactions, its
    connections): the same statements, in the recorder's placeholder style (`?` or `%s`)."""

    def __init__(self, transaction: Transaction, table: str, mark: str) -> None:
        self._transaction = transaction
        self.table = table
        self._mark = mark

    def create_statement(self, blob: str, real: str) -> str:
        return (
            f"CREATE TABLE IF NOT EXISTS {self.table} (id_hash {blob} PRIMARY KEY, "
            f"data {blob} NOT NULL, signed_in BOOLEAN NOT NULL, started {real} NOT NULL, "
            f"seen {real} NOT NULL)"
        )

    def _write(self, statement: str, params: tuple[Any, ...]) -> int:
        with self._transaction(commit=True) as cursor:
            cursor.execute(statement.replace("?", self._mark), params)
            raw: Any = getattr(cursor, "sqlite_cursor", None) or cursor
            return int(raw.rowcount)

    def _read(self, statement: str, params: tuple[Any, ...]) -> list[list[Any]]:
        with self._transaction(commit=False) as cursor:
            cursor.execute(statement.replace("?", self._mark), params)
            return [list(r.values()) if isinstance(r, dict) else list(r) for r in cursor.fetchall()]

    def insert(self, row: SessionRow) -> None:
        self._write(f"INSERT INTO {self.table} VALUES (?, ?, ?, ?, ?)", tuple(row))

    def select(self, key: bytes) -> SessionRow | None:
        statement = (
            f"SELECT id_hash, data, signed_in, started, seen FROM {self.table} WHERE id_hash = ?"
        )
        for found in self._read(statement, (key,)):
            key, data, signed_in, started, seen = found
            return SessionRow(bytes(key), bytes(data), bool(signed_in), float(started), float(seen))
        return None

    def touch(self, key: bytes, seen: float) -> None:
        self._write(f"UPDATE {self.table} SET seen = ? WHERE id_hash = ?", (seen, key))

    def rewrite(self, key: bytes, data: bytes) -> None:
        self._write(f"UPDATE {self.table} SET data = ? WHERE id_hash = ?", (data, key))

    def delete(self, key: bytes) -> None:
        self._write(f"DELETE FROM {self.table} WHERE id_hash = ?", (key,))

    def count(self) -> int:
        return int(self._read(f"SELECT count(*) FROM {self.table}", ())[0][0])

    def delete_expired(self, seen_before: float, started_before: float, form_before: float) -> int:
        return self._write(
            f"DELETE FROM {self.table} WHERE seen < ? OR (signed_in AND started < ?) "
            "OR (NOT signed_in AND started < ?)",
            (seen_before, started_before, form_before),
        )

    def delete_least_used(self, how_many: int) -> int:
        return self._write(
            f"DELETE FROM {self.table} WHERE id_hash IN (SELECT id_hash FROM {self.table} "
            "ORDER BY signed_in, seen LIMIT ?)",
            (how_many,),
        )

    def delete_all(self) -> int:
        return self._write(f"DELETE FROM {self.table}", ())


class SealedSessionRows:
    """The rows of a store that encrypts: `data` sealed with the store's cipher."""

    def __init__(self, rows: SessionRows, cipher: Any) -> None:
        self.rows = rows
        self._cipher = cipher

    def insert(self, row: SessionRow) -> None:
        self.rows.insert(row._replace(data=self._cipher.encrypt(row.data)))

    def select(self, key: bytes) -> SessionRow | None:
        row = self.rows.select(key)
        return None if row is None else row._replace(data=self._cipher.decrypt(row.data))

    def touch(self, key: bytes, seen: float) -> None:
        self.rows.touch(key, seen)

    def rewrite(self, key: bytes, data: bytes) -> None:
        self.rows.rewrite(key, self._cipher.encrypt(data))

    def delete(self, key: bytes) -> None:
        self.rows.delete(key)

    def count(self) -> int:
        return self.rows.count()

    def delete_expired(self, seen_before: float, started_before: float, form_before: float) -> int:
        return self.rows.delete_expired(seen_before, started_before, form_before)

    def delete_least_used(self, how_many: int) -> int:
        return self.rows.delete_least_used(how_many)
