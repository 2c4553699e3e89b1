"""Hearing that another process committed to a SQLite store, so that a node served here pushes
at once what a command run beside the server (`circle-node move`, `decide`...) appended.

A commit in WAL mode writes the store's `-wal` file: the operating system tells of it
(inotify on Linux, through `watchfiles`, the library uvicorn's reloader uses). One watcher
serves every store the process serves: it watches their folders, not recursively, and keeps
only their `-wal` files. Waiting for a change costs nothing while no one writes, however many
stores there are; a store is read only once one changed. The process's own commits are heard
too (telling them apart would cost a read per commit): they cost a push round that finds
little, after the one the append itself woke.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Collection
from pathlib import Path

log = logging.getLogger("circle_node.store.notices")


def wal_file(db_name: str) -> Path | None:
    """The file a commit to the SQLite store `db_name` writes; None for one in memory."""
    if not db_name or ":memory:" in db_name or "mode=memory" in db_name:
        return None
    path = Path(db_name.removeprefix("file:").partition("?")[0])
    return path.parent.resolve() / f"{path.name}-wal"


async def watch(files: Collection[Path], changed: Callable[[Path], None]) -> None:
    """Call `changed(file)` (from the loop) each time one of `files` is written, until
    cancelled. If the operating system cannot watch them (too many watches, no inotify), say so
    once and return: the safety poll finds the changes meanwhile."""
    if not files:
        return
    from watchfiles import awatch

    wanted = {str(file) for file in files}
    folders = sorted({str(file.parent) for file in files})
    try:
        async for changes in awatch(
            *folders,
            watch_filter=lambda _change, path: path in wanted,
            recursive=False,
            ignore_permission_denied=True,
        ):
            for _change, path in changes:
                changed(Path(path))
    except (OSError, RuntimeError) as error:
        log.warning(
            "cannot watch the stores for other processes' commits (looking now and then "
            "instead): %s",
            error,
        )
