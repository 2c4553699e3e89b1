"""Retry timing for pushes to a peer: exponential backoff with full jitter, capped."""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Backoff:
    """Delay before retry number `attempt` (1 for the first retry): uniform in
    [0, min(cap, base * 2 ** (attempt - 1))]. Full jitter spreads retries of many nodes apart."""

    base: float = 0.5
    cap: float = 300.0

    # Past this many doublings the cap is reached anyway; unbounded, 2 ** 1024 overflows a
    # float (a peer down for about two days at a 300 s cap), and backoff stopped working.
    MAX_DOUBLINGS = 62

    def ceiling(self, attempt: int) -> float:
        return min(self.cap, self.base * 2 ** min(max(attempt - 1, 0), self.MAX_DOUBLINGS))

    def delay(self, attempt: int, rand: Callable[[], float] = random.random) -> float:
        return self.ceiling(attempt) * rand()
