"""Shared fixtures: a settable clock, and nodes on each event store (memory, SQLite, PostgreSQL).

PostgreSQL tests use the server named by CIRCLE_NODE_TEST_POSTGRES (a postgresql:// URL; the
Makefile points it at 127.0.0.1:5432/test). Without it, or when it does not answer, they skip
with the reason, except under CI=true, where a missing server fails the run.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from node.app.node import CircleNode
from node.app.persistence import open_node
from node.settings import Settings

UNDER_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
POSTGRES_URL = os.environ.get("CIRCLE_NODE_TEST_POSTGRES", "")


class Clock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@pytest.fixture
def clock() -> Clock:
    return Clock()


def _postgres_unavailable() -> str | None:
    if not POSTGRES_URL:
        return (
            "CIRCLE_NODE_TEST_POSTGRES is not set (e.g. postgresql://postgres@127.0.0.1:5432/test)"
        )
    try:
        import psycopg

        with psycopg.connect(POSTGRES_URL, connect_timeout=3):
            return None
    except Exception as error:  # any failure to connect means: no server for these tests
        return f"PostgreSQL at {POSTGRES_URL} is not reachable: {error}"


def require_postgres() -> str:
    """The server URL, or skip (fail under CI) with the reason there is none."""
    reason = _postgres_unavailable()
    if reason is not None:
        if UNDER_CI:
            pytest.fail(f"CI=true requires PostgreSQL: {reason}")
        pytest.skip(reason)
    return POSTGRES_URL


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A PostgreSQL URL with a fresh schema of its own, dropped afterwards."""
    yield from _fresh_schema()


@pytest.fixture
def other_postgres_url() -> Iterator[str]:
    """A second fresh schema (`postgres_url` gives the first), to restore or move into."""
    yield from _fresh_schema()


def _fresh_schema() -> Iterator[str]:
    import psycopg
    from psycopg import sql

    base = require_postgres()
    schema = f"circle_test_{uuid.uuid4().hex[:12]}"
    separator = "&" if "?" in base else "?"
    yield f"{base}{separator}schema={schema}"
    with psycopg.connect(base, autocommit=True) as connection:
        connection.execute(
            sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(schema))
        )


NodeOpener = Callable[[], CircleNode]


def _opener(
    kind: str, request: pytest.FixtureRequest, tmp_path: Path, clock: Clock
) -> Iterator[NodeOpener]:
    opened: list[CircleNode] = []
    if kind == "memory":
        settings = None
    elif kind == "sqlite":
        settings = Settings(data_dir=tmp_path / "node")
    else:
        settings = Settings(
            data_dir=tmp_path / "node", database_url=request.getfixturevalue("postgres_url")
        )

    def opener() -> CircleNode:
        if settings is None:
            if opened:
                pytest.fail("an in-memory store cannot be reopened")
            node = CircleNode(env={"PERSISTENCE_MODULE": "node.store.memory_store"}, clock=clock)
        else:
            node = open_node(settings, clock)
        opened.append(node)
        return node

    opener.kind = kind  # type: ignore[attr-defined]
    yield opener
    for node in opened:
        node.close()


@pytest.fixture(params=["memory", "sqlite", "postgres"])
def open_store(
    request: pytest.FixtureRequest, tmp_path: Path, clock: Clock
) -> Iterator[NodeOpener]:
    """Opens a node on one store; calling it again reopens the same store (not for memory)."""
    yield from _opener(request.param, request, tmp_path, clock)


@pytest.fixture(params=["sqlite", "postgres"])
def open_lasting_store(
    request: pytest.FixtureRequest, tmp_path: Path, clock: Clock
) -> Iterator[NodeOpener]:
    """As `open_store`, on the stores that outlive a node (reopened, or shared by two)."""
    yield from _opener(request.param, request, tmp_path, clock)


@pytest.fixture
def node(open_store: NodeOpener) -> CircleNode:
    return open_store()
