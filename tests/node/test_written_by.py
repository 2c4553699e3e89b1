"""The version of circle-node that last wrote a store (node/store/written_by.py): stamped when
the store is opened; an older version refuses a store a newer one wrote, before it writes
anything."""

from __future__ import annotations

import contextlib
import os
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from psycopg import sql

from node.app.persistence import open_node
from node.settings import Settings
from node.store.written_by import SQLWrittenBy, StoreTooNew, check_and_stamp, running_version

ROOT = Path(__file__).resolve().parents[2]
RUNNING = running_version()


@pytest.fixture(params=["sqlite", "postgres"])
def settings(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Settings]:
    url = request.getfixturevalue("postgres_url") if request.param == "postgres" else None
    yield Settings(data_dir=tmp_path / "node", database_url=url)


def _stamp(settings: Settings, written_by: str | None = None) -> tuple[str | None, int]:
    """Stamp the store as written by `written_by` (as a newer version would), or just read it:
    (the version it holds, how many events it holds)."""
    if settings.database_url is None:
        connection = sqlite3.connect(settings.sqlite_path)
        try:
            return _stamped(connection, "written_by", "stored_events", "?", written_by)
        finally:
            connection.commit()
            connection.close()
    base, _, schema = settings.database_url.partition("?schema=")
    with psycopg.connect(base, autocommit=True) as pg:
        pg.execute(sql.SQL("SET search_path TO {}").format(sql.Identifier(schema)))
        return _stamped(pg, "circlenode_written_by", "circlenode_events", "%s", written_by)


def _stamped(
    connection: Any, table: str, events: str, mark: str, written_by: str | None
) -> tuple[str | None, int]:
    if written_by is not None:
        connection.execute(
            f"INSERT INTO {table} VALUES (1, {mark}) "
            "ON CONFLICT (id) DO UPDATE SET version = excluded.version",
            (written_by,),
        )
    row = connection.execute(f"SELECT version FROM {table}").fetchone()
    count = connection.execute(f"SELECT count(*) FROM {events}").fetchone()[0]
    return (row[0] if row else None), int(count)


def test_a_store_is_stamped_with_the_version_that_opens_it(settings: Settings) -> None:
    assert RUNNING is not None  # the suite runs an installed circle-node
    node = open_node(settings)
    node.circle.found_circle(name="Garden", aim="A", domain="D", founder_name="F")
    node.close()
    assert _stamp(settings)[0] == RUNNING
    # A store last written by an older version is taken over, and stamped again.
    _stamp(settings, "0.0.1")
    node = open_node(settings)
    assert node.records.get_circle().name == "Garden"
    node.close()
    assert _stamp(settings)[0] == RUNNING


def test_an_older_version_refuses_a_newer_store_before_writing_anything(
    settings: Settings,
) -> None:
    node = open_node(settings)
    node.circle.found_circle(name="Garden", aim="A", domain="D", founder_name="F")
    node.close()
    before = _stamp(settings, "999.1")
    with pytest.raises(StoreTooNew) as refused:
        open_node(settings)
    assert str(refused.value) == (
        f"this store was last written by circle-node 999.1, newer than this {RUNNING}: "
        "upgrade circle-node, or restore a backup taken before"
    )
    assert _stamp(settings) == before == ("999.1", before[1])  # nothing written


@pytest.mark.parametrize("before", ["0.9", None])
def test_the_stamp_never_goes_back_when_an_older_worker_read_it_first(
    settings: Settings, before: str | None
) -> None:
    """A rolling upgrade: a worker of 1.0 reads the stamp (`before`), then a worker of 2.0
    stamps the store, then the worker of 1.0 would stamp it with its own version."""
    node = open_node(settings)
    try:
        if before is None:
            _unstamp(settings)
        else:
            _stamp(settings, before)
        rows: SQLWrittenBy = node.store.recorder.written_by  # type: ignore[attr-defined]
        read = rows.read

        def read_then_a_newer_worker_stamps() -> str | None:
            stamp = read()
            if stamp == before:  # the first read: the newer worker starts right after it
                _stamp(settings, "2.0")
            return stamp

        rows.read = read_then_a_newer_worker_stamps  # type: ignore[method-assign]
        # When the older worker stamps the store, it finds the newer stamp, and refuses.
        with pytest.raises(StoreTooNew, match=r"circle-node 2\.0, newer than this 1\.0"):
            check_and_stamp(rows, "1.0")
    finally:
        node.close()
    # Then the stamp is still the newer one's: it never went back.
    assert _stamp(settings)[0] == "2.0"


def _unstamp(settings: Settings) -> None:
    """Take the stamp away, as in a store made before stamps were kept."""
    if settings.database_url is None:
        with contextlib.closing(sqlite3.connect(settings.sqlite_path)) as connection:
            connection.execute("DELETE FROM written_by")
            connection.commit()
        return
    base, _, schema = settings.database_url.partition("?schema=")
    with psycopg.connect(base, autocommit=True) as pg:
        pg.execute(sql.SQL("DELETE FROM {}.circlenode_written_by").format(sql.Identifier(schema)))


def test_the_command_line_says_so_in_one_line(tmp_path: Path) -> None:
    data = tmp_path / "garden"
    made = subprocess.run(
        [sys.executable, "-m", "node", "init", "--data", str(data), "--name", "Garden",
         "--aim", "Grow food", "--domain", "The garden", "--founder", "Ada"],
        capture_output=True, text=True, timeout=120, cwd=ROOT, env=_without_test_database(),
    )  # fmt: skip
    assert made.returncode == 0, made.stderr
    _stamp(Settings(data_dir=data), "999.1")
    shown = subprocess.run(
        [sys.executable, "-m", "node", "id", "--data", str(data)],
        capture_output=True, text=True, timeout=120, cwd=ROOT, env=_without_test_database(),
    )  # fmt: skip
    assert shown.returncode == 1
    assert shown.stderr.strip().splitlines() == [
        f"error: this store was last written by circle-node 999.1, newer than this {RUNNING}: "
        "upgrade circle-node, or restore a backup taken before"
    ]


def _without_test_database() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if k != "CIRCLE_NODE_DATABASE_URL"}
