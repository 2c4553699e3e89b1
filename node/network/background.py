"""The store work of the node's background tasks (delivery, the calendar), and stopping it.

Cancelling a task that waits on a worker thread does not stop the thread: it goes on reading
the store while the task is gone. Closing the store under it crashed the process (SIGSEGV in
SQLite). So the background tasks run their store work through `BackgroundWork`, which counts
the work under way in the threads themselves; once it is stopped it refuses new work, and the
server waits for the work under way to end before the store is closed.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any, TypeVar

import anyio
from eventsourcing.persistence import PersistenceError

from node.network.store_outage import StoreOutage

R = TypeVar("R")


class Stopped(Exception):
    """The node is stopping: background work is no longer taken."""


class BackgroundWork:
    """Runs store work in worker threads, and knows when none is under way. Its tasks report
    their rounds to `outage` (node/network/store_outage.py)."""

    def __init__(self, store_failed: Callable[[PersistenceError], None] | None = None) -> None:
        # Told of work that failed on the store (the metrics count it), before it is raised.
        self._store_failed = store_failed
        self.outage = StoreOutage()
        self._lock = threading.Lock()
        self._idle = threading.Condition(self._lock)
        self._running = 0
        self._stopped = False

    @property
    def running(self) -> int:
        """How many calls are under way in threads now."""
        with self._lock:
            return self._running

    async def run(
        self,
        function: Callable[..., R],
        *args: Any,
        limiter: anyio.CapacityLimiter | None = None,
    ) -> R:
        """`function(*args)` in a worker thread (of `limiter`, or anyio's default ones);
        raises `Stopped` once `stop` was called, whether or not the thread had started."""
        return await anyio.to_thread.run_sync(self._counted, function, args, limiter=limiter)

    def _counted(self, function: Callable[..., R], args: tuple[Any, ...]) -> R:
        # Counted in the thread: a call whose task was cancelled before its thread took it
        # never runs, and one that runs is counted from before it touches the store.
        with self._lock:
            if self._stopped:
                raise Stopped("the node is stopping")
            self._running += 1
        try:
            return function(*args)
        except PersistenceError as error:
            if self._store_failed is not None:
                self._store_failed(error)
            raise
        finally:
            with self._lock:
                self._running -= 1
                if not self._running:
                    self._idle.notify_all()

    def stop(self, timeout: float) -> bool:
        """Refuse new work and wait (at most `timeout` seconds) for the work under way to end;
        True when none is left. Blocks: call it from a thread, or once the loop is done."""
        deadline = time.monotonic() + timeout
        with self._lock:
            self._stopped = True
            while self._running:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._idle.wait(left)
            return True
