"""What the federation reports as it works (metrics), and where its parts find the reporter."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, Protocol, TypeVar

from federation.verify import Rejected

R = TypeVar("R")


class Observer:
    """What the federation reports as it works (metrics); by default, nothing."""

    def appended(self, count: int) -> None:
        """Entries appended to the own feed."""

    def received(self, peer: bytes, count: int) -> None:
        """Entries of a peer's feed verified and stored."""

    def rejected(self, reason: str) -> None:
        """An entry, page or push refused, by its machine-readable reason."""

    def delivery_failed(self, peer: bytes, direction: str) -> None:
        """A push to (`direction` "push") or pull from ("pull") a peer did not reach it, or
        the peer took nothing of a push."""

    def contacted(self, peer: bytes) -> None:
        """A push or a pull reached the peer, now."""

    def behind(self, peer: bytes, entries: int) -> None:
        """The peer's feed holds `entries` beyond what was pulled, as its last page said."""

    def store_error(self, error: BaseException) -> None:
        """Work failed on the store (unreachable, read-only, or every retry conflicted)."""

    def mail_queued(self) -> None:
        """Letters were queued to be sent (node/app/mail_queue.py), in a save just made."""


class Reports:
    """The observer the node's parts report to; the server replaces it once it serves."""

    def __init__(self) -> None:
        self.observer: Observer = Observer()


class Reporting(Protocol):
    reports: Reports


def counting_refusals(method: Callable[..., R]) -> Callable[..., R]:
    """Report a refusal of a whole push or page to the observer before it is raised."""

    @functools.wraps(method)
    def counted(self: Reporting, *args: Any, **kwargs: Any) -> R:
        try:
            return method(self, *args, **kwargs)
        except Rejected as rejected:
            self.reports.observer.rejected(str(rejected.reason))
            raise

    return counted
