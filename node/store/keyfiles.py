"""Secret files (keys) in the data folder: created with mode 0600, refused if others can read."""

from __future__ import annotations

import os
import stat
from collections.abc import Callable
from pathlib import Path


class KeyFileError(Exception):
    """A secret file is missing, unreadable or readable by others."""


def read_secret(path: Path) -> bytes:
    """Read a secret file, refusing one that group or others may read or write."""
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        raise KeyFileError(f"{path} is missing") from None
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise KeyFileError(
            f"{path} can be read by others (mode {stat.S_IMODE(mode):o}); "
            f"run `chmod 600 {path}` and start again"
        )
    return path.read_bytes()


def write_secret(path: Path, content: bytes) -> None:
    """Create a secret file with mode 0600; never overwrite an existing one."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as file:
        file.write(content)


def read_or_create_secret(path: Path, make: Callable[[], bytes]) -> bytes:
    if not path.exists():
        write_secret(path, make())
    return read_secret(path)
