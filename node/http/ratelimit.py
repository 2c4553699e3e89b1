"""A token bucket per client: for pushes from nodes this one does not know, sign-ins, and
wrong personal tokens on the member API.

On SQLite and PostgreSQL the buckets are kept in the store (`StoredRateLimiter`,
node/store/rate_buckets.py), so that a limit holds across the workers serving one store; with
the in-memory store, in the process (`RateLimiter`). `rate_limiter` gives the one that fits.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

from node.store.application import NodeStore
from node.store.rate_buckets import RateBuckets


class Limiter(Protocol):
    burst: float

    def allow(self, key: str) -> bool:
        """Count a request from `key`: whether it is allowed."""
        ...

    def refusing(self, key: str) -> bool:
        """Whether `allow(key)` would refuse now (nothing is counted)."""
        ...

    def retry_after(self, key: str) -> int:
        """Seconds until `key` may try again."""
        ...

    def clear(self) -> None:
        """Forget every client (tests)."""
        ...


def rate_limiter(store: NodeStore, name: str, per_minute: float, burst: float) -> Limiter:
    """The limiter `name`: its buckets in the store where it keeps a table for them, else in
    the process."""
    buckets = store.rate_buckets
    if buckets is None:
        return RateLimiter(per_minute=per_minute, burst=burst)
    return StoredRateLimiter(buckets, name, per_minute=per_minute, burst=burst)


@dataclass
class StoredRateLimiter:
    """Allow `burst` requests at once per key, refilled at `per_minute` a minute, the buckets
    kept in the store under the limiter's `name`: every worker on the store counts in the same
    buckets, and a token is taken by one statement (two workers never both take the last one).

    The clock is the wall clock (the workers' monotonic clocks do not agree). Buckets full again
    are forgotten now and then (forgetting one changes nothing: it would start full anyway).
    """

    buckets: RateBuckets
    name: str
    per_minute: float = 6.0
    burst: float = 3.0
    clock: Callable[[], float] = time.time
    _forgotten: float = 0.0

    def allow(self, key: str) -> bool:
        now = self.clock()
        self._forget_full(now)
        return self.buckets.take(self.name, key, now, self.burst, self._per_second)

    def refusing(self, key: str) -> bool:
        tokens = self._tokens(key)
        return tokens is not None and tokens < 1.0

    def retry_after(self, key: str) -> int:
        tokens = self._tokens(key) or 0.0
        return max(1, round((1.0 - tokens) * 60.0 / self.per_minute))

    def clear(self) -> None:
        self.buckets.forget(self.name)

    @property
    def _per_second(self) -> float:
        return self.per_minute / 60.0

    def _tokens(self, key: str) -> float | None:
        return self.buckets.tokens(self.name, key, self.clock(), self.burst, self._per_second)

    def _forget_full(self, now: float) -> None:
        """Forget the buckets that have filled up again, at most once per refill time."""
        refill = self.burst / self._per_second
        if now - self._forgotten >= refill:
            self._forgotten = now
            self.buckets.forget(self.name, now - refill)


@dataclass
class RateLimiter:
    """Allow `burst` requests at once per key, refilled at `per_minute` a minute.

    At most `max_keys` clients are tracked. A client whose bucket has filled up again is
    forgotten first (forgetting it changes nothing: it would start full anyway). A bucket that
    still limits its client is never forgotten, so that no one can reset a limit by sending
    from many addresses: while every tracked bucket is still refilling, clients not tracked
    share one more bucket of the same size, which limits them all together.
    """

    per_minute: float = 6.0
    burst: float = 3.0
    clock: Callable[[], float] = time.monotonic
    max_keys: int = 10_000
    # key -> (tokens, when last counted), the least recently counted first.
    _buckets: OrderedDict[str, tuple[float, float]] = field(default_factory=OrderedDict)
    _overflow: tuple[float, float] | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def allow(self, key: str) -> bool:
        with self._lock:  # sign-in forms are served by a pool of threads
            return self._allow(key, self.clock())

    def _allow(self, key: str, now: float) -> bool:
        self._forget_full(now)
        if key in self._buckets:
            bucket: tuple[float, float] | None = self._buckets.pop(key)
        elif len(self._buckets) < self.max_keys:
            bucket = None
        else:
            # Every tracked client is still limited: the untracked share one bucket.
            allowed, self._overflow = self._take(self._overflow, now)
            return allowed
        allowed, self._buckets[key] = self._take(bucket, now)  # now the most recent
        return allowed

    def refusing(self, key: str) -> bool:
        """Whether `allow(key)` would refuse now (nothing is counted): a client over its limit
        is refused before anything it sent is looked at."""
        with self._lock:
            now = self.clock()
            if key in self._buckets:
                bucket: tuple[float, float] | None = self._buckets[key]
            elif len(self._buckets) < self.max_keys:
                return False  # a new client starts full
            else:
                bucket = self._overflow
        return bucket is not None and self._refilled(bucket, now) < 1.0

    def clear(self) -> None:
        with self._lock:
            self._buckets.clear()
            self._overflow = None

    def retry_after(self, key: str) -> int:
        with self._lock:
            bucket = self._buckets.get(key, self._overflow)
        tokens = 0.0 if bucket is None else self._refilled(bucket, self.clock())
        return max(1, round((1.0 - tokens) * 60.0 / self.per_minute))

    def _take(
        self, bucket: tuple[float, float] | None, now: float
    ) -> tuple[bool, tuple[float, float]]:
        tokens = self.burst if bucket is None else self._refilled(bucket, now)
        if tokens >= 1.0:
            return True, (tokens - 1.0, now)
        return False, (tokens, now)

    def _refilled(self, bucket: tuple[float, float], now: float) -> float:
        tokens, last = bucket
        return min(self.burst, tokens + max(0.0, now - last) * self.per_minute / 60.0)

    def _forget_full(self, now: float) -> None:
        """Forget the clients whose buckets are full again, the least recently counted first, up
        to the first one still refilling (any full ones after it go on a later call)."""
        while self._buckets:
            key, bucket = next(iter(self._buckets.items()))
            if self._refilled(bucket, now) < self.burst:
                break
            del self._buckets[key]
        if self._overflow is not None and self._refilled(self._overflow, now) >= self.burst:
            self._overflow = None
