"""The node's keys on disk: `node.keys` in the data folder (mode 0600), and key rotation.

The file holds the 32-byte seeds of the current key and of the pre-committed next key. A
rotation writes the new keys to `node.keys.pending` before the rotation entry is saved and
moves them into place after, so a crash at any point leaves keys that match the feed.
"""

from __future__ import annotations

import os
from pathlib import Path

from federation.keys import NodeKeys, private_bytes
from node.store.keyfiles import KeyFileError, read_secret, write_secret

KEYS_FILE = "node.keys"
PENDING_FILE = "node.keys.pending"


def _decode(path: Path) -> NodeKeys:
    raw = read_secret(path)
    if len(raw) != 64:
        raise KeyFileError(f"{path} is not a circle-node key file (expected 64 bytes)")
    return NodeKeys.from_seeds(raw[:32], raw[32:])


def _encode(keys: NodeKeys) -> bytes:
    return private_bytes(keys.current) + private_bytes(keys.next)


def load_or_create_keys(data_dir: Path) -> tuple[NodeKeys, bool]:
    """The node's keys, made on first use; the flag says whether they were just made."""
    path = data_dir / KEYS_FILE
    created = not path.exists()
    if created:
        write_secret(path, _encode(NodeKeys.generate()))
    return _decode(path), created


def forget_new_keys(data_dir: Path) -> None:
    (data_dir / KEYS_FILE).unlink(missing_ok=True)


def pending_keys(data_dir: Path) -> NodeKeys | None:
    path = data_dir / PENDING_FILE
    return _decode(path) if path.exists() else None


def stage_rotation(data_dir: Path, keys: NodeKeys) -> None:
    path = data_dir / PENDING_FILE
    path.unlink(missing_ok=True)
    write_secret(path, _encode(keys))


def commit_rotation(data_dir: Path) -> None:
    os.replace(data_dir / PENDING_FILE, data_dir / KEYS_FILE)


def discard_rotation(data_dir: Path) -> None:
    (data_dir / PENDING_FILE).unlink(missing_ok=True)


class KeyStore:
    """The node's keys as the key file holds them now: re-read when another process (such as
    `circle-node rotate-key`) replaced the file."""

    def __init__(self, data_dir: Path, keys: NodeKeys) -> None:
        self.path = data_dir / KEYS_FILE
        self._keys = keys
        self._stamp = self._mtime()

    def _mtime(self) -> int:
        try:
            return self.path.stat().st_mtime_ns
        except FileNotFoundError:
            return 0

    def current(self) -> NodeKeys:
        stamp = self._mtime()
        if stamp != self._stamp:
            self._keys = _decode(self.path)
            self._stamp = stamp
        return self._keys
