"""Progress bars on the terminal (stderr) for the commands that take a while."""

from __future__ import annotations

import sys
from typing import Any

import typer


def progress_bar(label: str) -> Any:
    """A progress callback drawing on the terminal (stderr), one bar per kind of work."""
    bars: dict[str, Any] = {}

    def progress(what: str, done: int, total: int) -> None:
        bar = bars.get(what)
        if bar is None:
            bar = bars[what] = typer.progressbar(
                length=total, label=f"{label} {what}", file=sys.stderr
            )
            bar.__enter__()
        bar.update(done - bar.pos)
        if done >= total:
            bar.__exit__(None, None, None)

    return progress
