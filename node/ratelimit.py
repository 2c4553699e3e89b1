"""A token bucket per client, for requests from nodes this one does not know."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass
class RateLimiter:
    """Allow `burst` requests at once per key, refilled at `per_minute` a minute."""

    per_minute: float = 6.0
    burst: float = 3.0
    clock: Callable[[], float] = time.monotonic
    max_keys: int = 10_000
    _buckets: dict[str, tuple[float, float]] = field(default_factory=dict)

    def allow(self, key: str) -> bool:
        now = self.clock()
        tokens, last = self._buckets.get(key, (self.burst, now))
        tokens = min(self.burst, tokens + (now - last) * self.per_minute / 60.0)
        allowed = tokens >= 1.0
        if allowed:
            tokens -= 1.0
        if len(self._buckets) >= self.max_keys and key not in self._buckets:
            self._buckets.clear()  # forget old clients rather than grow without bound
        self._buckets[key] = (tokens, now)
        return allowed

    def retry_after(self, key: str) -> int:
        tokens, _ = self._buckets.get(key, (0.0, 0.0))
        return max(1, round((1.0 - tokens) * 60.0 / self.per_minute))
