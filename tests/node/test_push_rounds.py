"""A push round to many peers (node/network/pushing.py): its store work done once for all of
them, not peer by peer, and every acknowledgement saved before the round ends."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest

from federation.wire import MAX_PUSH_BYTES, Push, PushReply
from node.app.node import CircleNode
from node.app.persistence import open_node
from node.network.delivery import Federator
from node.settings import Settings
from tests.node.test_delivery import FakeNetwork

PEERS = ("b", "c", "d", "e")


@pytest.fixture
def star(tmp_path: Path) -> Iterator[dict[str, CircleNode]]:
    """Node a, peered with four others (each of them with a)."""
    yield from _star(open_node(Settings(data_dir=tmp_path / "a")), tmp_path)


def _star(a: CircleNode, tmp_path: Path) -> Iterator[dict[str, CircleNode]]:
    """Node `a` and four others on SQLite, each peered with it, closed after use."""
    nodes = {"a": a, **{n: open_node(Settings(data_dir=tmp_path / n)) for n in PEERS}}
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


def _several_batches(a: CircleNode, monkeypatch: pytest.MonkeyPatch, batch: int) -> None:
    """Make a's pushes `batch` entries long, so that its feed is owed in several."""
    claim_owed, push_from = a.outbox.claim_owed, a.outbox.push_from
    monkeypatch.setattr(a.outbox, "claim_owed", lambda ids: claim_owed(ids, batch))
    monkeypatch.setattr(a.outbox, "push_from", lambda f, seq, *_: push_from(f, seq, batch))


def _claims_given_back(node: CircleNode, peers: dict[str, CircleNode]) -> None:
    """Every outbox of `node` can be claimed again (none left claimed), and is released."""
    for name in PEERS:
        feed_id = peers[name].feed.feed_id
        assert node.outbox.claim_outbox(feed_id), name
        node.outbox.release_outbox(feed_id)


class Claims:
    """The outboxes of a node's store claimed and not yet released, and each release."""

    def __init__(self, node: CircleNode, monkeypatch: pytest.MonkeyPatch) -> None:
        self.held: set[bytes] = set()
        self.released: list[bytes] = []
        claim, release = node.store.claim_outbox, node.store.release_outbox

        def claiming(feed_id: bytes) -> bool:
            claimed = claim(feed_id)
            if claimed:
                self.held.add(feed_id)
            return claimed

        def releasing(feed_id: bytes) -> None:
            self.on_release(feed_id)
            self.held.discard(feed_id)
            self.released.append(feed_id)
            release(feed_id)

        monkeypatch.setattr(node.store, "claim_outbox", claiming)
        monkeypatch.setattr(node.store, "release_outbox", releasing)

    def on_release(self, feed_id: bytes) -> None:
        """Called before each release."""


def _a_failed_read_after_the_claims_releases_them(
    star: dict[str, CircleNode], monkeypatch: pytest.MonkeyPatch
) -> None:
    a = star["a"]
    a.circle.found_circle(name="Kitchen", aim="Feed", domain="Food", founder_name="Ada")

    def failing(*args: object) -> object:
        raise OSError("store gone")

    network = FakeNetwork(star)
    federator = Federator(a, network)  # type: ignore[arg-type]
    with monkeypatch.context() as patched:
        claims = Claims(a, patched)
        patched.setattr(a.feed, "runs", failing)
        with pytest.raises(OSError, match="store gone"):
            asyncio.run(federator.push_round())
        assert len(claims.released) == len(PEERS)
        assert not claims.held
    _claims_given_back(a, star)
    asyncio.run(federator.push_round())
    assert network.pushes == len(PEERS)
    head = a.feed.own_feed().next_seq
    assert all(a.outbox.delivery(star[n].feed.feed_id).next_seq == head for n in PEERS)


def test_a_failed_read_after_the_claims_releases_them(
    star: dict[str, CircleNode], monkeypatch: pytest.MonkeyPatch
) -> None:
    _a_failed_read_after_the_claims_releases_them(star, monkeypatch)


@pytest.fixture
def postgres_star(tmp_path: Path, postgres_url: str) -> Iterator[dict[str, CircleNode]]:
    """Node a on PostgreSQL (where a claim is held by the process), peered with four others."""
    a = open_node(Settings(data_dir=tmp_path / "a", database_url=postgres_url))
    yield from _star(a, tmp_path)


def test_a_failed_read_after_the_claims_releases_them_on_postgres(
    postgres_star: dict[str, CircleNode], monkeypatch: pytest.MonkeyPatch
) -> None:
    _a_failed_read_after_the_claims_releases_them(postgres_star, monkeypatch)


