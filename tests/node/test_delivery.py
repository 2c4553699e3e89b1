"""The outbox pusher and the puller, driven by a controllable clock and a fake network."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

import pytest

from federation.backoff import Backoff
from federation.client import TransportError
from federation.wire import FeedPage, Push, PushReply
from node.app.node import CircleNode
from node.app.persistence import open_node
from node.network.delivery import Federator
from node.settings import Settings


class FakeNetwork:
    """Delivers pushes and pulls in process; can be switched off to fail like a dead peer."""

    def __init__(self, nodes: dict[str, CircleNode]) -> None:
        self.nodes = nodes
        self.up = True
        self.pushes = 0

    async def push(self, url: str, push: Push) -> PushReply:
        self.pushes += 1
        if not self.up:
            raise TransportError("Cannot connect")
        return self.nodes[url].intake.receive_push(push)

    async def pull(self, url: str, after: int, limit: int) -> FeedPage:
        if not self.up:
            raise TransportError("Cannot connect")
        return self.nodes[url].feed.page(after, limit, None)


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def pair(tmp_path: Path):  # type: ignore[no-untyped-def]
    a = open_node(Settings(data_dir=tmp_path / "a"))
    b = open_node(Settings(data_dir=tmp_path / "b"))
    a.peering.add_peer(b.feed.descriptor("b", "b"), "b")
    b.peering.add_peer(a.feed.descriptor("a", "a"), "a")
    yield a, b
    a.close()
    b.close()


def test_a_peer_down_for_long_gets_everything_when_it_returns(pair, caplog) -> None:  # type: ignore[no-untyped-def]
    a, b = pair
    network, clock = FakeNetwork({"a": a, "b": b}), Clock()
    federator = Federator(
        a,
        network,
        clock=clock,
        rand=lambda: 1.0,  # type: ignore[arg-type]
        backoff=Backoff(base=0.5, cap=300),
    )
    # The peer is down when the circle is founded (and its profile published).
    network.up = False
    a.circle.found_circle(name="Kitchen", aim="Feed", domain="Food", founder_name="Ada")
    caplog.set_level(logging.WARNING, "circle_node.delivery")
    # Each failure doubles the wait (full jitter, here at its ceiling), up to the cap.
    waits = []
    for _ in range(12):
        asyncio.run(federator.push_round())
        link = federator.links[b.feed.feed_id]
        waits.append(link.not_before - clock.now)
        # Before the wait is over, nothing is tried.
        tries = network.pushes
        asyncio.run(federator.push_round())
        assert network.pushes == tries
        clock.now = link.not_before
    assert waits == [0.5, 1, 2, 4, 8, 16, 32, 64, 128, 256, 300, 300]
    assert federator.links[b.feed.feed_id].failures == 12
    # It never gives up silently: every failure is logged with the attempt.
    failures = [r.getMessage() for r in caplog.records if "push to" in r.getMessage()]
    assert len(failures) == 12 and "attempt 12" in failures[-1]
    # When it returns, everything owed is delivered.
    network.up = True
    asyncio.run(federator.push_round())
    assert b.peering.peer_feed(a.feed.feed_id).next_seq == a.feed.own_feed().next_seq
    assert a.outbox.delivery(b.feed.feed_id).next_seq == a.feed.own_feed().next_seq
    assert federator.links[b.feed.feed_id].failures == 0


def test_jitter_spreads_retries_within_the_ceiling() -> None:
    backoff = Backoff(base=0.5, cap=300)
    values = [backoff.delay(6, rand=lambda v=v: v) for v in (0.0, 0.25, 0.999)]
    assert values == [0.0, 4.0, pytest.approx(15.984)]
    assert backoff.ceiling(30) == 300


def test_a_lost_push_is_made_good_by_the_pull(pair) -> None:  # type: ignore[no-untyped-def]
    a, b = pair
    network = FakeNetwork({"a": a, "b": b})
    a.circle.found_circle(name="Kitchen", aim="Feed", domain="Food", founder_name="Ada")
    # Nothing was pushed (say the pushes were lost); B pulls from A.
    puller = Federator(b, network)  # type: ignore[arg-type]
    peer = b.peering.peer(a.feed.feed_id)
    assert peer is not None
    taken = asyncio.run(puller.catch_up(peer))
    assert taken == a.feed.own_feed().head
    assert b.relations.peer_view(a.feed.feed_id).profile["name"] == "Kitchen"  # type: ignore[union-attr]


def test_a_peer_whose_pages_cannot_be_taken_does_not_stop_the_pulls_from_others(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Pulls go peer by peer: a failure with one (here its store answers an error the node
    does not expect) is logged, and the others are still caught up in the same round."""
    nodes = {name: open_node(Settings(data_dir=tmp_path / name)) for name in ("a", "b", "c")}
    a, b, c = nodes["a"], nodes["b"], nodes["c"]
    try:
        for name, node in (("b", b), ("c", c)):
            a.peering.add_peer(node.feed.descriptor(name, name), name)
            node.circle.found_circle(
                name=name.upper(), aim="Feed", domain="Food", founder_name="Ada"
            )
        first = a.peering.peers()[0]
        failing = "b" if first.feed_id == b.feed.feed_id else "c"

        class Broken(FakeNetwork):
            async def pull(self, url: str, after: int, limit: int) -> FeedPage:
                if url == failing:
                    raise RuntimeError("the peer's page could not be taken")
                return await super().pull(url, after, limit)

        puller = Federator(a, Broken(nodes), pull_interval=3600)  # type: ignore[arg-type]

        async def one_round() -> None:
            task = asyncio.create_task(puller.pull_forever())
            await asyncio.sleep(0.5)
            task.cancel()

        with caplog.at_level(logging.ERROR, logger="circle_node.delivery"):
            asyncio.run(one_round())
        other = c if failing == "b" else b
        assert a.peering.peer_feed(other.feed.feed_id).next_seq == other.feed.own_feed().next_seq
        assert any("pulling from" in r.getMessage() for r in caplog.records)
    finally:
        for node in nodes.values():
            node.close()


