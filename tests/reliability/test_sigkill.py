"""SIGKILL at random moments: during bursts of commands over the member API, during catch-up
of a large peer feed, and during outbox delivery to a peer. After each kill, before and after
the restart: no acknowledged command lost, nothing applied twice, every feed verifies, and the
state equals a fresh replay of the store."""

from __future__ import annotations

import asyncio
import random
import time
from pathlib import Path
from typing import Any

import pytest

from node.network.fetched_pages import RUN_ENTRIES
from tests.reliability.harness import (
    SOAK,
    Burst,
    Served,
    build_decision_feed,
    check_cursor,
    check_decisions,
    check_own_feed,
    check_peer_feed,
    check_replay,
    found_with_rota,
    held_count,
    record,
    scaled,
    send_decisions,
    sqlite_integrity,
)

pytestmark = pytest.mark.timeout(1800 if SOAK else 120)

PRELOAD = 110  # decisions a node takes before its bursts


async def _burst_then_kill(node: Served, token: str, hat: str, label: str, delay: float) -> Burst:
    sending = asyncio.create_task(send_decisions(node.url, token, hat, label, workers=4))
    await asyncio.sleep(delay)
    await asyncio.to_thread(node.kill)
    return await sending


def test_sigkill_during_command_bursts_loses_no_acknowledged_command(
    tmp_path: Path, rng: random.Random
) -> None:
    kills = scaled(3, 110)
    kills_per_node = 10  # a fresh node every so often keeps each check quick
    rounds: list[dict[str, Any]] = []
    node: Served | None = None
    total = Burst()
    before: set[str] = set()
    token = hat = ""
    for number in range(kills):
        if number % kills_per_node == 0:
            node = Served(tmp_path, f"burst{number}")
            store = node.open()
            try:
                founder, hat, token = found_with_rota(store, "Kitchen")
                # Past the snapshot intervals of the feed and the register, so that loads
                # after a kill start from snapshots (and the replay check compares them).
                for n in range(PRELOAD):
                    store.decisions.take_everyday_decision(
                        founder, hat, "rota", f"pre-{n}", "Earlier"
                    )
                before = {d.title for d in store.records.list_decisions()}
            finally:
                store.close()
            total = Burst()
        assert node is not None
        node.start()
        delay = rng.uniform(0.1, 1.5)
        burst = asyncio.run(_burst_then_kill(node, token, hat, f"k{number}", delay))
        total.merge(burst)
        assert not burst.refused, f"commands refused before the kill: {burst.problems[:3]}"
        # The store as the killed process left it.
        store = node.open()
        try:
            figures = check_decisions(store, total, before)
            figures.update(check_replay(store))
            titles = {d.title for d in store.records.list_decisions()}
        finally:
            store.close()
        sqlite_integrity(node.settings.sqlite_path)
        # Requests cut by the kill: the node may have stored some before it died (at most
        # once each); the client never heard, as with any lost reply.
        figures["unanswered_but_applied"] = len(burst.unanswered & titles)
        rounds.append(
            {
                "kill_after_s": round(delay, 3),
                "sent": len(burst.attempted),
                "acknowledged_this_round": len(burst.acknowledged),
                "unanswered_this_round": len(burst.unanswered),
                **figures,
            }
        )
    # Restarted once more, the last node serves and still holds everything acknowledged.
    assert node is not None
    node.start()
    node.stop()
    store = node.open()
    try:
        check_decisions(store, total, before)
    finally:
        store.close()
    record(
        "sigkill-bursts",
        {
            "seed": rng.seed_value,  # type: ignore[attr-defined]
            "kills": kills,
            "commands_sent": sum(r["sent"] for r in rounds),
            "acknowledged": sum(r["acknowledged_this_round"] for r in rounds),
            "unanswered_at_the_kills": sum(r["unanswered_this_round"] for r in rounds),
            "acknowledged_lost": 0,
            "applied_twice": 0,
            "unanswered_but_applied": sum(r["unanswered_but_applied"] for r in rounds),
            "rounds": rounds,
        },
    )
    assert len(rounds) == kills
    assert all(r["snapshotted"] >= 2 for r in rounds), "the replay check compared no snapshot"


