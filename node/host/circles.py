"""Opening every circle of a host: each a node of its own, opened as a single node is, with the
circle's settings (node/host/layout.py)."""

from __future__ import annotations

import contextlib
import logging
import resource
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from node.app.node import CircleNode
from node.app.persistence import open_node
from node.host.layout import circle_settings, slugs
from node.host.moved_marker import moved_message, moved_to
from node.settings import Settings

log = logging.getLogger("circle_node.host")

# Files a circle holds open while served (its store and its WAL and shared memory, for a
# connection or two of each kind), with room to spare; and the process's own beside them
# (sockets of clients and peers, logs, libraries).
FILES_PER_CIRCLE = 16
FILES_OF_THE_PROCESS = 1024


@dataclass(frozen=True)
class HostedCircle:
    """One circle of a host, opened: its slug (its place, `/c/<slug>`), settings and node."""

    slug: str
    settings: Settings
    node: CircleNode


class CircleFailure(Exception):
    """A circle of the host could not be opened; the message names it and says why."""

    def __init__(self, slug: str, error: Exception) -> None:
        super().__init__(f"circle {slug!r}: {error}")
        self.slug = slug
        self.error = error


@contextlib.contextmanager
def opened_circles(host: Settings) -> Iterator[list[HostedCircle]]:
    """Every circle of the host, opened in slug order, and closed again on leaving. One that
    cannot be opened raises CircleFailure (from the error that stopped it), after closing
    those already open."""
    held = slugs(host.data_dir)
    allow_open_files(FILES_OF_THE_PROCESS + FILES_PER_CIRCLE * len(held))
    with contextlib.ExitStack() as stack:
        circles = []
        for slug in held:
            try:
                settings = circle_settings(host, slug)
                node = open_node(settings)
            except Exception as error:
                raise CircleFailure(slug, error) from error
            stack.callback(node.close)
            node.feed.gate = _gate(settings, slug)
            circles.append(HostedCircle(slug, settings, node))
        yield circles


def _gate(settings: Settings, slug: str) -> Callable[[], str | None]:
    """What the circle's feed writer asks before each signing: whether it has left the host."""
    folder = settings.data_dir

    def closed() -> str | None:
        url = moved_to(folder)
        return None if url is None else moved_message(slug, url)

    return closed


def allow_open_files(needed: int) -> int:
    """Raise the process's limit of open files (its soft limit, up to the hard limit the
    operator set) to `needed` if it is lower: a host's circles hold files open, and a
    service's default soft limit is often 1,024. Says so in the log when the hard limit is
    lower still. Returns the limit now in force."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft == resource.RLIM_INFINITY or soft >= needed:
        return soft
    wanted = needed if hard == resource.RLIM_INFINITY else min(needed, hard)
    if wanted > soft:
        resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))
    if wanted < needed:
        log.warning(
            "this host may need %d open files, and the process may hold at most %d "
            "(its hard limit): raise it (systemd: LimitNOFILE=; a shell: ulimit -Hn; "
            "docs/operating.md, 'Hosting a co-op's circles')",
            needed,
            wanted,
        )
    return wanted
