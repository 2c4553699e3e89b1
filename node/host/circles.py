"""Opening every circle of a host: each a node of its own, opened as a single node is, with the
circle's settings (node/host/layout.py)."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from node.app.node import CircleNode
from node.app.persistence import open_node
from node.host.layout import circle_settings, slugs
from node.host.leaving import moved_message, moved_to
from node.settings import Settings


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
    with contextlib.ExitStack() as stack:
        circles = []
        for slug in slugs(host.data_dir):
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
