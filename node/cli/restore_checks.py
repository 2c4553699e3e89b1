"""What a restore (node/cli/restore.py) checks of the node it brings back, before it reports
success: the SQLite store's integrity; that it was not written by a newer circle-node (which
it would misread: node/store/written_by.py); the node's own feed, whole, from its inception (hash
chain and every signature); and that the key file holds the key that feed is signed with now.
A failed check is a BackupError in one line."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import TYPE_CHECKING

from federation.verify import Rejected, decode_signed_entry
from node.cli.backup import STORE_KEY, BackupError
from node.network.identity import KEYS_FILE
from node.settings import Settings

if TYPE_CHECKING:
    from node.app.node import CircleNode


def check_integrity(path: Path) -> None:
    connection = sqlite3.connect(path)
    try:
        (result,) = connection.execute("PRAGMA integrity_check").fetchone()
    except sqlite3.DatabaseError as error:
        raise BackupError(f"the restored store is damaged: {error}") from None
    finally:
        connection.close()
    if result != "ok":
        raise BackupError(f"the restored store is damaged: {result}")


def check_node(settings: Settings, names: list[str]) -> tuple[str, int]:
    """The restored node's own feed verifies, whole, from its inception, and the key file
    holds the key it is signed with now: (node id, head)."""
    from node.app.persistence import open_node
    from node.store.written_by import StoreTooNew

    if settings.encrypt and STORE_KEY not in names:
        raise BackupError(
            f"the settings say the store is encrypted, but the backup has no {STORE_KEY}"
        )
    # Whatever a damaged or foreign store makes the node's code raise (a wrong store key, rows
    # that do not decode, a missing table) is a failed check of the restore, in one line.
    try:
        node = open_node(settings, federated=False)
    except StoreTooNew as error:  # refused before anything of it was read
        raise BackupError(
            f"the backup's store was last written by circle-node {error.stored}, newer than "
            f"this {error.running}: restore it with circle-node {error.stored} or later"
        ) from None
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
