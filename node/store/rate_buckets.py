"""Rate limits' token buckets, kept in a table of the store beside the events, so that a limit
holds across the workers serving one store: one row per limiter and client.

A row is not an event: a bucket changes at every request it counts, and goes when it has filled
up again. Every SQL recorder keeps the table: SQLite (`rate_buckets`), PostgreSQL
(`circlenode_rate_buckets`); the in-memory store keeps none (its limits stay in the process:
node.http.ratelimit). A token is taken by one statement (an upsert that refills the bucket, takes
a token if there is one, and returns whether it did), so that two workers never both take the
last token. What the limits are, and which client is which, is decided by node.http.ratelimit;
here the rows are only counted, read and forgotten.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Protocol

from node.store.session_rows import Transaction

# Rows of one statement that only reads, on a connection kept for reads (SQLite's `Readers`).
Read = Callable[[str, Sequence[Any]], list[tuple[Any, ...]]]


class RateBuckets(Protocol):
    def take(self, limiter: str, key: str, now: float, burst: float, per_second: float) -> bool:
        """Take a token from the bucket of (`limiter`, `key`), refilled at `per_second` up to
        `burst` since it was last counted; a new bucket starts full. Whether one was taken."""
        ...

    def tokens(
        self, limiter: str, key: str, now: float, burst: float, per_second: float
    ) -> float | None:
        """The tokens in the bucket now (nothing is counted); None for a bucket not kept."""
        ...

    def forget(self, limiter: str, counted_before: float | None = None) -> int:
        """Forget the limiter's buckets last counted before `counted_before` (all of them
        without it): a bucket full again is as good as none."""
        ...


class SQLRateBuckets:
    """The table in SQLite or PostgreSQL, through the store's datastore, in the recorder's
    placeholder style (`?` or `%s`) and with its names for the smaller and larger of two
    numbers (SQLite's min and max, PostgreSQL's LEAST and GREATEST)."""

    def __init__(
        self,
        transaction: Transaction,
        table: str,
        mark: str,
        least: str,
        greatest: str,
        read: Read | None = None,
    ) -> None:
        self._transaction = transaction
        # A bucket read on every request (the member API's token check runs it on the event
        # loop) skips a transaction of its own where the store keeps connections for reads.
        self._read = read
        self.table = table
        self._mark = mark
        # The bucket refilled to now: `b` is the row as kept, `excluded` the row offered.
        self._refilled = f"{least}(?, b.tokens + {greatest}(0.0, excluded.counted - b.counted) * ?)"

    def create_statement(self, real: str) -> str:
        return (
            f"CREATE TABLE IF NOT EXISTS {self.table} (limiter TEXT NOT NULL, "
            f"client TEXT NOT NULL, tokens {real} NOT NULL, counted {real} NOT NULL, "
            "allowed BOOLEAN NOT NULL, PRIMARY KEY (limiter, client))"
        )

    def _rows(self, statement: str, params: tuple[Any, ...], commit: bool) -> list[list[Any]]:
        if not commit and self._read is not None:
            return [list(row) for row in self._read(statement.replace("?", self._mark), params)]
        with self._transaction(commit=commit) as cursor:
            cursor.execute(statement.replace("?", self._mark), params)
            if not commit or "RETURNING" in statement:
                rows = cursor.fetchall()
                return [list(r.values()) if isinstance(r, dict) else list(r) for r in rows]
            raw: Any = getattr(cursor, "sqlite_cursor", None) or cursor
            return [[int(raw.rowcount)]]

    def take(self, limiter: str, key: str, now: float, burst: float, per_second: float) -> bool:
        refilled = self._refilled
        statement = (
            f"INSERT INTO {self.table} AS b VALUES (?, ?, ?, ?, ?) "
            "ON CONFLICT (limiter, client) DO UPDATE SET "
            f"tokens = CASE WHEN {refilled} >= 1.0 THEN {refilled} - 1.0 ELSE {refilled} END, "
            f"allowed = {refilled} >= 1.0, counted = excluded.counted "
            "RETURNING allowed"
        )
        fresh = burst >= 1.0
        params = (limiter, key, burst - 1.0 if fresh else burst, now, fresh)
        found = self._rows(statement, params + (burst, per_second) * 4, commit=True)
        return bool(found[0][0])

    def tokens(
        self, limiter: str, key: str, now: float, burst: float, per_second: float
    ) -> float | None:
        statement = f"SELECT tokens, counted FROM {self.table} WHERE limiter = ? AND client = ?"
        for tokens, counted in self._rows(statement, (limiter, key), commit=False):
            return float(min(burst, tokens + max(0.0, now - counted) * per_second))
        return None

    def forget(self, limiter: str, counted_before: float | None = None) -> int:
        if counted_before is None:
            statement, params = f"DELETE FROM {self.table} WHERE limiter = ?", (limiter,)
        else:
            statement = f"DELETE FROM {self.table} WHERE limiter = ? AND counted < ?"
            params = (limiter, counted_before)  # type: ignore[assignment]
        return int(self._rows(statement, params, commit=True)[0][0])
