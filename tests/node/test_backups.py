"""Backups that can be trusted: a tampered, cut short or foreign backup is refused with what
failed, the restored feed is verified before a restore says it is done, a failed restore leaves
its target as it was, and a node on PostgreSQL is backed up with its rows and restored into an
empty store.

Cast: the Moonflower circle's node (SQLite, or PostgreSQL), and the Sunflower circle's node,
whose keys turn up in a forged backup.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import sqlite3
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest

from node.app.logbook import read_logbook
from node.app.persistence import open_node
from node.cli.backup import BackupError, backup
from node.cli.restore import restore
from node.settings import Settings
from tests.conftest import Clock


def _found(settings: Settings, clock: Clock, name: str = "Moonflower circle") -> None:
    node = open_node(settings, clock)
    node.circle.found_circle(name=name, aim="Grow food", domain="The garden", founder_name="Ada")
    node.close()


def _summary(settings: Settings) -> tuple[list[str], int, str]:
    node = open_node(settings)
    try:
        return (
            [line.text for line in read_logbook(node)],
            node.feed.own_feed().head,
            node.feed.node_id,
        )
    finally:
        node.close()


def _members(path: Path) -> dict[str, bytes]:
    with tarfile.open(path) as archive:
        return {m.name: archive.extractfile(m).read() for m in archive.getmembers()}  # type: ignore[union-attr]


def _rewrite(path: Path, members: dict[str, bytes]) -> None:
    """Write the backup again with these members, and a manifest whose digests match them (a
    forger who knows the format)."""
    manifest = json.loads(members.pop("manifest.json"))
    manifest["sha256"] = {n: hashlib.sha256(d).hexdigest() for n, d in members.items()}
    with tarfile.open(path, "w") as archive:
        for name, data in {"manifest.json": json.dumps(manifest).encode(), **members}.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))


def _cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "node", *args],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, **(env or {})},
    )


@pytest.fixture
def moonflower(tmp_path: Path, clock: Clock) -> Settings:
    settings = Settings(data_dir=tmp_path / "moonflower")
    _found(settings, clock)
    return settings


@pytest.fixture
def saved(moonflower: Settings, tmp_path: Path) -> Path:
    path = tmp_path / "moonflower.backup"
    backup(moonflower, path)
    return path


def test_a_backup_lists_each_member_with_its_sha256(saved: Path) -> None:
    members = _members(saved)
    manifest = json.loads(members.pop("manifest.json"))
    assert manifest["format"] == "circle-node-backup/1"
    assert manifest["store"] == "sqlite"
    assert manifest["sha256"] == {n: hashlib.sha256(d).hexdigest() for n, d in members.items()}


def test_edited_store_bytes_are_refused_and_nothing_is_restored(
    saved: Path, tmp_path: Path
) -> None:
    # Given a backup whose store was edited in place (a name changed, same length).
    raw = saved.read_bytes()
    assert raw.count(b"Moonflower circle") >= 1
    saved.write_bytes(raw.replace(b"Moonflower circle", b"Moonfl0wer circle"))
    target = tmp_path / "restored"
    # When it is restored, it is refused naming the member, and no folder is made.
    with pytest.raises(BackupError, match=r"circle\.sqlite does not match its SHA-256"):
        restore(saved, target)
    assert not target.exists()
    assert [p.name for p in tmp_path.iterdir() if "restoring" in p.name] == []
    # The command says so in one line, and exits 1.
    result = _cli("restore", str(saved), "--data", str(target))
    assert result.returncode == 1
    assert result.stderr.strip().count("\n") == 0 and "does not match its SHA-256" in result.stderr
    assert not target.exists()


def test_a_backup_cut_short_is_refused_in_one_line(saved: Path, tmp_path: Path) -> None:
    raw = saved.read_bytes()
    for length in (len(raw) // 2, 700, 100):
        saved.write_bytes(raw[:length])
        with pytest.raises(BackupError, match="damaged or cut short"):
            restore(saved, tmp_path / "restored")
        assert not (tmp_path / "restored").exists()
    result = _cli("restore", str(saved), "--data", str(tmp_path / "restored"))
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert result.stderr.strip().count("\n") == 0


def test_a_foreign_file_is_refused(tmp_path: Path, saved: Path) -> None:
    # Not a tar at all; a tar of something else; a backup of an older format (no manifest).
    junk = tmp_path / "junk"
    junk.write_bytes(b"not a backup")
    with pytest.raises(BackupError, match="not a circle-node backup"):
        restore(junk, tmp_path / "a")
    other = tmp_path / "other.tar"
    with tarfile.open(other, "w") as archive:
        archive.add(junk, "notes.txt")
    with pytest.raises(BackupError, match="not a circle-node backup"):
        restore(other, tmp_path / "b")
    members = _members(saved)
    for name in ("../escape", "circlenode_events", "postgresql/../escape", "postgresql/x"):
        _rewrite(saved, {**members, name: b"x"})
        with pytest.raises(BackupError, match="which is not part of a node"):
            restore(saved, tmp_path / "c")
    assert not (tmp_path / "escape").exists()
    assert {p.name for p in tmp_path.iterdir()} == {"junk", "other.tar", "moonflower", saved.name}


def test_a_forged_feed_entry_with_matching_digests_fails_the_feed_check(
    saved: Path, tmp_path: Path
) -> None:
    # A forger edits a signed entry of the node's own feed inside the store, and fixes the
    # manifest's digests: the digests pass, the feed's chain and signatures do not.
    members = _members(saved)
    store = tmp_path / "forged.sqlite"
    store.write_bytes(members["circle.sqlite"])
    connection = sqlite3.connect(store)
    feed, seq, signed = connection.execute(
        "SELECT feed, seq, signed FROM feed_entries WHERE seq = 1"
    ).fetchone()
    forged = bytearray(signed)
    forged[-1] ^= 0x01  # the last byte of the signature
    connection.execute(
        "UPDATE feed_entries SET signed = ? WHERE feed = ? AND seq = ?", (bytes(forged), feed, seq)
    )
    connection.commit()
    connection.close()
    members["circle.sqlite"] = store.read_bytes()
    _rewrite(saved, members)
    target = tmp_path / "restored"
    with pytest.raises(BackupError, match="the restored feed does not verify"):
        restore(saved, target)
    assert not target.exists()


def test_another_nodes_keys_are_refused(saved: Path, tmp_path: Path, clock: Clock) -> None:
    sunflower = Settings(data_dir=tmp_path / "sunflower")
    _found(sunflower, clock, "Sunflower circle")
    members = _members(saved)
    members["node.keys"] = (sunflower.data_dir / "node.keys").read_bytes()
    _rewrite(saved, members)
    # The target exists and holds something else: after the refusal, it is as it was.
    target = tmp_path / "restored"
    target.mkdir()
    (target / "README").write_text("the operator's notes")
    with pytest.raises(BackupError, match="does not hold the key the restored feed is signed"):
        restore(saved, target)
    assert [p.name for p in target.iterdir()] == ["README"]


def test_a_folder_that_holds_a_node_is_refused(saved: Path, moonflower: Settings) -> None:
    before = sorted(p.name for p in moonflower.data_dir.iterdir())
    with pytest.raises(BackupError, match="already holds a node"):
        restore(saved, moonflower.data_dir)
    assert sorted(p.name for p in moonflower.data_dir.iterdir()) == before


def test_restore_says_which_node_and_feed_it_verified(
    saved: Path, moonflower: Settings, tmp_path: Path
) -> None:
    target = tmp_path / "restored"
    result = _cli("restore", str(saved), "--data", str(target))
    assert result.returncode == 0, result.stderr
    logbook, head, node_id = _summary(moonflower)
    assert f"node {node_id}, its feed verified to entry {head}" in result.stdout
    assert _summary(Settings(data_dir=target)) == (logbook, head, node_id)


# A node on PostgreSQL.


def _rows(url: str) -> int:
    import psycopg
    from psycopg import sql

    base, schema = url.split("?schema=") if "?schema=" in url else url.split("&schema=")
    with psycopg.connect(base) as connection:
        tables = [
            row[0]
            for row in connection.execute(
                "SELECT table_name FROM information_schema.tables WHERE table_schema = %s",
                [schema],
            )
        ]
        return sum(
            connection.execute(
                sql.SQL("SELECT count(*) FROM {}.{}").format(
                    sql.Identifier(schema), sql.Identifier(table)
                )
            ).fetchone()[0]  # type: ignore[index]
            for table in tables
        )


def test_a_postgresql_node_is_backed_up_with_its_rows_and_restored_into_an_empty_store(
    postgres_url: str,
    other_postgres_url: str,
    tmp_path: Path,
    clock: Clock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Given the Moonflower circle's node on PostgreSQL, and its backup.
    settings = Settings(data_dir=tmp_path / "moonflower", database_url=postgres_url)
    _found(settings, clock)
    before = _summary(settings)
    saved = tmp_path / "moonflower.backup"
    names = backup(settings, saved)
    assert {"postgresql/circlenode_events", "postgresql/circlenode_feed_entries"} <= set(names)
    assert b"Moonflower circle" in saved.read_bytes()

    # When it is restored without a database named, it is refused: no new node is made.
    monkeypatch.delenv("CIRCLE_NODE_DATABASE_URL", raising=False)
    target = tmp_path / "restored"
    with pytest.raises(BackupError, match="name the database to restore it into"):
        restore(saved, target)
    assert not target.exists()

    # When it is restored into an empty store, the node is the same node.
    monkeypatch.setenv("CIRCLE_NODE_DATABASE_URL", other_postgres_url)
    restored = restore(saved, target)
    assert (restored.node_id, restored.head) == (before[2], before[1])
    again = Settings(data_dir=target, database_url=other_postgres_url)
    assert _summary(again) == before
    rows = _rows(other_postgres_url)

    # A store that already holds a node is refused, and left as it was.
    with pytest.raises(BackupError, match="already holds a node"):
        restore(saved, tmp_path / "elsewhere")
    assert _rows(other_postgres_url) == rows
    assert not (tmp_path / "elsewhere").exists()
    # The restored node goes on signing where its feed left off.
    node = open_node(again, clock)
    node.circle.found_circle  # noqa: B018 (the node opens and is the same circle)
    assert node.records.get_circle().name == "Moonflower circle"
    node.close()


def test_a_postgresql_restore_that_fails_its_checks_leaves_the_store_empty(
    postgres_url: str,
    other_postgres_url: str,
    tmp_path: Path,
    clock: Clock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    settings = Settings(data_dir=tmp_path / "moonflower", database_url=postgres_url)
    _found(settings, clock)
    sunflower = Settings(data_dir=tmp_path / "sunflower")
    _found(sunflower, clock, "Sunflower circle")
    saved = tmp_path / "moonflower.backup"
    backup(settings, saved)
    members = _members(saved)
    members["node.keys"] = (sunflower.data_dir / "node.keys").read_bytes()
    _rewrite(saved, members)
    target = tmp_path / "restored"
    monkeypatch.setenv("CIRCLE_NODE_DATABASE_URL", other_postgres_url)
    with pytest.raises(BackupError, match="does not hold the key"):
        restore(saved, target)
    assert not target.exists()
    assert _rows(other_postgres_url) == 0
    # A backup of a PostgreSQL node whose rows are missing is refused too (no new inception).
    members = _members(saved)
    for name in [n for n in members if n.startswith("postgresql/")]:
        del members[name]
    members["node.keys"] = (settings.data_dir / "node.keys").read_bytes()
    _rewrite(saved, members)
    with pytest.raises(BackupError, match="holds no node's feed"):
        restore(saved, target)
    assert _rows(other_postgres_url) == 0


def test_a_wrong_store_key_is_a_failed_check_in_one_line(tmp_path: Path, clock: Clock) -> None:
    # An encrypted node's backup, its store.key swapped for another (digests forged to match).
    settings = Settings(data_dir=tmp_path / "moonflower", encrypt=True)
    _found(settings, clock)
    (settings.data_dir / "circle-node.toml").write_text("encrypt = true\n")
    other = Settings(data_dir=tmp_path / "other", encrypt=True)
    _found(other, clock, "Sunflower circle")
    saved = tmp_path / "moonflower.backup"
    backup(settings, saved)
    members = _members(saved)
    members["store.key"] = (other.data_dir / "store.key").read_bytes()
    _rewrite(saved, members)
    target = tmp_path / "restored"
    result = _cli("restore", str(saved), "--data", str(target))
    assert result.returncode == 1 and "Traceback" not in result.stderr
    # One line says what failed (the progress of the files restored may come before it).
    (failure,) = [line for line in result.stderr.splitlines() if "restoring" not in line]
    assert failure.startswith("error: could not restore") and "the restored store" in failure
    assert not target.exists()


def test_settings_in_a_backup_that_cannot_be_used_are_a_failed_check(
    saved: Path, tmp_path: Path
) -> None:
    members = _members(saved)
    members["circle-node.toml"] = b'database_url = "mysql://db.example/circle"\n'
    _rewrite(saved, members)
    with pytest.raises(BackupError, match=r"the restored settings cannot be used: .*postgresql://"):
        restore(saved, tmp_path / "restored")
    assert not (tmp_path / "restored").exists()


def test_a_backup_without_the_take_back_flag_still_leaves_it(saved: Path, tmp_path: Path) -> None:
    members = _members(saved)
    assert "take-back.pending" in members
    del members["take-back.pending"]
    _rewrite(saved, members)
    restore(saved, tmp_path / "restored")
    flag = tmp_path / "restored" / "take-back.pending"
    assert flag.exists() and flag.stat().st_mode & 0o777 == 0o600


def test_a_postgresql_restore_killed_after_loading_its_rows_is_cleared_by_the_next(
    postgres_url: str,
    other_postgres_url: str,
    tmp_path: Path,
    clock: Clock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import signal

    settings = Settings(data_dir=tmp_path / "moonflower", database_url=postgres_url)
    _found(settings, clock)
    before = _summary(settings)
    saved = tmp_path / "moonflower.backup"
    backup(settings, saved)
    target = tmp_path / "restored"
    # Given a restore killed (SIGKILL) after its rows were loaded, before its checks ended.
    killed = (
        "import os, signal, sys\n"
        "from pathlib import Path\n"
        "import node.cli.restore as r\n"
        "r.check_node = lambda *a, **k: os.kill(os.getpid(), signal.SIGKILL)\n"
        "r.restore(Path(sys.argv[1]), Path(sys.argv[2]))\n"
    )
    env = {**os.environ, "CIRCLE_NODE_DATABASE_URL": other_postgres_url}
    run = subprocess.run(
        [sys.executable, "-c", killed, str(saved), str(target)], env=env, timeout=120
    )
    assert run.returncode == -signal.SIGKILL
    assert not target.exists() and _rows(other_postgres_url) > 0  # rows of no node
    # When it is restored again, the rows the killed restore left are cleared and loaded anew.
    monkeypatch.setenv("CIRCLE_NODE_DATABASE_URL", other_postgres_url)
    restore(saved, target)
    again = Settings(data_dir=target, database_url=other_postgres_url)
    assert _summary(again) == before
    # And a store whose restore finished is never cleared by another restore.
    with pytest.raises(BackupError, match="already holds a node"):
        restore(saved, tmp_path / "elsewhere")
    assert _summary(again) == before
