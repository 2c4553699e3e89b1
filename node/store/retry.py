"""Retrying work that lost an optimistic-concurrency race."""

from __future__ import annotations

import functools
import random
import threading
import time
from collections.abc import Callable
from typing import ParamSpec, TypeVar

from eventsourcing.persistence import IntegrityError

P = ParamSpec("P")
R = TypeVar("R")
CONFLICT_RETRIES = 20
# Between attempts, a random wait up to BASE * 2**attempt seconds (at most CAP): writers that
# collided do not collide again at once (with several at a time, immediate retries kept
# colliding, and a command failed after its last attempt).
BACKOFF_BASE = 0.002
BACKOFF_CAP = 0.2
# Retries in one process take turns: a retry then competes only with first attempts.
_retrying = threading.RLock()
# Told of each retry (the metrics count them); set by `count_conflict_retries`.
_retried: list[Callable[[], None]] = []


def count_conflict_retries(listener: Callable[[], None]) -> None:
    """Call `listener` each time a change is tried again after a conflict, in this process."""
    _retried[:] = [listener]


def retry_on_conflict(method: Callable[P, R]) -> Callable[P, R]:
    """Run again, from a fresh load, when another writer saved the same aggregate first."""

    @functools.wraps(method)
    def retrying(*args: P.args, **kwargs: P.kwargs) -> R:
        for attempt in range(CONFLICT_RETRIES):
            try:
                if attempt == 0:
                    return method(*args, **kwargs)
                with _retrying:
                    return method(*args, **kwargs)
            except IntegrityError:
                if attempt == CONFLICT_RETRIES - 1:
                    raise
                for listener in _retried:
                    listener()
                time.sleep(random.uniform(0, min(BACKOFF_CAP, BACKOFF_BASE * 2**attempt)))
        raise AssertionError("unreachable")

    return retrying
