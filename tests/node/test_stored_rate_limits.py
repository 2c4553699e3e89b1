"""Rate limits kept in the store (node/store/rate_buckets.py): two stores opened on one SQLite
file or one PostgreSQL schema, as two workers have them, count in the same buckets, and never
both take the last token."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from node.app.node import CircleNode
from node.app.persistence import open_node
from node.http.ratelimit import RateLimiter, StoredRateLimiter, rate_limiter
from node.http.server import ServerOptions, create_app
from node.settings import Settings

Pair = tuple[CircleNode, CircleNode]


@pytest.fixture(params=["sqlite", "postgres"])
def two_workers(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Pair]:
    """Two stores opened on the same store, as two workers open it."""
    url = request.getfixturevalue("postgres_url") if request.param == "postgres" else None
    settings = Settings(data_dir=tmp_path / "node", database_url=url)
    first = open_node(settings)
    second = open_node(settings)
    yield first, second
    first.close()
    second.close()


def _limiters(pair: Pair, now: list[float], burst: float = 3.0) -> list[StoredRateLimiter]:
    made = [rate_limiter(node.store, "sign_in", per_minute=6.0, burst=burst) for node in pair]
    for limiter in made:
        assert isinstance(limiter, StoredRateLimiter)
        limiter.clock = lambda: now[0]
    return made  # type: ignore[return-value]


def test_two_workers_count_in_the_same_buckets(two_workers: Pair) -> None:
    now = [1_000_000.0]
    one, two = _limiters(two_workers, now)
    assert one.allow("198.51.100.7") and two.allow("198.51.100.7") and one.allow("198.51.100.7")
    # The burst of three is spent, whichever worker counted it.
    assert not two.allow("198.51.100.7")
    assert one.refusing("198.51.100.7") and two.refusing("198.51.100.7")
    assert two.retry_after("198.51.100.7") == 10  # one token a 10 seconds
    # Another client, and another limiter, have buckets of their own.
    assert not one.refusing("198.51.100.8") and one.allow("198.51.100.8")
    joins = rate_limiter(two_workers[1].store, "join", per_minute=6.0, burst=3.0)
    assert joins.allow("198.51.100.7")
    # Refilled at six a minute: one more after 10 seconds, then refused again.
    now[0] += 10.0
    assert not one.refusing("198.51.100.7")
    assert two.allow("198.51.100.7")
    assert not one.allow("198.51.100.7")


def test_two_workers_never_both_take_the_last_token(two_workers: Pair) -> None:
    now = [2_000_000.0]
    burst = 5
    limiters = _limiters(two_workers, now, burst=float(burst)) * 4  # eight threads, two stores
    allowed: list[bool] = []
    start = threading.Barrier(len(limiters))

    def hammer(limiter: StoredRateLimiter) -> None:
        start.wait()
        for _ in range(5):
            allowed.append(limiter.allow("203.0.113.9"))

    threads = [threading.Thread(target=hammer, args=(limiter,)) for limiter in limiters]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(allowed) == 40 and allowed.count(True) == burst


def test_buckets_full_again_are_forgotten(two_workers: Pair) -> None:
    now = [3_000_000.0]
    one, _ = _limiters(two_workers, now)
    buckets = two_workers[0].store.rate_buckets
    assert buckets is not None
    for client in ("192.0.2.1", "192.0.2.2"):
        one.allow(client)
    assert buckets.tokens("sign_in", "192.0.2.1", now[0], 3.0, 0.1) == 2.0
    now[0] += 31.0  # three tokens at six a minute: full again after 30 seconds
    one.allow("192.0.2.3")
    assert buckets.tokens("sign_in", "192.0.2.1", now[0], 3.0, 0.1) is None
    assert buckets.tokens("sign_in", "192.0.2.3", now[0], 3.0, 0.1) == 2.0
    one.clear()
    assert buckets.tokens("sign_in", "192.0.2.3", now[0], 3.0, 0.1) is None


def test_the_in_memory_store_keeps_its_limits_in_the_process(clock: object) -> None:
    node = CircleNode(env={"PERSISTENCE_MODULE": "node.store.memory_store"})
    assert node.store.rate_buckets is None
    assert isinstance(rate_limiter(node.store, "join", 6.0, 3.0), RateLimiter)


def test_wrong_tokens_through_two_workers_share_one_limit(two_workers: Pair) -> None:
    """The member API's limit on wrong personal tokens, through two apps on one store."""
    options = ServerOptions(public_url="http://testserver")
    clients = [TestClient(create_app(node, None, options)) for node in two_workers]
    wrong = {"Authorization": "Bearer not-a-token"}
    statuses = [clients[n % 2].get("/api/circle", headers=wrong).status_code for n in range(12)]
    # Ten wrong tokens at once per client address, whichever worker they reach; then 429.
    assert statuses == [401] * 10 + [429] * 2
    refused = clients[1].get("/api/circle", headers=wrong)
    assert refused.status_code == 429 and refused.headers["retry-after"].isdigit()
