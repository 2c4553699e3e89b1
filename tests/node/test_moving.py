"""A node that moves to another URL says so in its feed (`node.moved`), and its peers follow it
there once the new URL serves its feed up to that entry: no `peer add` again by hand.

Cast: the Kitchen circle's node (a), which moves from http://a-old.invalid to
http://a-new.invalid; the Garden circle's node (b), which takes the move by a push; the Orchard
circle's node (c), which pulls it and meets an impostor and a stale copy at the new URL first;
and a stranger's node (d), the impostor.
"""

from __future__ import annotations

import asyncio
import logging
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import msgspec
import pytest

from federation.client import TransportError
from federation.verify import decode_entry
from federation.wire import FeedPage, NodeDescriptor, Push, PushReply
from node.app.node import CircleNode
from node.network.delivery import Federator
from node.network.own_feed import FeedBehind
from node.network.peer_book import MoveRefused
from tests.node.test_federation_node import publish

OLD, NEW = "http://a-old.invalid", "http://a-new.invalid"


class Network:
    """Nodes reached by URL, in process (push, pull and the descriptor, as the client has
    them); `descriptors` overrides what a URL's descriptor says."""

    def __init__(self, nodes: dict[str, CircleNode]) -> None:
        self.nodes = dict(nodes)
        self.descriptors: dict[str, NodeDescriptor] = {}
        self.asked: list[str] = []

    def _node(self, url: str) -> CircleNode:
        self.asked.append(url)
        if url not in self.nodes:
            raise TransportError("Cannot connect")
        return self.nodes[url]

    async def descriptor(self, url: str) -> NodeDescriptor:
        node = self._node(url)
        return self.descriptors.get(url) or node.feed.descriptor("node", url)

    async def push(self, url: str, push: Push) -> PushReply:
        return self._node(url).intake.receive_push(push)

    async def pull(self, url: str, after: int, limit: int) -> FeedPage:
        return self._node(url).feed.page(after, limit, None)


def _found(node: CircleNode, name: str) -> None:
    node.circle.found_circle(name=name, aim="Feed", domain="Food", founder_name="Ada")


@pytest.fixture
def kitchen(make: Callable[[str], CircleNode]) -> tuple[CircleNode, CircleNode, CircleNode]:
    a, b, c = make("a"), make("b"), make("c")
    publish(a, 0)  # the Kitchen, with a cook's hat
    for node, name in ((b, "Garden"), (c, "Orchard")):
        _found(node, name)
    for other, url in ((b, "http://b.invalid"), (c, "http://c.invalid")):
        other.peering.add_peer(a.feed.descriptor("a", OLD), OLD)
        a.peering.add_peer(other.feed.descriptor("x", url), url)
    return a, b, c


def _push_all(sender: CircleNode, network: Network) -> None:
    federator = Federator(sender, network)  # type: ignore[arg-type]
    asyncio.run(federator.push_round())


