"""The event store's configuration: SQLite in the data folder, or PostgreSQL by URL."""

from __future__ import annotations

import contextlib
import logging
import os
import re
import stat
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, unquote, urlparse

from eventsourcing.cryptography import AESCipher

from node.network.identity import KEYS_FILE
from node.settings import CONFIG_FILE, DEFAULT_POOL_SIZE, Settings, SettingsError
from node.store.keyfiles import read_or_create_secret

MAX_NAME = 63  # PostgreSQL's longest name, in bytes

if TYPE_CHECKING:
    from node.app.node import CircleNode

log = logging.getLogger("circle_node.store")


def event_store_env(settings: Settings) -> dict[str, str]:
    """The eventsourcing environment for these settings (no other source is consulted)."""
    check_encryption_unchanged(settings)
    if settings.database_url:
        env = postgres_env(settings.database_url, settings.database_pool_size)
    else:
        # A folder the node makes is its owner's alone: the store holds personal data.
        settings.data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        private_store(settings.sqlite_path)
        env = {
            "PERSISTENCE_MODULE": "node.store.sqlite_store",
            "APPLICATION_RECORDER_TOPIC": "node.store.sqlite_recorder:SQLiteFeedRecorder",
            "SQLITE_DBNAME": str(settings.sqlite_path),
            "SQLITE_LOCK_TIMEOUT": "10",
        }
    if settings.encrypt:
        key = read_or_create_secret(
            settings.store_key_path, lambda: AESCipher.create_key(32).encode()
        )
        env.update(
            CIPHER_TOPIC="eventsourcing.cryptography:AESCipher",
            CIPHER_KEY=key.decode().strip(),
            COMPRESSOR_TOPIC="eventsourcing.compressor:ZlibCompressor",
        )
    return env


def check_encryption_unchanged(settings: Settings) -> None:
    """Encryption is chosen when a node is made: a store is never turned from plain to
    encrypted or back (its events would not be read). Checked before anything is written."""
    key = settings.store_key_path
    if not settings.encrypt and key.exists():
        raise SettingsError(
            f"This node's store is encrypted ({key} exists): set encrypt = true in "
            f"{settings.data_dir / CONFIG_FILE}, or CIRCLE_NODE_ENCRYPT=1"
        )
    made = (settings.data_dir / KEYS_FILE).exists() or (
        not settings.database_url and settings.sqlite_path.exists()
    )
    if settings.encrypt and made and not key.exists():
        raise SettingsError(
            f"This node's store was made without encryption (there is no {key}), and a store "
            "cannot be encrypted once made: remove encrypt from "
            f"{settings.data_dir / CONFIG_FILE} or unset CIRCLE_NODE_ENCRYPT (if it was "
            "encrypted, its key is lost: restore store.key from a backup)"
        )


# The SQLite store and the files SQLite keeps beside it (its write-ahead log and shared memory).
STORE_SUFFIXES = ("", "-wal", "-shm", "-journal")


def private_store(path: Path) -> None:
    """The SQLite store holds the circle's personal data: it is its owner's alone (0600).

    The file is created 0600 before SQLite opens it (SQLite gives the files it makes beside a
    store, its -wal and -shm, the store's own mode). A store, or one of those files, that
    group or others may read or write (one restored from a backup, or made by an older
    version) is brought back to 0600."""
    if not path.exists():
        with contextlib.suppress(OSError):  # e.g. a read-only folder: SQLite will say so
            os.close(os.open(path, os.O_WRONLY | os.O_CREAT, 0o600))
    for suffix in STORE_SUFFIXES:
        file = path.with_name(path.name + suffix)
        try:
            mode = stat.S_IMODE(file.stat().st_mode)
        except FileNotFoundError:
            continue
        if mode & (stat.S_IRWXG | stat.S_IRWXO):
            private = mode & ~(stat.S_IRWXG | stat.S_IRWXO)
            try:
                os.chmod(file, private)
            except OSError as error:  # not its owner, or a read-only file system
                log.warning("%s can be read by others (mode %o): %s", file, mode, error)
            else:
                log.warning("%s could be read by others (mode %o): made %o", file, mode, private)