def test_sigkill_during_catch_up_of_a_large_feed(tmp_path: Path, rng: random.Random) -> None:
    # Catch-up stores up to RUN_ENTRIES per save: a feed of several runs, so that a kill can
    # land between them (a few runs; twice as many in the long run).
    size = RUN_ENTRIES * scaled(15, 30) // 4
    kills = scaled(2, 55)
    author = Served(tmp_path, "author")
    store = author.open()
    try:
        build_decision_feed(store, size)
        author_feed = store.feed.feed_id
        head = store.feed.own_feed().head
    finally:
        store.close()
    author.start()
    rounds: list[dict[str, Any]] = []
    completed = 0
    follower: Served | None = None
    try:
        for number in range(kills):
            if follower is None:
                follower = Served(tmp_path, f"follower{number}")
                with author.handle() as served, follower.handle() as fresh:
                    fresh.peering.add_peer(served.feed.descriptor("author", author.url), author.url)
            path = follower.settings.sqlite_path
            held_before = held_count(path, author_feed) - 1
            # Kill once it holds a random seq at least two runs short of the end, a moment
            # later (less than a run's save): mid-way through the catch-up.
            target = rng.randint(held_before + 1, max(held_before + 1, head - 2 * RUN_ENTRIES))
            follower.spawn()
            _wait_for_held(follower, path, author_feed, target)
            time.sleep(rng.uniform(0, 0.03))
            follower.kill()
            store = follower.open()
            try:
                figures = check_peer_feed(store, author_feed)
                figures.update(check_replay(store))
            finally:
                store.close()
            sqlite_integrity(path)
            assert figures["held"] >= held_before, "a restart lost entries it had taken"
            rounds.append({"held_before": held_before, "target": target, **figures})
            if figures["held"] == head:
                completed += 1
                follower = None
        # The last follower, restarted, finishes catching up.
        if follower is not None:
            path = follower.settings.sqlite_path
            follower.spawn()
            _wait_for_held(follower, path, author_feed, head)
            follower.stop()
            with follower.handle() as store:
                assert check_peer_feed(store, author_feed)["held"] == head
            completed += 1
    finally:
        author.stop()
        if follower is not None:
            follower.stop()
    mid_way = sum(1 for r in rounds if r["held"] < head)
    record(
        "sigkill-catch-up",
        {
            "seed": rng.seed_value,  # type: ignore[attr-defined]
            "feed_entries": size,
            "kills": kills,
            "kills_before_the_end": mid_way,
            "catch_ups_completed": completed,
            "rounds": rounds,
        },
    )
    assert mid_way >= 1, "no kill landed during a catch-up"


def test_sigkill_during_outbox_delivery(tmp_path: Path, rng: random.Random) -> None:
    size = scaled(4000, 30000)
    kills = scaled(2, 55)
    sender = Served(tmp_path, "sender")
    store = sender.open()
    try:
        build_decision_feed(store, size)
        sender_feed = store.feed.feed_id
        head = store.feed.own_feed().head
    finally:
        store.close()
    rounds: list[dict[str, Any]] = []
    completed = 0
    receiver: Served | None = None
    receiver_feed = b""
    cursor = 1
    try:
        for number in range(kills):
            if receiver is None:
                receiver, receiver_feed = _new_receiver(tmp_path, f"receiver{number}", sender)
                cursor = 1
            path = receiver.settings.sqlite_path
            held_before = held_count(path, sender_feed) - 1
            target = rng.randint(held_before + 1, max(held_before + 1, head - 1000))
            sender.spawn()
            _wait_for_held(sender, path, sender_feed, target)
            time.sleep(rng.uniform(0, 0.05))
            sender.kill()
            store = sender.open()
            try:
                check_own_feed(store)
                moved_to = check_cursor(store, receiver_feed)
                check_replay(store)
            finally:
                store.close()
            sqlite_integrity(sender.settings.sqlite_path)
            with receiver.handle() as held_store:
                figures = check_peer_feed(held_store, sender_feed)
                figures.update(check_replay(held_store))
            # The cursor moved only over what the receiver holds, and never back.
            assert cursor <= moved_to <= figures["held"] + 1
            cursor = moved_to
            rounds.append({"held_before": held_before, "cursor": cursor, **figures})
            if figures["held"] == head:
                completed += 1
                receiver.stop()
                with sender.handle() as sender_store:
                    sender_store.peering.remove_peer(receiver_feed)
                receiver = None
    finally:
        sender.stop()
        if receiver is not None:
            receiver.stop()
    mid_way = sum(1 for r in rounds if r["held"] < head)
    record(
        "sigkill-delivery",
        {
            "seed": rng.seed_value,  # type: ignore[attr-defined]
            "feed_entries": size,
            "kills": kills,
            "kills_before_the_end": mid_way,
            "deliveries_completed": completed,
            "rounds": rounds,
        },
    )
    assert mid_way >= 1, "no kill landed during a delivery"


def _new_receiver(root: Path, name: str, sender: Served) -> tuple[Served, bytes]:
    """A running peer that the sender owes its whole feed to. It knows the sender without a
    URL, so it never pulls: everything it gets comes through the sender's outbox."""
    receiver = Served(root, name)
    with sender.handle() as sender_store, receiver.handle() as receiver_store:
        receiver_store.peering.add_peer(sender_store.feed.descriptor("sender", ""), "")
        sender_store.peering.add_peer(
            receiver_store.feed.descriptor(name, receiver.url), receiver.url
        )
        feed = receiver_store.feed.feed_id
    receiver.start()
    return receiver, feed


def _wait_for_held(node: Served, path: Path, feed: bytes, seq: int, timeout: float = 120) -> None:
    """Poll closely (kills should land mid-way) until the SQLite file at `path` holds `feed`
    up to `seq`, failing if `node` died."""
    deadline = time.monotonic() + timeout
    while held_count(path, feed) - 1 < seq:
        assert node.process is not None
        if node.process.poll() is not None:
            raise RuntimeError(f"{node.name} exited:\n{node.log.read_text()[-3000:]}")
        if time.monotonic() > deadline:
            raise TimeoutError(f"{node.name} made no progress in {timeout:.0f} s")
        time.sleep(0.005)
