"""Restore, then publish, over and over: each cycle backs the node up, publishes more (pushed to
one peer or both, so their copies differ), loses the node, restores the backup and takes its
feed back through the async take-back (its peers' held copies served in process), then
publishes again. Every cycle: the restored feed is the one published, its next entry follows
its last, no peer records an equivocation, and every feed held verifies.

`make test` runs a few cycles; `make soak` (CIRCLE_NODE_SOAK=1) runs 200.
"""

from __future__ import annotations

import asyncio
import random
import shutil
from pathlib import Path

import pytest

from federation.wire import FeedPage
from node.app.node import CircleNode
from node.app.persistence import open_node
from node.cli.backup import backup
from node.cli.restore import restore
from node.network.take_back import take_back_from_peers
from node.settings import Settings
from tests.node.test_federation_node import deliver, publish
from tests.reliability.harness import SOAK, check_own_feed, check_peer_feed, record, scaled

pytestmark = pytest.mark.timeout(1800 if SOAK else 120)


class HeldCopies:
    """The federation client's `held_copy`, served in process by the node at `url`."""

    def __init__(self, nodes: dict[str, CircleNode], reader: CircleNode) -> None:
        self.nodes = nodes
        self.reader = reader

    async def held_copy(self, url: str, after: int, limit: int) -> FeedPage:
        page = self.nodes[url].peering.held_copy(self.reader.feed.feed_id, after, limit)
        assert page is not None
        return page


async def _in_thread(function, *args):  # type: ignore[no-untyped-def]
    return function(*args)


def link(a: CircleNode, other: CircleNode, url: str) -> None:
    """`a` and `other` peer; `a` knows `other` at `url`."""
    a.peering.add_peer(other.feed.descriptor(url, url), url)
    other.peering.add_peer(a.feed.descriptor("a", "http://a.invalid"), "http://a.invalid")


def test_restore_then_publish_never_forks(tmp_path: Path, rng: random.Random) -> None:
    cycles = scaled(5, 200)
    b = open_node(Settings(data_dir=tmp_path / "b"))
    c = open_node(Settings(data_dir=tmp_path / "c"))
    folder = tmp_path / "a0"
    a = open_node(Settings(data_dir=folder))
    peers = {"http://b.invalid": b, "http://c.invalid": c}
    for url, peer in peers.items():
        link(a, peer, url)
    publish(a, 1)
    deliver(a, b)
    deliver(a, c)
    taken_back = 0  # entries taken back, over all cycles
    try:
        for cycle in range(1, cycles + 1):
            archive = tmp_path / "a.tar"
            archive.unlink(missing_ok=True)
            backup(Settings(data_dir=folder), archive)
            # More published after the backup: to both peers, or to one of them only.
            publish(a, rng.randint(1, 4))
            reached = rng.choice([(b, c), (b,), (c,)])
            for peer in reached:
                deliver(a, peer)
            published = a.feed.own_entries(0, 10_000)  # seq 1 to the head
            a.close()
            shutil.rmtree(folder)
            # The node is lost; restored from its backup, it takes its feed back, then publishes.
            folder = tmp_path / f"a{cycle}"
            restore(archive, folder)
            a = open_node(Settings(data_dir=folder))
            assert a.take_back.pending
            restored_head = a.feed.own_feed().head
            done = asyncio.run(
                take_back_from_peers(
                    a.take_back,
                    a.peering.peers(),
                    HeldCopies(peers, a),  # type: ignore[arg-type]
                    _in_thread,
                )
            )
            assert done and not a.take_back.pending, a.take_back.status
            assert a.feed.own_entries(0, 10_000) == published, f"cycle {cycle}"
            taken_back += a.feed.own_feed().head - restored_head
            publish(a, 1)
            assert a.feed.own_feed().head == len(published) + 1
            for peer in (b, c):
                deliver(a, peer)
                held = peer.peering.peer(a.feed.feed_id)
                assert held is not None and not held.stopped, f"cycle {cycle}: a fork"
                assert peer.peering.peer_feed(a.feed.feed_id).next_seq == len(published) + 2
        figures = {
            "cycles": cycles,
            "entries_taken_back": taken_back,
            "head": a.feed.own_feed().head,
            "own_feed_verified": len(check_own_feed(a)),
            "peer_feeds": {name: check_peer_feed(p, a.feed.feed_id) for name, p in peers.items()},
        }
        record("restore_cycles", figures)
    finally:
        for node in (a, b, c):
            node.close()
