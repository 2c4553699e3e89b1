"""Retrying work that lost an optimistic-concurrency race."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import ParamSpec, TypeVar

from eventsourcing.persistence import IntegrityError

P = ParamSpec("P")
R = TypeVar("R")
CONFLICT_RETRIES = 5


def retry_on_conflict(method: Callable[P, R]) -> Callable[P, R]:
    """Run again, from a fresh load, when another writer saved the same aggregate first."""

    @functools.wraps(method)
    def retrying(*args: P.args, **kwargs: P.kwargs) -> R:
        for attempt in range(CONFLICT_RETRIES):
            try:
                return method(*args, **kwargs)
            except IntegrityError:
                if attempt == CONFLICT_RETRIES - 1:
                    raise
        raise AssertionError("unreachable")

    return retrying
