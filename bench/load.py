"""The HTTP load client of the API scenarios: concurrent aiohttp clients, each sending its own
list of requests one after another; wall time, request rate and latency percentiles."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import aiohttp


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    headers: dict[str, str]
    json: Any = None


@dataclass(frozen=True)
class LoadResult:
    requests: int
    seconds: float
    latencies: list[float]  # seconds, sorted
    failures: int
    first_failure: str

    @property
    def rate(self) -> float:
        return self.requests / self.seconds

    def percentile(self, p: float) -> float:
        """The p-th percentile latency in milliseconds (nearest rank)."""
        if not self.latencies:
            return float("nan")
        rank = max(0, min(len(self.latencies) - 1, round(p / 100 * len(self.latencies)) - 1))
        return self.latencies[rank] * 1000


async def _client(
    session: aiohttp.ClientSession,
    base: str,
    requests: Sequence[Request],
    expect: int,
    latencies: list[float],
    failures: list[str],
) -> None:
    for request in requests:
        start = time.perf_counter()
        async with session.request(
            request.method, base + request.path, headers=request.headers, json=request.json
        ) as response:
            body = await response.read()
        latencies.append(time.perf_counter() - start)
        if response.status != expect:
            failures.append(f"{request.method} {request.path}: {response.status} {body[:200]!r}")


async def _run(base: str, clients: Sequence[Sequence[Request]], expect: int) -> LoadResult:
    connector = aiohttp.TCPConnector(limit=0, force_close=False)
    async with aiohttp.ClientSession(connector=connector) as session:
        # Open one connection per client before timing (and let the server warm up a little).
        await asyncio.gather(*(session.get(base + "/healthz") for _ in clients))
        latencies: list[float] = []
        failures: list[str] = []
        start = time.perf_counter()
        await asyncio.gather(
            *(_client(session, base, work, expect, latencies, failures) for work in clients)
        )
        elapsed = time.perf_counter() - start
    return LoadResult(
        requests=sum(len(work) for work in clients),
        seconds=elapsed,
        latencies=sorted(latencies),
        failures=len(failures),
        first_failure=failures[0] if failures else "",
    )


def run_load(base: str, clients: Sequence[Sequence[Request]], expect: int = 201) -> LoadResult:
    """Send every client's requests, the clients concurrently; `expect` is the good status."""
    return asyncio.run(_run(base, clients, expect))
