"""Restoring a node from a backup (node/cli/backup.py) into an empty data folder (and store).

A restore checks before it reports success, and leaves the target as it was when a check
fails: every member against the manifest; the store (SQLite's integrity check); the node's own
feed, whole, from its inception (hash chain and every signature); and that the key file holds
the key that feed is signed with now. It unpacks into a folder of its own beside the target and
moves the files in only when all of that holds. Rows for PostgreSQL are loaded by one
transaction into tables that must be empty, and emptied again if a later check fails.
What it checks of the node restored is in node/cli/restore_checks.py.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tarfile
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from node.cli.backup import (
    A_NODES,
    FILES,
    FORMAT,
    MANIFEST,
    ROWS,
    STORE,
    BackupError,
    Progress,
)
from node.cli.restore_checks import check_integrity, check_node
from node.network.identity import KEYS_FILE
from node.network.take_back import FLAG_TEXT, TAKE_BACK_FILE
from node.settings import Settings, SettingsError
from node.store.postgres_copy import COPIED


@dataclass(frozen=True)
class Restored:
    """What a restore brought back."""

    names: list[str]
    node_id: str
    head: int


def restore(
    source: Path,
    data_dir: Path,
    progress: Progress | None = None,
    given: Settings | None = None,
) -> Restored:
    """Restore a backup into an empty (or new) data folder, and into an empty PostgreSQL store
    if the backup holds one's rows (named by CIRCLE_NODE_DATABASE_URL or the backup's
    circle-node.toml; or, for a host's circle, by `given`, the settings its host gives it,
    used as they are). BackupError names the first check that fails; the target is then
    left as it was."""
    held = [name for name in A_NODES if (data_dir / name).exists()]
    if held:
        raise BackupError(
            f"{data_dir} already holds a node ({held[0]}); restore into an empty folder"
        )
    data_dir.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{data_dir.name}.restoring-", dir=data_dir.parent))
    loaded: dict[str, str] | None = None
    try:
        manifest, names = _unpack(source, staging, progress)
        if given is not None:
            settings = given.model_copy(update={"data_dir": staging})
        else:
            try:
                settings = Settings.load(staging)
            except SettingsError as error:
                raise BackupError(f"the restored settings cannot be used: {error}") from None
        if manifest["store"] == "postgresql":
            loaded = _load_rows(settings, staging, names, data_dir)
        elif settings.database_url is not None:
            raise BackupError(
                "the backup holds a node on SQLite, but the settings name a PostgreSQL store "
                "(CIRCLE_NODE_DATABASE_URL); unset it to restore this backup"
            )
        else:
            check_integrity(staging / STORE)
        node_id, head = check_node(settings, names)
        _move_into(staging, data_dir)
        rows, loaded = loaded, None  # the node's own from here: never unloaded again
        if rows is not None:
            from node.store.postgres_copy import finish

            finish(rows)
    except BaseException as error:
        if loaded is not None:
            _unload_rows(loaded, error)
        raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return Restored([n for n in names if n != MANIFEST], node_id, head)


def _unpack(
    source: Path, staging: Path, progress: Progress | None
) -> tuple[dict[str, Any], list[str]]:
    """Unpack the backup into `staging`, checking each member against the manifest."""
    try:
        with tarfile.open(source, "r:") as archive:
            members = archive.getmembers()
            if not members or members[0].name != MANIFEST or not members[0].isfile():
                raise BackupError(f"{source} is not a circle-node backup (no {MANIFEST} first)")
            manifest = _manifest(source, archive.extractfile(members[0]))
            expected: dict[str, str] = manifest["sha256"]
            names = [m.name for m in members[1:]]
            if sorted(names) != sorted(expected):
                raise BackupError(f"{source} does not hold exactly the files its manifest lists")
            for number, member in enumerate(members[1:], start=1):
                _unpack_member(archive, member, staging, expected[member.name])
                if progress is not None:
                    progress("files", number, len(members) - 1)
    except (tarfile.TarError, EOFError) as error:
        raise BackupError(
            f"{source} is not a circle-node backup, or it is damaged or cut short ({error})"
        ) from None
    except FileNotFoundError:
        raise BackupError(f"{source} does not exist") from None
    if KEYS_FILE not in names:
        raise BackupError(f"{source} holds no {KEYS_FILE}")
    if (manifest["store"] == "sqlite") != (STORE in names):
        raise BackupError(f"{source} does not hold the store its manifest names")
    if TAKE_BACK_FILE not in names:  # the node restored takes back what it published since
        fd = os.open(staging / TAKE_BACK_FILE, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as flag:
            flag.write(FLAG_TEXT)
    return manifest, names


def _manifest(source: Path, file: IO[bytes] | None) -> dict[str, Any]:
    try:
        manifest = json.loads(file.read() if file is not None else b"")
    except (ValueError, RecursionError):  # UnicodeDecodeError is a ValueError
        raise BackupError(f"{source}: {MANIFEST} is damaged") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise BackupError(f"{source} is not a circle-node backup ({MANIFEST} is not {FORMAT})")
    digests = manifest.get("sha256")
    if (
        manifest.get("store") not in ("sqlite", "postgresql")
        or not isinstance(digests, dict)
        or not all(isinstance(v, str) for v in digests.values())
    ):
        raise BackupError(f"{source}: {MANIFEST} is damaged")
    return manifest


def _unpack_member(
    archive: tarfile.TarFile, member: tarfile.TarInfo, staging: Path, digest: str
) -> None:
    name = member.name
    known = name in FILES or (name.startswith(ROWS) and name[len(ROWS) :] in COPIED)
    if not known or not member.isfile():
        raise BackupError(f"the backup holds {name}, which is not part of a node")
    extracted = archive.extractfile(member)
    assert extracted is not None  # a regular file
    target = staging / name
    target.parent.mkdir(mode=0o700, exist_ok=True)
    # The keys, and the store (personal data): the node's owner's alone. The settings file
    # holds no secret, but nobody else needs to read it either.
    fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    hashed = hashlib.sha256()
    with os.fdopen(fd, "wb") as file:
        while chunk := extracted.read(1 << 20):
            hashed.update(chunk)
            file.write(chunk)
    if hashed.hexdigest() != digest:
        raise BackupError(f"{name} does not match its SHA-256 in {MANIFEST}: it was changed")


def _load_rows(
    settings: Settings, staging: Path, names: list[str], data_dir: Path
) -> dict[str, str]:
    import psycopg

    from node.app.persistence import ensure_postgres_schema, postgres_env
    from node.store.postgres_copy import StoreNotEmpty, clear, copy_in, unfinished
    from node.store.written_by import StoreTooNew

    if settings.database_url is None:
        raise BackupError(
            "the backup holds a node on PostgreSQL: name the database to restore it into "
            "with CIRCLE_NODE_DATABASE_URL (or database_url in its circle-node.toml)"
        )
    env = postgres_env(settings.database_url)
    tables = {n.removeprefix(ROWS): staging / n for n in names if n.startswith(ROWS)}
    try:
        ensure_postgres_schema(env)
        # A restore that stopped after loading its rows (killed before its data folder held
        # the node) left them with its marker: they belong to no node, and are emptied again.
        earlier = unfinished(env)
        if earlier is not None:
            if not earlier or any((Path(earlier) / name).exists() for name in A_NODES):
                raise BackupError(
                    f"the PostgreSQL store holds the node restored into {earlier or '?'}; "
                    "restore into an empty store"
                )
            clear(env)
        copy_in(env, tables, str(data_dir.resolve()))
    except StoreNotEmpty as error:
        raise BackupError(
            f"the PostgreSQL store already holds a node ({error}); restore into an empty one"
        ) from None
    except (psycopg.Error, ValueError, StoreTooNew) as error:
        raise BackupError(f"the rows could not be loaded into PostgreSQL: {error}") from None
    shutil.rmtree(
        staging / ROWS, ignore_errors=True
    )  # they are in the database now, not for the data folder
    return env


def _unload_rows(env: dict[str, str], failure: BaseException) -> None:
    """Delete the rows a failed restore loaded (the tables were empty before it)."""
    import psycopg

    from node.store.postgres_copy import clear

    try:
        clear(env)
    except psycopg.Error as error:
        raise BackupError(
            f"{failure}; and the rows it loaded into PostgreSQL could not be deleted again "
            f"({error}): empty the node's tables before restoring again"
        ) from None


def _move_into(staging: Path, data_dir: Path) -> None:
    """Move the checked files into the data folder: all of them, or none."""
    if not data_dir.exists():
        os.rename(staging, data_dir)
        staging.mkdir()  # for the caller's cleanup
        return
    moved: list[Path] = []
    try:
        for path in sorted(staging.iterdir()):
            os.rename(path, data_dir / path.name)
            moved.append(data_dir / path.name)
    except OSError:
        for path in moved:
            os.rename(path, staging / path.name)
        raise