def postgres_env(url: str, pool_size: int = DEFAULT_POOL_SIZE) -> dict[str, str]:
    """The settings of eventsourcing's PostgreSQL store, with the process's one pool for the
    server and database (node/store/postgres_pool.py): `pool_size` connections, shared by every
    store the process opens there."""
    parsed = urlparse(url)
    dbname = parsed.path.lstrip("/")
    if not dbname:
        raise SettingsError(
            "The PostgreSQL URL must name a database, e.g. postgresql://host/circle"
        )
    env = {
        "PERSISTENCE_MODULE": "node.store.postgres_store",
        "APPLICATION_RECORDER_TOPIC": "node.store.postgres_recorder:PostgresFeedRecorder",
        "POSTGRES_DBNAME": unquote(dbname),
        "POSTGRES_HOST": parsed.hostname or "localhost",
        "POSTGRES_PORT": str(parsed.port or 5432),
        "POSTGRES_USER": unquote(parsed.username or "postgres"),
        "POSTGRES_PASSWORD": unquote(parsed.password or ""),
        "POSTGRES_CONNECT_TIMEOUT": "5",
        "POSTGRES_POOL_SIZE": str(pool_size),
        "POSTGRES_MAX_OVERFLOW": "0",
        # Check a pooled connection before use: after a server restart, dead connections are
        # replaced instead of failing the next commands. The process's shared pool does it
        # without a round trip (node/store/postgres_pool.py, `checked_if_spoken_to`).
        "POSTGRES_PRE_PING": "y",
    }
    schema = parse_qs(parsed.query).get("schema", [""])[0]
    if schema:
        if not re.fullmatch(r"[A-Za-z0-9_]+", schema):
            raise SettingsError("A schema name uses ASCII letters, digits and underscores only")
        if len(schema.encode("ascii")) > MAX_NAME:
            raise SettingsError(
                f"A schema name is {MAX_NAME} characters at most: PostgreSQL cuts longer ones short"
            )
        env["POSTGRES_SCHEMA"] = schema
    return env


def ensure_postgres_schema(env: dict[str, str]) -> None:
    """Create the node's schema if the URL named one (eventsourcing expects it to exist).

    It is made on a connection of the process's shared pool when the process holds one for
    the server (node/store/postgres_pool.py): a host that opens many circles, one schema each,
    makes them all on the pool's connections, not on a new connection per circle."""
    schema = env.get("POSTGRES_SCHEMA")
    if not schema:
        return
    import psycopg
    from eventsourcing.persistence import OperationalError
    from psycopg import sql

    from node.store.postgres_copy import connect, connection_params
    from node.store.postgres_pool import pooled_connection

    create = sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(sql.Identifier(schema))
    try:
        with pooled_connection(connection_params(env)) as pooled:
            if pooled is not None:
                pooled.execute(create)
                return
        with connect(env, autocommit=True) as connection:
            connection.execute(create)
    except psycopg.OperationalError as error:
        # The server is down or refuses the login: reported as the store being unavailable,
        # as eventsourcing's own connections report it (one line from the CLI, 503 when serving).
        raise OperationalError(" ".join(str(error).split())) from None


def open_node(settings: Settings, clock: Any = None, *, federated: bool = True) -> CircleNode:
    """Open (or create) the node's event store and identity as the settings say."""
    from node.app.node import CircleNode
    from node.app.records import utc_now
    from node.network.identity import (
        commit_rotation,
        discard_rotation,
        forget_new_keys,
        load_or_create_keys,
        pending_keys,
    )
    from node.network.own_feed import IdentityError

    env = event_store_env(settings)
    if env["PERSISTENCE_MODULE"] == "node.store.postgres_store":
        ensure_postgres_schema(env)
    from node.network.take_back import TAKE_BACK_FILE

    keys, created = load_or_create_keys(settings.data_dir) if federated else (None, False)
    flag = settings.data_dir / TAKE_BACK_FILE
    try:
        node = CircleNode(env=env, clock=clock or utc_now, keys=keys, take_back_flag=flag)
    except IdentityError:
        # A rotation was saved but its keys not yet moved into place: finish it.
        pending = pending_keys(settings.data_dir)
        if pending is None:
            if created:
                forget_new_keys(settings.data_dir)
                raise IdentityError(
                    f"{settings.data_dir / 'node.keys'} is missing but this node's feed exists; "
                    "restore node.keys from a backup"
                ) from None
            raise
        node = CircleNode(env=env, clock=clock or utc_now, keys=pending, take_back_flag=flag)
        commit_rotation(settings.data_dir)
        return node
    discard_rotation(settings.data_dir)
    return node


def recover_node_feed(node: CircleNode, settings: Settings, after: int) -> int:
    """Recover the feed with a superseding rotation right after own entry `after`: stage the
    new keys, save the rotation with every delivery cursor rewound to it, then commit the
    keys; a restored node that was taking its feed back signs again. Returns the rotation's
    seq."""
    from node.network.feeds import delivery_id
    from node.network.identity import commit_rotation, stage_rotation

    deliveries = []
    for peer in node.peering.peers():
        if delivery_id(peer.feed_id) in node.store.repository:
            delivery = node.outbox.delivery(peer.feed_id)
            if delivery.rewind(after + 1):
                deliveries.append(delivery)
    node.feed.supersede(
        after, stage=lambda keys: stage_rotation(settings.data_dir, keys), also=deliveries
    )
    commit_rotation(settings.data_dir)
    node.take_back.superseded()  # a restored node: nothing is to be taken back now
    return after + 1


def rotate_node_key(node: CircleNode, settings: Settings) -> None:
    """Rotate the node's key: stage the new keys, save the rotation entry, then commit them."""
    from node.network.identity import commit_rotation, stage_rotation

    node.feed.rotate_key(stage=lambda keys: stage_rotation(settings.data_dir, keys))
    commit_rotation(settings.data_dir)