class OneFailing(FakeNetwork):
    """Peer b's push fails with an error that is not the network's; the others take a
    while, so that they are still under way when it fails."""

    def __init__(self, nodes: dict[str, CircleNode]) -> None:
        super().__init__(nodes)
        self.under_way: set[bytes] = set()
        self.released_while_under_way: list[bytes] = []

    async def push(self, url: str, push: Push) -> PushReply:
        if url == "b":
            raise RuntimeError("a bug in b's push")
        feed_id = self.nodes[url].feed.feed_id
        self.under_way.add(feed_id)
        try:
            await asyncio.sleep(0.05)
            return await super().push(url, push)
        finally:
            self.under_way.discard(feed_id)


def test_one_peers_failure_waits_for_the_others_before_the_round_gives_back_their_claims(
    star: dict[str, CircleNode], monkeypatch: pytest.MonkeyPatch
) -> None:
    a = star["a"]
    a.circle.found_circle(name="Kitchen", aim="Feed", domain="Food", founder_name="Ada")
    network = OneFailing(star)
    claims = Claims(a, monkeypatch)
    claims.on_release = lambda feed_id: (  # type: ignore[method-assign]
        network.released_while_under_way.append(feed_id) if feed_id in network.under_way else None
    )

    async def round_then_settle() -> None:
        with pytest.raises(RuntimeError, match="bug in b"):
            await Federator(a, network).push_round()  # type: ignore[arg-type]
        await asyncio.sleep(0.2)  # anything the round left running ends here

    asyncio.run(round_then_settle())
    assert network.released_while_under_way == []
    # The others' acknowledgements were saved, and every claim given back.
    head = a.feed.own_feed().next_seq
    assert all(a.outbox.delivery(star[n].feed.feed_id).next_seq == head for n in "cde")
    assert a.outbox.delivery(star["b"].feed.feed_id).next_seq == 1
    assert not claims.held


def test_after_a_failed_save_of_acknowledgements_nothing_more_is_pushed(
    star: dict[str, CircleNode], monkeypatch: pytest.MonkeyPatch
) -> None:
    a = star["a"]
    a.circle.found_circle(name="Kitchen", aim="Feed", domain="Food", founder_name="Ada")
    for n in range(10):
        a.feed.ask_to_join(star["c"].feed.feed_id, "c", "C", f"Hello {n}")
    assert a.feed.own_feed().next_seq == 12
    _several_batches(a, monkeypatch, 2)  # five batches or so owed to each peer

    def failing(acknowledged: object) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(a.outbox, "acknowledge_all", failing)
    network = FakeNetwork(star)
    with pytest.raises(OSError, match="disk full"):
        asyncio.run(Federator(a, network).push_round())  # type: ignore[arg-type]
    # Batches that could not be acknowledged were not pushed again and again: each peer got
    # its first, and at most the one after it, pushed while the failing save was under way.
    assert network.pushes <= 2 * len(PEERS)


class Blackholed(FakeNetwork):
    """Peer e answers only once every other peer's outbox was released (or never)."""

    def __init__(self, nodes: dict[str, CircleNode]) -> None:
        super().__init__(nodes)
        self.released: list[bytes] = []

    async def push(self, url: str, push: Push) -> PushReply:
        if url == "e":
            others = {self.nodes[n].feed.feed_id for n in PEERS if n != "e"}
            while not others <= set(self.released):
                await asyncio.sleep(0.01)
        return await super().push(url, push)


def test_each_peers_claim_is_given_back_when_its_delivery_ends_its_acknowledgement_saved(
    star: dict[str, CircleNode], monkeypatch: pytest.MonkeyPatch
) -> None:
    a = star["a"]
    a.circle.found_circle(name="Kitchen", aim="Feed", domain="Food", founder_name="Ada")
    head = a.feed.own_feed().next_seq
    network = Blackholed(star)
    claims = Claims(a, monkeypatch)
    network.released = claims.released

    def durable(feed_id: bytes) -> None:  # its acknowledgement is saved before its claim goes
        assert a.outbox.delivery(feed_id).next_seq == head

    claims.on_release = durable  # type: ignore[method-assign]
    federator = Federator(a, network)  # type: ignore[arg-type]
    asyncio.run(asyncio.wait_for(federator.push_round(), 5))
    assert sorted(network.released) == sorted(star[n].feed.feed_id for n in PEERS)
