"""Backing up a node: what a backup holds, and writing one (restoring it: node/cli/restore.py).

A backup is a tar file, mode 0600 (it holds the node's keys). Its first member, `manifest.json`,
says what it is (`circle-node-backup/1`), which store it holds, and the SHA-256 of every other
member. The members: the node's store, either the SQLite file `circle.sqlite` (copied with
SQLite's online backup) or, for a node on PostgreSQL, its tables `postgresql/<table>` (COPY's
binary format, `node/store/postgres_copy.py`), both while the node may keep running; the key
file `node.keys`; the store's encryption key `store.key` and `circle-node.toml` if there are.

Every backup also holds the take-back flag (node/network/take_back.py): a store restored from
it may lack entries the node published after it was taken, so the node restored takes them
back from its peers before it signs again. `restore` leaves the flag in the data folder (also
for a backup that lacks it), as does a backup unpacked by hand.

A backup holds no web session (node/http/web/sessions.py): the SQLite copy's session table is
emptied, and a PostgreSQL backup copies only the node's records (its session table is emptied
when rows are restored into a store). A node restored from a backup starts with everyone signed
out: a cookie of a session that was open when the backup was taken, and ended since, never gets
in again.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import sqlite3
import tarfile
import tempfile
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from pathlib import Path

from node.network.identity import KEYS_FILE, PENDING_FILE
from node.network.take_back import FLAG_TEXT, TAKE_BACK_FILE
from node.settings import CONFIG_FILE, Settings

FORMAT = "circle-node-backup/1"
MANIFEST = "manifest.json"
STORE_KEY = "store.key"
SECRETS = (KEYS_FILE, STORE_KEY)
STORE = "circle.sqlite"
ROWS = "postgresql/"  # the prefix of a PostgreSQL node's tables
FILES = (STORE, *SECRETS, CONFIG_FILE, TAKE_BACK_FILE)
# What makes a folder a node's: restore refuses one that holds any of these.
A_NODES = (*FILES, PENDING_FILE, STORE + "-wal")
Progress = Callable[[str, int, int], None]


class BackupError(Exception):
    """A backup or restore cannot be done; the message says why."""


def backup(settings: Settings, destination: Path) -> list[str]:
    """Write a backup of the node; returns the names of the members it holds."""
    folder = settings.data_dir
    if not (folder / KEYS_FILE).exists():
        raise BackupError(f"{folder} holds no node (no {KEYS_FILE})")
    with tempfile.TemporaryDirectory() as scratch:
        members: dict[str, Path] = {}
        if settings.database_url is None:
            members[STORE] = Path(scratch) / STORE
            _copy_sqlite(settings.sqlite_path, members[STORE])
            store = "sqlite"
        else:
            members.update(_copy_rows(settings.database_url, Path(scratch)))
            store = "postgresql"
        for name in (*SECRETS, CONFIG_FILE):
            if (folder / name).exists():
                members[name] = folder / name
        members[TAKE_BACK_FILE] = Path(scratch) / TAKE_BACK_FILE
        members[TAKE_BACK_FILE].write_text(FLAG_TEXT)
        manifest = {
            "format": FORMAT,
            "store": store,
            "created": datetime.now(UTC).isoformat(timespec="seconds"),
            "sha256": {name: _sha256(path) for name, path in members.items()},
        }
        _write_tar(destination, json.dumps(manifest, indent=1).encode(), members)
    return list(members)


def _copy_sqlite(source_path: Path, copy: Path) -> None:
    source = sqlite3.connect(source_path)
    target = sqlite3.connect(copy)
    try:
        source.backup(target)
        # No web session goes into a backup (see the module's docstring).
        held = target.execute(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'sessions'"
        ).fetchone()
        if held:
            target.execute("DELETE FROM sessions")
            target.commit()
    finally:
        source.close()
        target.close()


def _copy_rows(database_url: str, scratch: Path) -> dict[str, Path]:
    import psycopg

    from node.app.persistence import postgres_env
    from node.store.postgres_copy import copy_out

    try:
        tables = copy_out(postgres_env(database_url), scratch)
    except psycopg.Error as error:
        raise BackupError(f"the PostgreSQL store could not be read: {error}") from None
    if not tables:
        raise BackupError("the PostgreSQL store holds no node's tables")
    return {ROWS + table: scratch / table for table in tables}


def _sha256(path: Path) -> str:
    with path.open("rb") as file:
        return hashlib.file_digest(file, "sha256").hexdigest()


def _write_tar(destination: Path, manifest: bytes, members: Mapping[str, Path]) -> None:
    tmp = destination.with_name(destination.name + ".part")
    tmp.unlink(missing_ok=True)
    # The backup holds the node's keys: it is its owner's alone, like the key files.
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "wb") as raw, tarfile.open(fileobj=raw, mode="w") as archive:
            info = tarfile.TarInfo(MANIFEST)
            info.size, info.mode = len(manifest), 0o600
            archive.addfile(info, io.BytesIO(manifest))
            for name, path in members.items():
                info = archive.gettarinfo(str(path), name)
                info.mode = 0o600
                with path.open("rb") as file:
                    archive.addfile(info, file)
        tmp.replace(destination)
    finally:
        tmp.unlink(missing_ok=True)
