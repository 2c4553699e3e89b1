"""The marker that says a circle left its host: `moved-away` in the circle's folder, its new URL
on one line, written durably by `circle-node host release` (node/cli/leaving.py) before it signs
the circle's `node.moved` entry. What the host answers for such a circle is node/host/leaving.py;
this module is the marker alone, read by the commands too (without the HTTP layer).

The marker is never removed by the node: a circle that left is restored elsewhere, not here.
"""

from __future__ import annotations

import os
from pathlib import Path

MOVED_FILE = "moved-away"


def moved_to(folder: Path) -> str | None:
    """The URL the circle in `folder` moved to, if it left this host (its marker)."""
    try:
        text = (folder / MOVED_FILE).read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    return text.strip() or "(an unknown URL)"


def mark_moved(folder: Path, url: str) -> None:
    """Write the marker durably: into a file of its own, flushed to disk, renamed into place,
    and the folder flushed, so that a crash after this returns never loses it."""
    part = folder / (MOVED_FILE + ".part")
    part.unlink(missing_ok=True)
    fd = os.open(part, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as file:
        file.write(url + "\n")
        file.flush()
        os.fsync(file.fileno())
    part.replace(folder / MOVED_FILE)
    directory = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(directory)
    finally:
        os.close(directory)


def moved_message(slug: str, url: str) -> str:
    return (
        f"circle {slug!r} has left this host: it moved to {url} (`circle-node host release`), "
        "and nothing is signed for it here any more"
    )
