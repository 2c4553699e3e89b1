"""The version of circle-node that last wrote the store, kept in a table of one row beside the
events: SQLite (`written_by`), PostgreSQL (`circlenode_written_by`); the in-memory store keeps
none (nothing of it outlives the process).

A store is stamped when it is opened (`check_and_stamp`), before anything else is written to it.
A version older than the one that last wrote the store refuses it (`StoreTooNew`): a newer
version may store what an older one would misread (events it has no class for, rows in a new
encoding), so the older one stops before it reads or writes anything. Versions are compared as
Python packaging compares them (`packaging.version`). Several processes may open one store
(workers in a rolling upgrade): the stamp only ever moves forwards, each replaced only if it
still holds what was read (`check_and_stamp`).
"""

from __future__ import annotations

import logging
from importlib.metadata import PackageNotFoundError, version
from typing import Any

from packaging.version import InvalidVersion, Version

from node.store.session_rows import Transaction

DISTRIBUTION = "circle-node"

log = logging.getLogger("circle_node.store")


class StoreTooNew(Exception):
    """The store was last written by a newer circle-node than this one."""

    def __init__(self, stored: str, running: str) -> None:
        super().__init__(
            f"this store was last written by circle-node {stored}, newer than this {running}: "
            "upgrade circle-node, or restore a backup taken before"
        )
        self.stored = stored
        self.running = running


def running_version() -> str | None:
    """This circle-node's version, as installed (None when run from a source tree that was
    never installed: such a run neither checks nor stamps)."""
    try:
        return version(DISTRIBUTION)
    except PackageNotFoundError:
        return None


class SQLWrittenBy:
    """The one-row table in SQLite or PostgreSQL, through the store's datastore, in the
    recorder's placeholder style (`?` or `%s`)."""

    def __init__(self, transaction: Transaction, table: str, mark: str) -> None:
        self._transaction = transaction
        self.table = table
        self._mark = mark

    def create_statement(self) -> str:
        return (
            f"CREATE TABLE IF NOT EXISTS {self.table} "
            "(id INTEGER PRIMARY KEY CHECK (id = 1), version TEXT NOT NULL)"
        )

    def read(self) -> str | None:
        with self._transaction(commit=False) as cursor:
            cursor.execute(f"SELECT version FROM {self.table} WHERE id = 1")
            rows: list[Any] = cursor.fetchall()
        for row in rows:
            return str(next(iter(row.values())) if isinstance(row, dict) else row[0])
        return None

    def replace(self, read: str | None, written_by: str) -> bool:
        """Stamp the store `written_by` if it still holds what was `read` (None: no stamp),
        in one statement; False if another process stamped it in between (nothing written)."""
        if read is None:
            statement = f"INSERT INTO {self.table} VALUES (1, ?) ON CONFLICT (id) DO NOTHING"
            values: tuple[str, ...] = (written_by,)
        else:
            statement = f"UPDATE {self.table} SET version = ? WHERE id = 1 AND version = ?"
            values = (written_by, read)
        with self._transaction(commit=True) as cursor:
            cursor.execute(statement.replace("?", self._mark), values)
            raw: Any = getattr(cursor, "sqlite_cursor", None) or cursor  # SQLite's, wrapped
            return bool(raw.rowcount == 1)


def check_and_stamp(rows: SQLWrittenBy, running: str | None) -> None:
    """Refuse a store written by a newer version (`StoreTooNew`); else record `running` as the
    version that last wrote it.

    The stamp only ever moves forwards: it is replaced only if it still holds the version read
    (compare and set), and read again if another process stamped it in between. In a rolling
    upgrade, an older worker that read the store before a newer one stamped it cannot then put
    its own version back: it finds the newer one, and refuses the store."""
    if running is None:
        log.debug("circle-node is not installed: its version is unknown, the store not stamped")
        return
    while True:
        stored = rows.read()
        check_not_newer(stored, running)
        if stored == running or rows.replace(stored, running):
            return


def check_not_newer(stored: str | None, running: str) -> None:
    """`StoreTooNew` if the store's stamp (`stored`) is of a version newer than `running`."""
    if stored is not None and stored != running and _newer(stored, running):
        raise StoreTooNew(stored, running)


def _newer(stored: str, running: str) -> bool:
    try:
        return Version(stored) > Version(running)
    except InvalidVersion:
        return True  # not a version this one knows how to compare: not one before it
