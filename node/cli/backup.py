"""Backing up a node's data folder, and restoring it into an empty one.

A backup is a tar file of the SQLite store (copied with SQLite's online backup, so the node may
keep running), the node's key file, the store's encryption key and the config file. A node on
PostgreSQL backs up its keys and config here; its database is backed up with `pg_dump`.

Every backup also holds the take-back flag (node/network/take_back.py): a store restored from
it may lack entries the node published after it was taken, so the node restored takes them
back from its peers before it signs again. `restore` leaves the flag in the data folder (also
for a backup made before the flag existed), as does a backup unpacked by hand.
"""

from __future__ import annotations

import os
import sqlite3
import tarfile
import tempfile
from collections.abc import Callable
from pathlib import Path

from node.network.identity import KEYS_FILE
from node.network.take_back import FLAG_TEXT, TAKE_BACK_FILE
from node.settings import CONFIG_FILE, Settings

SECRETS = (KEYS_FILE, "store.key")
STORE = "circle.sqlite"
KNOWN = (STORE, *SECRETS, CONFIG_FILE, TAKE_BACK_FILE)


class BackupError(Exception):
    """A backup or restore cannot be done; the message says why."""


def backup(settings: Settings, destination: Path) -> list[str]:
    """Write a backup of the node's data folder; returns the names it holds."""
    folder = settings.data_dir
    if not (folder / KEYS_FILE).exists():
        raise BackupError(f"{folder} holds no node (no {KEYS_FILE})")
    names: list[str] = []
    tmp = destination.with_name(destination.name + ".part")
    tmp.unlink(missing_ok=True)
    # The backup holds the node's keys: it is its owner's alone, like the key files.
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with (
        tempfile.TemporaryDirectory() as scratch,
        os.fdopen(fd, "wb") as raw,
        tarfile.open(fileobj=raw, mode="w") as archive,
    ):
        if settings.database_url is None:
            copy = Path(scratch) / STORE
            source = sqlite3.connect(settings.sqlite_path)
            target = sqlite3.connect(copy)
            try:
                source.backup(target)
            finally:
                source.close()
                target.close()
            archive.add(copy, STORE)
            names.append(STORE)
        for name in (*SECRETS, CONFIG_FILE):
            path = folder / name
            if path.exists():
                info = archive.gettarinfo(str(path), name)
                info.mode = 0o600 if name in SECRETS else 0o644
                with path.open("rb") as file:
                    archive.addfile(info, file)
                names.append(name)
        flag = Path(scratch) / TAKE_BACK_FILE
        flag.write_text(FLAG_TEXT)
        info = archive.gettarinfo(str(flag), TAKE_BACK_FILE)
        info.mode = 0o600
        with flag.open("rb") as file:
            archive.addfile(info, file)
        names.append(TAKE_BACK_FILE)
    tmp.replace(destination)
    return names


def restore(
    source: Path, data_dir: Path, progress: Callable[[str, int, int], None] | None = None
) -> list[str]:
    """Restore a backup into an empty (or new) data folder; returns the names restored."""
    if any((data_dir / name).exists() for name in KNOWN):
        raise BackupError(f"{data_dir} already holds a node; restore into an empty folder")
    try:
        archive = tarfile.open(source, "r:")  # noqa: SIM115 (closed by the `with` below)
    except (FileNotFoundError, tarfile.TarError, OSError) as error:
        raise BackupError(f"{source} is not a circle-node backup: {error}") from None
    restored: list[str] = []
    with archive:
        members = archive.getmembers()
        names = [m.name for m in members]
        if KEYS_FILE not in names or any(
            n not in KNOWN or not m.isfile() for n, m in zip(names, members, strict=True)
        ):
            raise BackupError(f"{source} is not a circle-node backup")
        data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        for member in members:
            extracted = archive.extractfile(member)
            assert extracted is not None
            content = extracted.read()
            # The keys, and the store (personal data): the node's owner's alone. The settings
            # file holds no secret, but nobody else needs to read it either.
            fd = os.open(data_dir / member.name, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "wb") as file:
                file.write(content)
            restored.append(member.name)
            if progress is not None:
                progress("files", len(restored), len(members))
    if STORE in restored:
        _check_integrity(data_dir / STORE)
    if TAKE_BACK_FILE not in restored:  # a backup made before the flag existed
        fd = os.open(data_dir / TAKE_BACK_FILE, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as flag_file:
            flag_file.write(FLAG_TEXT)
    return restored


def _check_integrity(path: Path) -> None:
    connection = sqlite3.connect(path)
    try:
        (result,) = connection.execute("PRAGMA integrity_check").fetchone()
    except sqlite3.DatabaseError as error:
        raise BackupError(f"the restored store is damaged: {error}") from None
    finally:
        connection.close()
    if result != "ok":
        raise BackupError(f"the restored store is damaged: {result}")
