"""A push round to many peers (node/network/pushing.py): its store work done once for all of
them, not peer by peer, and every acknowledgement saved before the round ends."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest

from federation.wire import MAX_PUSH_BYTES
from node.app.node import CircleNode
from node.app.persistence import open_node
from node.network.delivery import Federator
from node.settings import Settings
from tests.node.test_delivery import FakeNetwork

PEERS = ("b", "c", "d", "e")


@pytest.fixture
def star(tmp_path: Path) -> Iterator[dict[str, CircleNode]]:
    """Node a, peered with four others (each of them with a)."""
    nodes = {name: open_node(Settings(data_dir=tmp_path / name)) for name in ("a", *PEERS)}
    a = nodes["a"]
    for name in PEERS:
        a.peering.add_peer(nodes[name].feed.descriptor(name, name), name)
        nodes[name].peering.add_peer(a.feed.descriptor("a", "a"), "a")
    yield nodes
    for node in nodes.values():
        node.close()


def test_a_round_reads_the_own_feed_once_and_saves_the_acknowledgements_together(
    star: dict[str, CircleNode], monkeypatch: pytest.MonkeyPatch
) -> None:
    a = star["a"]
    a.circle.found_circle(name="Kitchen", aim="Feed", domain="Food", founder_name="Ada")
    reads: list[int] = []
    own_entries = a.feed.own_entries
    monkeypatch.setattr(a.feed, "own_entries", lambda *args: reads.append(1) or own_entries(*args))
    saves: list[int] = []
    save = a.store.save
    monkeypatch.setattr(
        a.store, "save", lambda *objs, **kw: saves.append(len(objs)) or save(*objs, **kw)
    )

    asyncio.run(Federator(a, FakeNetwork(star)).push_round())  # type: ignore[arg-type]

    # Every peer stood at the start of the feed: its entries read once for the four.
    assert len(reads) == 1
    # The four acknowledgements, saved together, and durable once the round is over.
    assert saves == [len(PEERS)]
    head = a.feed.own_feed().next_seq
    for name in PEERS:
        assert star[name].peering.peer_feed(a.feed.feed_id).next_seq == head
        assert a.outbox.delivery(star[name].feed.feed_id).next_seq == head


def test_peers_at_the_same_seq_get_only_the_bodies_each_may_read(
    star: dict[str, CircleNode],
) -> None:
    a, b, c = star["a"], star["b"], star["c"]
    after = a.feed.own_feed().head
    a.feed.ask_to_join(c.feed.feed_id, "c", "C", "Hello")  # a body only c may read
    readers = [b.feed.feed_id, c.feed.feed_id]
    runs = a.feed.runs(after, 10, readers, MAX_PUSH_BYTES)
    for reader in readers:
        assert runs[reader] == a.feed.run(after, 10, reader, MAX_PUSH_BYTES)
    assert runs[c.feed.feed_id][1] and not runs[b.feed.feed_id][1]


def test_a_failed_save_of_acknowledgements_fails_the_round_and_releases_the_outboxes(
    star: dict[str, CircleNode], monkeypatch: pytest.MonkeyPatch
) -> None:
    a = star["a"]
    a.circle.found_circle(name="Kitchen", aim="Feed", domain="Food", founder_name="Ada")
    released: list[bytes] = []
    release = a.outbox.release_outboxes
    monkeypatch.setattr(
        a.outbox,
        "release_outboxes",
        lambda feed_ids: released.extend(feed_ids) or release(feed_ids),
    )

    def failing(acknowledged: object) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(a.outbox, "acknowledge_all", failing)
    network = FakeNetwork(star)
    federator = Federator(a, network)  # type: ignore[arg-type]
    with pytest.raises(OSError, match="disk full"):
        asyncio.run(federator.push_round())
    assert sorted(released) == sorted(star[name].feed.feed_id for name in PEERS)
    # Nothing acknowledged is lost: the cursors stayed, and the next round pushes again.
    monkeypatch.undo()
    assert all(a.outbox.delivery(star[n].feed.feed_id).next_seq == 1 for n in PEERS)
    pushes = network.pushes
    asyncio.run(federator.push_round())
    assert network.pushes == pushes + len(PEERS)
    head = a.feed.own_feed().next_seq
    assert all(a.outbox.delivery(star[n].feed.feed_id).next_seq == head for n in PEERS)
