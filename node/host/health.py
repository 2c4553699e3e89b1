"""The host's `/healthz`: each circle's status, node id and head, read from its store.

A read of a store that is down gives up only after a while (on PostgreSQL, eventsourcing's
retries of each read: docs/operating.md, "Docker"). So the circles' stores are read at the same
time, a few at once (`READS_AT_ONCE`, in threads of their own, not the requests'), and the
answer is given when every read is over or as soon as one gives up: it takes about one
give-up at most, whatever the number of circles. The circles not read by then are said
`unknown`; a read under way then goes on in its thread, unwaited, and ends on its own.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from eventsourcing.persistence import PersistenceError

from node.host.circles import HostedCircle
from node.host.moved_marker import moved_to

# Stores read at once for one answer.
READS_AT_ONCE = 8
STORE_UNAVAILABLE = "store_unavailable"


class HostHealth:
    """Reads the health of every circle of the host (`answer`); `close` as the host stops."""

    def __init__(self, circles: Sequence[HostedCircle]) -> None:
        self._circles = list(circles)
        self._threads = ThreadPoolExecutor(READS_AT_ONCE, thread_name_prefix="healthz")

    async def answer(self) -> tuple[bool, dict[str, dict[str, Any]]]:
        """Whether every store could be read, and each circle's health by slug."""
        loop = asyncio.get_running_loop()
        reads = {
            circle.slug: loop.run_in_executor(self._threads, circle_health, circle)
            for circle in self._circles
        }
        pending: set[asyncio.Future[dict[str, Any]]] = set(reads.values())
        try:
            while pending:
                done, pending = await asyncio.wait(pending, return_when=asyncio.FIRST_COMPLETED)
                if any(read.result()["status"] == STORE_UNAVAILABLE for read in done):
                    break  # the answer is 503 whatever the others say: not waited for
        finally:
            for read in pending:
                read.cancel()  # one not yet started never starts
        health = {}
        for circle in self._circles:
            read = reads[circle.slug]
            if read.done() and not read.cancelled():
                health[circle.slug] = read.result()
            else:
                health[circle.slug] = {"status": "unknown", "node": _node_id(circle), "head": None}
        available = all(each["status"] != STORE_UNAVAILABLE for each in health.values())
        return available, health

    def close(self) -> None:
        with contextlib.suppress(RuntimeError):
            self._threads.shutdown(wait=False, cancel_futures=True)


def circle_health(circle: HostedCircle) -> dict[str, Any]:
    """One circle's status (`ok`, `taking_back`, `store_unavailable`, or `moved` with the URL
    it moved to), node id and head."""
    node = circle.node
    url = moved_to(circle.settings.data_dir)
    if url is not None:
        return {"status": "moved", "node": _node_id(circle), "moved_to": url}
    try:
        head = node.feed.own_feed().head
        taking_back = node.take_back.pending
    except PersistenceError:
        return {"status": STORE_UNAVAILABLE, "node": _node_id(circle), "head": None}
    return {
        "status": "taking_back" if taking_back else "ok",
        "node": _node_id(circle),
        "head": head,
    }


def _node_id(circle: HostedCircle) -> str:
    return circle.node.feed.node_id
