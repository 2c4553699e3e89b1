"""The version of circle-node that last wrote the store, kept in a table of one row beside the
events: SQLite (`written_by`), PostgreSQL (`circlenode_written_by`); the in-memory store keeps
none (nothing of it outlives the process).

A store is stamped when it is opened (`check_and_stamp`), before anything else is written to it.
A version older than the one that last wrote the store refuses it (`StoreTooNew`): a newer
version may store what an older one would misread (events it has no class for, rows in a new
encoding), so the older one stops before it reads or writes anything. Versions are compared as
Python packaging compares them (`packaging.version`).
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

    def write(self, written_by: str) -> None:
        statement = (
            f"INSERT INTO {self.table} VALUES (1, ?) "
            "ON CONFLICT (id) DO UPDATE SET version = excluded.version"
        )
        with self._transaction(commit=True) as cursor:
            cursor.execute(statement.replace("?", self._mark), (written_by,))


def check_and_stamp(rows: SQLWrittenBy, running: str | None) -> None:
    """Refuse a store written by a newer version (`StoreTooNew`); else record `running` as the
    version that last wrote it."""
    if running is None:
        log.debug("circle-node is not installed: its version is unknown, the store not stamped")
        return
    stored = rows.read()
    if stored == running:
        return
    if stored is not None and _newer(stored, running):
        raise StoreTooNew(stored, running)
    rows.write(running)


def _newer(stored: str, running: str) -> bool:
    try:
        return Version(stored) > Version(running)
    except InvalidVersion:
        return True  # not a version this one knows how to compare: not one before it