def test_delivery_has_threads_of_its_own_beside_the_requests(pair) -> None:  # type: ignore[no-untyped-def]
    """Every request thread busy (a slow command in each) does not hold up a catch-up, and
    a catch-up does not take a request's thread."""
    import anyio.to_thread

    a, b = pair
    network = FakeNetwork({"a": a, "b": b})
    a.circle.found_circle(name="Kitchen", aim="Feed", domain="Food", founder_name="Ada")

    async def scenario() -> int:
        requests = anyio.to_thread.current_default_thread_limiter()
        requests.total_tokens = 2
        release = asyncio.Event()

        async def busy_request() -> None:
            async with requests:  # holds one of the request threads until released
                await release.wait()

        busy = [asyncio.create_task(busy_request()) for _ in range(2)]
        await asyncio.sleep(0)
        assert requests.available_tokens == 0
        puller = Federator(b, network)  # type: ignore[arg-type]
        peer = b.peering.peer(a.feed.feed_id)
        assert peer is not None
        taken = await asyncio.wait_for(puller.catch_up(peer), timeout=30)
        release.set()
        await asyncio.gather(*busy)
        return taken

    assert asyncio.run(scenario()) == a.feed.own_feed().head


def test_a_peer_whose_pulls_fail_is_backed_off_and_the_others_pulled(tmp_path: Path) -> None:
    nodes = {name: open_node(Settings(data_dir=tmp_path / name)) for name in ("a", "b", "c")}
    a, b, c = nodes["a"], nodes["b"], nodes["c"]
    try:
        for name, node in (("b", b), ("c", c)):
            a.peering.add_peer(node.feed.descriptor(name, name), name)
            node.circle.found_circle(
                name=name.upper(), aim="Feed", domain="Food", founder_name="Ada"
            )
        pulls: list[str] = []

        class Broken(FakeNetwork):
            async def pull(self, url: str, after: int, limit: int) -> FeedPage:
                pulls.append(url)
                if url == "b":
                    raise RuntimeError("the peer's page could not be taken")
                return await super().pull(url, after, limit)

        clock = Clock()
        puller = Federator(a, Broken(nodes), clock=clock, rand=lambda: 1.0)  # type: ignore[arg-type]
        # B fails: it waits out its backoff (30 s, then 60 s), while C is pulled every round.
        asyncio.run(puller.pull_round())
        assert sorted(pulls) == ["b", "c"]
        clock.now += 29
        pulls.clear()
        asyncio.run(puller.pull_round())
        assert pulls == ["c"]
        clock.now += 2
        pulls.clear()
        asyncio.run(puller.pull_round())
        assert sorted(pulls) == ["b", "c"]
        assert puller.link(b.feed.feed_id).pull_failures == 2
        clock.now += 59
        pulls.clear()
        asyncio.run(puller.pull_round())
        assert pulls == ["c"]
        assert a.peering.peer_feed(c.feed.feed_id).next_seq == c.feed.own_feed().next_seq
    finally:
        for node in nodes.values():
            node.close()
