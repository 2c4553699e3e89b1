"""A backup keeps the version of circle-node that last wrote its store (node/store/written_by.py),
on SQLite (in the store's file) and on PostgreSQL (its row copied with the node's tables): an
older circle-node refuses to restore what a newer one wrote, in one line, and restores nothing;
what an older one wrote is restored, and stamped by the version that restored it.

Cast: the Moonflower circle's node.
"""

from __future__ import annotations

import contextlib
import sqlite3
from pathlib import Path

import psycopg
import pytest
from psycopg import sql

from node.app.persistence import open_node
from node.cli.backup import BackupError, backup
from node.cli.restore import restore
from node.settings import Settings
from node.store.written_by import running_version
from tests.conftest import Clock


def _stamp(settings: Settings, version: str | None = None) -> str | None:
    """Stamp the node's store as last written by `version` (or just read its stamp)."""
    if settings.database_url is None:
        with contextlib.closing(sqlite3.connect(settings.sqlite_path)) as connection:
            if version is not None:
                connection.execute("UPDATE written_by SET version = ?", (version,))
                connection.commit()
            row = connection.execute("SELECT version FROM written_by").fetchone()
        return None if row is None else str(row[0])
    base, schema = settings.database_url.split("?schema=")
    table = sql.SQL("{}.circlenode_written_by").format(sql.Identifier(schema))
    with psycopg.connect(base, autocommit=True) as connection:
        if version is not None:
            connection.execute(sql.SQL("UPDATE {} SET version = %s").format(table), (version,))
        found = connection.execute(sql.SQL("SELECT version FROM {}").format(table)).fetchone()
    return None if found is None else str(found[0])


def _events(url: str) -> int:
    """How many events the store at `url` holds (none when it has no table yet)."""
    base, schema = url.split("?schema=")
    with psycopg.connect(base, autocommit=True) as connection:
        held = connection.execute(
            "SELECT to_regclass(%s) IS NOT NULL", [f'"{schema}".circlenode_events']
        ).fetchone()
        if not held or not held[0]:
            return 0
        table = sql.SQL("{}.circlenode_events").format(sql.Identifier(schema))
        row = connection.execute(sql.SQL("SELECT count(*) FROM {}").format(table)).fetchone()
    return int(row[0]) if row else 0


@pytest.mark.parametrize("store", ["sqlite", "postgres"])
def test_a_backup_keeps_the_version_that_wrote_its_store(
    store: str,
    request: pytest.FixtureRequest,
    tmp_path: Path,
    clock: Clock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    running = running_version()
    url = request.getfixturevalue("postgres_url") if store == "postgres" else None
    restored_url = request.getfixturevalue("other_postgres_url") if url else None
    if restored_url is not None:
        monkeypatch.setenv("CIRCLE_NODE_DATABASE_URL", restored_url)
    # Given the Moonflower circle's node, last written by a newer circle-node, and its backup.
    settings = Settings(data_dir=tmp_path / "moonflower", database_url=url)
    node = open_node(settings, clock)
    node.circle.found_circle(name="Moonflower", aim="Grow", domain="Garden", founder_name="Ada")
    node.close()
    _stamp(settings, "999.1")
    saved = tmp_path / "moonflower.backup"
    names = backup(settings, saved)
    assert url is None or "postgresql/circlenode_written_by" in names

    # When this (older) circle-node restores it, it refuses in one line, and restores nothing.
    target = tmp_path / "restored"
    with pytest.raises(BackupError) as refused:
        restore(saved, target)
    assert str(refused.value) == (
        f"the backup's store was last written by circle-node 999.1, newer than this {running}: "
        "restore it with circle-node 999.1 or later"
    )
    assert not target.exists()
    assert restored_url is None or _events(restored_url) == 0

    # When a backup of the store an older circle-node wrote is restored, this one stamps it.
    _stamp(settings, "0.0.1")
    saved.unlink()
    backup(settings, saved)
    restore(saved, target)
    assert _stamp(Settings(data_dir=target, database_url=restored_url)) == running
