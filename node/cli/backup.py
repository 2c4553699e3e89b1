"""Backing up a node, and restoring it into an empty data folder (and store).

A backup is a tar file, mode 0600 (it holds the node's keys). Its first member, `manifest.json`,
says what it is (`circle-node-backup/1`), which store it holds, and the SHA-256 of every other
member. The members: the node's store, either the SQLite file `circle.sqlite` (copied with
SQLite's online backup) or, for a node on PostgreSQL, its tables `postgresql/<table>` (COPY's
binary format, `node/store/postgres_copy.py`), both while the node may keep running; the key
file `node.keys`; the store's encryption key `store.key` and `circle-node.toml` if there are.

A restore checks before it reports success, and leaves the target as it was when a check
fails: every member against the manifest; the store (SQLite's integrity check); the node's own
feed, whole, from its inception (hash chain and every signature); and that the key file holds
the key that feed is signed with now. It unpacks into a folder of its own beside the target and
moves the files in only when all of that holds. Rows for PostgreSQL are loaded by one
transaction into tables that must be empty, and emptied again if a later check fails.

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
import shutil
import sqlite3
import tarfile
import tempfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from federation.verify import Rejected, decode_signed_entry
from node.network.identity import KEYS_FILE, PENDING_FILE
from node.network.take_back import FLAG_TEXT, TAKE_BACK_FILE
from node.settings import CONFIG_FILE, Settings, SettingsError
from node.store.postgres_copy import TABLES

if TYPE_CHECKING:
    from node.app.node import CircleNode

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


@dataclass(frozen=True)
class Restored:
    """What a restore brought back."""

    names: list[str]
    node_id: str
    head: int


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
            _check_integrity(staging / STORE)
        node_id, head = _check_node(settings, names)
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
    known = name in FILES or (name.startswith(ROWS) and name[len(ROWS) :] in TABLES)
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


def _check_node(settings: Settings, names: list[str]) -> tuple[str, int]:
    """The restored node's own feed verifies, whole, from its inception, and the key file
    holds the key it is signed with now: (node id, head)."""
    from node.app.persistence import open_node

    if settings.encrypt and STORE_KEY not in names:
        raise BackupError(
            f"the settings say the store is encrypted, but the backup has no {STORE_KEY}"
        )
    # Whatever a damaged or foreign store makes the node's code raise (a wrong store key, rows
    # that do not decode, a missing table) is a failed check of the restore, in one line.
    try:
        node = open_node(settings, federated=False)
    except Exception as error:  # any failure: see above
        raise BackupError(f"the restored store does not open: {error}") from None
    try:
        return _check_feed(node, settings)
    except BackupError:
        raise
    except Exception as error:  # any failure: see above
        raise BackupError(f"the restored store cannot be read: {error}") from None
    finally:
        node.close()


def _check_feed(node: CircleNode, settings: Settings) -> tuple[str, int]:
    from eventsourcing.application import AggregateNotFoundError

    from node.app.archive import ArchiveError, verify_feed
    from node.app.node import KNOWN_TYPES
    from node.network.identity import load_or_create_keys

    try:
        own = node.feed.own_feed()
    except AggregateNotFoundError:
        raise BackupError("the backup's store holds no node's feed") from None
    raw = node.store.feeds.select_entries(own.feed_id, -1, own.head + 2)
    try:
        signed = [decode_signed_entry(item) for item in raw]
    except Rejected as rejected:
        raise BackupError(f"the restored feed does not verify: {rejected}") from None
    if len(signed) != own.head + 1:
        raise BackupError(
            f"the restored feed holds {len(signed)} entries where its head says {own.head + 1}"
        )
    try:
        state, _ = verify_feed(signed, KNOWN_TYPES)
    except ArchiveError as error:
        raise BackupError(str(error).replace("the feed", "the restored feed", 1)) from None
    if (state.feed_id, state.last_hash, state.key) != (own.feed_id, own.last_hash, own.key):
        raise BackupError("the restored feed is not the one the node's records describe")
    if not (settings.data_dir / KEYS_FILE).exists():
        raise BackupError(f"the backup holds no {KEYS_FILE}")
    keys, _ = load_or_create_keys(settings.data_dir)
    if keys.current_public != own.key:
        raise BackupError(f"{KEYS_FILE} does not hold the key the restored feed is signed with")
    return node.feed.node_id, own.head


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
