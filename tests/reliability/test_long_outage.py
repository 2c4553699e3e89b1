"""A peer down for hours while thousands of entries pile up for it, with the backoff driven by
a controllable clock: retries spread out up to the cap, every failure is logged, nothing is
tried early, and when the peer returns everything is delivered, once, and verifies. Then a
flaky return: pushes fail part-way and replies are lost, and still nothing is lost."""

from __future__ import annotations

import asyncio
import logging
import random
from pathlib import Path

import pytest

from federation.backoff import Backoff
from federation.client import TransportError
from federation.wire import FeedPage, Push, PushReply
from node.app.node import CircleNode
from node.app.persistence import open_node
from node.network.delivery import Federator
from node.settings import Settings
from tests.reliability.harness import (
    SOAK,
    build_decision_feed,
    check_cursor,
    check_own_feed,
    check_peer_feed,
    check_replay,
    record,
    scaled,
)

pytestmark = pytest.mark.timeout(1200 if SOAK else 90)


class Network:
    """Pushes and pulls in process. Down, it fails like a dead peer; it can also lose the
    reply to a push the peer took (`lose_replies`), or fail a share of pushes (`flaky`)."""

    def __init__(self, nodes: dict[str, CircleNode], rng: random.Random) -> None:
        self.nodes = nodes
        self.rng = rng
        self.up = True
        self.flaky = 0.0
        self.lose_replies = 0.0
        self.pushes = 0
        self.failed = 0
        self.replies_lost = 0

    async def push(self, url: str, push: Push) -> PushReply:
        self.pushes += 1
        if not self.up or self.rng.random() < self.flaky:
            self.failed += 1
            raise TransportError("Cannot connect")
        reply = self.nodes[url].intake.receive_push(push)
        if self.rng.random() < self.lose_replies:
            self.replies_lost += 1
            raise TransportError("Connection reset")  # taken there, but we never hear it
        return reply

    async def pull(self, url: str, after: int, limit: int) -> FeedPage:
        if not self.up:
            raise TransportError("Cannot connect")
        return self.nodes[url].feed.page(after, limit, None)


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


def test_a_peer_down_for_hours_gets_every_entry_once_when_it_returns(
    tmp_path: Path, rng: random.Random, caplog: pytest.LogCaptureFixture
) -> None:
    owed = scaled(3000, 30000)
    hours = scaled(48, 168)  # past 1024 failures: 2 ** 1024 once overflowed the backoff
    a = open_node(Settings(data_dir=tmp_path / "a"))
    b = open_node(Settings(data_dir=tmp_path / "b"))
    try:
        a.peering.add_peer(b.feed.descriptor("b", "b"), "b")
        b.peering.add_peer(a.feed.descriptor("a", "a"), "a")
        network, clock = Network({"a": a, "b": b}, rng), Clock()
        backoff = Backoff(base=0.5, cap=300)
        federator = Federator(
            a,
            network,  # type: ignore[arg-type]
            clock=clock,
            rand=rng.random,
            backoff=backoff,
        )
        caplog.set_level(logging.WARNING, "circle_node.delivery")
        network.up = False
        # The circle keeps working while its peer is away: entries pile up in waves.
        waves = 6
        start = clock.now
        end = start + hours * 3600
        waits: list[float] = []
        early = 0
        wave = 0
        while clock.now < end:
            if wave < waves and clock.now >= start + wave * (end - start) / waves:
                build_decision_feed(a, owed // waves)
                wave += 1
            tries = network.pushes
            asyncio.run(federator.push_round())
            assert network.pushes == tries + 1, "one attempt per due round"
            link = federator.links[b.feed.feed_id]
            wait = link.not_before - clock.now
            assert 0 <= wait <= backoff.ceiling(link.failures) <= backoff.cap
            waits.append(wait)
            # A round before the wait is over tries nothing.
            if wait > 0:
                clock.now += rng.uniform(0, wait * 0.999)
                asyncio.run(federator.push_round())
                early += 1
                assert network.pushes == tries + 1, "a push was tried before its time"
            clock.now = link.not_before
        failures = federator.links[b.feed.feed_id].failures
        assert failures == len(waits)
        assert backoff.ceiling(failures) == backoff.cap, "the backoff never reached its cap"
        assert max(waits) > backoff.cap / 2
        logged = [r.getMessage() for r in caplog.records if "push to" in r.getMessage()]
        assert len(logged) == failures and f"attempt {failures}" in logged[-1]
        assert a.outbox.delivery(b.feed.feed_id).next_seq == 1, (
            "nothing was delivered while it was down"
        )
        head = a.feed.own_feed().head

        # It returns: at the next attempt everything owed is delivered.
        network.up = True
        asyncio.run(federator.push_round())
        delivered_at_once = network.pushes
        assert a.outbox.delivery(b.feed.feed_id).next_seq == head + 1
        held = check_peer_feed(b, a.feed.feed_id)
        assert held["held"] == head
        assert federator.links[b.feed.feed_id].failures == 0

        # A flaky link: a third of pushes fail, a third of replies are lost. More piles up
        # and is delivered all the same, each entry stored once.
        network.flaky, network.lose_replies = 0.3, 0.3
        build_decision_feed(a, owed // 2)
        head = a.feed.own_feed().head
        rounds = 0
        while a.outbox.delivery(b.feed.feed_id).next_seq <= head:
            rounds += 1
            assert rounds < 10_000, "delivery over a flaky link never finished"
            clock.now = max(clock.now, federator.links[b.feed.feed_id].not_before)
            asyncio.run(federator.push_round())
        check_own_feed(a)
        check_cursor(a, b.feed.feed_id)
        held = check_peer_feed(b, a.feed.feed_id)
        assert held["held"] == head
        for store in (a, b):
            check_replay(store)
        record(
            "long-outage",
            {
                "seed": rng.seed_value,  # type: ignore[attr-defined]
                "entries_owed": owed,
                "simulated_downtime_h": hours,
                "failed_attempts_while_down": failures,
                "early_rounds_that_tried_nothing": early,
                "longest_wait_s": round(max(waits), 1),
                "backoff_cap_s": backoff.cap,
                "pushes_to_deliver_the_backlog": delivered_at_once - failures,
                "flaky_entries": owed // 2,
                "flaky_rounds": rounds,
                "flaky_pushes_failed": network.failed - failures,
                "flaky_replies_lost": network.replies_lost,
                "entries_held_at_the_end": held["held"],
            },
        )
    finally:
        a.close()
        b.close()