def test_a_moved_node_is_followed_by_its_peers(
    kitchen: tuple[CircleNode, CircleNode, CircleNode],
    make: Callable[[str], CircleNode],
    caplog: pytest.LogCaptureFixture,
) -> None:
    a, b, c = kitchen
    d = make("d")
    caplog.set_level(logging.INFO, "circle_node.delivery")
    network = Network({OLD: a, "http://b.invalid": b, "http://c.invalid": c})

    # Given the Kitchen's node, served at its new URL too, says in its feed that it moved.
    network.nodes[NEW] = a
    seq = a.feed.announce_url(NEW)
    moved = decode_entry(a.feed.own_entries(seq - 1, 1)[0])
    assert (moved.type, moved.seq, moved.audience) == ("node.moved", seq, [])
    assert a.feed.own_feed().url == NEW
    with pytest.raises(ValueError, match="already says"):
        a.feed.announce_url(NEW)
    # A node taking its feed back after a restore says nothing, a move included.
    a.feed.hold_back("taking back")
    with pytest.raises(FeedBehind, match="taking back"):
        a.feed.announce_url("http://a-newer.invalid")
    a.feed.release()
    # When the Garden's node takes it (a push), and its puller runs.
    network.nodes.pop("http://c.invalid")  # the Orchard is away for now
    _push_all(a, network)
    peer = b.peering.peer(a.feed.feed_id)
    assert peer is not None and (peer.url, peer.moving_to, peer.moving_since) == (OLD, NEW, seq)
    del network.nodes[OLD]  # the old host is gone
    garden = Federator(b, network)  # type: ignore[arg-type]
    followed = asyncio.run(garden.follow_move(peer))
    # Then it pushes to and pulls from the new URL.
    assert (followed.url, followed.moving_to) == (NEW, "")
    peer = b.peering.peer(a.feed.feed_id)
    assert peer is not None and peer.url == NEW
    publish(a, 1)
    network.asked.clear()
    assert asyncio.run(garden.catch_up(peer)) == 1
    assert network.asked == [NEW]

    # The Orchard's node pulls the move later, from the old URL (still answering for it).
    network.nodes["http://c.invalid"] = c
    orchard = Federator(c, network)  # type: ignore[arg-type]
    network.nodes[OLD] = a
    peer = c.peering.peer(a.feed.feed_id)
    assert peer is not None
    asyncio.run(orchard.catch_up(peer))
    peer = c.peering.peer(a.feed.feed_id)
    assert peer is not None and (peer.url, peer.moving_to) == (OLD, NEW)
    # Not followed to a URL that serves another node's feed (an impostor)...
    network.nodes[NEW] = d
    assert asyncio.run(orchard.follow_move(peer)).url == OLD
    assert "serves another node's feed" in caplog.text
    # ...nor to a copy of the feed that ends before the move (a stale mirror)...
    network.nodes[NEW] = a
    real = a.feed.descriptor("a", NEW)
    network.descriptors[NEW] = msgspec.structs.replace(real, head=seq - 1)
    assert asyncio.run(orchard.follow_move(peer)).url == OLD
    assert f"before the move (entry {seq})" in caplog.text
    # ...nor to a URL that does not answer; each time it is tried again at the next round.
    network.nodes.pop(NEW)
    assert asyncio.run(orchard.follow_move(peer)).url == OLD
    peer = c.peering.peer(a.feed.feed_id)
    assert peer is not None and (peer.url, peer.moving_to) == (OLD, NEW)
    # A descriptor fetched for an earlier move is not taken for the latest one.
    with pytest.raises(MoveRefused, match=f"it has said since that it moved to {NEW}"):
        c.peering.follow_move(a.feed.feed_id, "http://a-older.invalid", real)
    # Once the new URL serves the feed up to the move, the Orchard follows it there too.
    network.nodes[NEW] = a
    network.descriptors.clear()
    assert asyncio.run(orchard.follow_move(peer)).url == NEW
    peer = c.peering.peer(a.feed.feed_id)
    assert peer is not None and (peer.url, peer.moving_to) == (NEW, "")


def test_move_on_the_command_line(tmp_path: Path) -> None:
    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "node", *args, "--data", str(tmp_path / "kitchen")],
            capture_output=True,
            text=True,
            timeout=120,
            env=os.environ,
        )

    init = run("init", "--name", "Kitchen", "--aim", "Feed", "--domain", "Food", "--founder", "Ada")
    assert init.returncode == 0, init.stderr
    moved = run("move", "https://kitchen.example/")
    assert moved.returncode == 0, moved.stderr
    assert "served at https://kitchen.example;" in moved.stdout
    for url, reason in (
        ("https://kitchen.example", "already says it is served at https://kitchen.example"),
        ("ftp://kitchen.example", "is not a node's base URL"),
        # A traceback, and a node.moved signed with a port that is none, before.
        ("http://[::1", "is not a node's base URL"),
        ("http://kitchen.example:99999", "is not a node's base URL"),
    ):
        refused = run("move", url)
        assert refused.returncode == 1 and reason in refused.stderr
        assert refused.stderr.strip().count("\n") == 0
