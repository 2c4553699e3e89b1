"""A restored node served by two processes on one store (node/network/deliveries.py): only the
one holding the lease takes its own feed back from its peers; the other signs nothing until
the store says it is done, and then signs again, on the feed as taken back.

The cast: `a` published, was backed up, published more, and died; `one` and `two` are the
restored `a` as two workers open it; `b` is its peer and holds all it published."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest

from federation.client import TransportError
from federation.wire import FeedPage
from node.app.node import CircleNode
from node.app.persistence import open_node
from node.cli.backup import backup
from node.cli.restore import restore
from node.network.deliveries import Deliveries
from node.network.delivery import Federator
from node.settings import Settings
from tests.node.test_deliveries import Waking, caught_up, until
from tests.node.test_delivery import FakeNetwork
from tests.node.test_federation_node import deliver, publish

pytestmark = pytest.mark.timeout(120)
B = "http://b.invalid"


class SharedLease:
    """The lease of one store as two processes share it: the first to ask holds it."""

    def __init__(self) -> None:
        self.holder: Handle | None = None


class Handle:
    """One process's side of a `SharedLease`."""

    def __init__(self, shared: SharedLease) -> None:
        self.shared = shared
        self.asked = 0

    @property
    def held(self) -> bool:
        return self.shared.holder is self

    def try_take(self) -> bool:
        self.asked += 1
        if self.shared.holder is None:
            self.shared.holder = self
        return self.held

    def release(self) -> None:
        if self.held:
            self.shared.holder = None


class HeldCopies(FakeNetwork):
    """Also serves `node`'s held copy of its own feed (`held_copy`), once `open` is set."""

    def __init__(self, nodes: dict[str, CircleNode], node: CircleNode, open: asyncio.Event):
        super().__init__(nodes)
        self.feed_id = node.feed.feed_id
        self.open = open
        self.asked = 0

    async def held_copy(self, url: str, after: int, limit: int) -> FeedPage:
        self.asked += 1
        await self.open.wait()
        page = self.nodes[url].peering.held_copy(self.feed_id, after, limit)
        if page is None:
            raise TransportError("not a peer")
        return page


@pytest.fixture
def restored(tmp_path: Path) -> Iterator[tuple[CircleNode, CircleNode, CircleNode]]:
    a = open_node(Settings(data_dir=tmp_path / "a"))
    b = open_node(Settings(data_dir=tmp_path / "b"))
    a.peering.add_peer(b.feed.descriptor("b", B), B)
    b.peering.add_peer(a.feed.descriptor("a", "http://a.invalid"), "http://a.invalid")
    publish(a, 1)
    deliver(a, b)
    backup(Settings(data_dir=tmp_path / "a"), tmp_path / "a.tar")
    publish(a, 2)
    deliver(a, b)
    a.close()
    restore(tmp_path / "a.tar", tmp_path / "a2")
    one = open_node(Settings(data_dir=tmp_path / "a2"))
    two = open_node(Settings(data_dir=tmp_path / "a2"))
    yield one, two, b
    for node in (one, two, b):
        node.close()


def test_only_the_lease_holder_takes_the_feed_back_and_the_other_waits_for_it(
    restored: tuple[CircleNode, CircleNode, CircleNode],
) -> None:
    one, two, b = restored
    assert one.take_back.pending and two.take_back.pending
    shared = SharedLease()
    handles = [Handle(shared), Handle(shared)]

    async def scenario() -> None:
        gate = asyncio.Event()  # b answers for its held copy once the test opens it
        networks = [HeldCopies({B: b}, node, gate) for node in (one, two)]
        loops = []
        for node, handle, network in zip((one, two), handles, networks, strict=True):
            deliveries = Deliveries(lease=handle, lease_interval=0.02)
            federator = Federator(node, network, pull_interval=3600)  # type: ignore[arg-type]
            deliveries.add("a", federator)
            node.observer = Waking(deliveries, "a")  # its appends pushed at once
            loops.append(deliveries)
        # Given the first worker holds the lease, then the second starts beside it.
        tasks = [asyncio.create_task(loops[0].run())]
        try:
            await until(lambda: loops[0].leading, "the first worker leads")
            tasks.append(asyncio.create_task(loops[1].run()))
            # When the holder is asking b for its copy, and the other has looked several times:
            await until(lambda: networks[0].asked == 1, "the holder asks b")
            await until(lambda: handles[1].asked >= 3, "the other asks for the lease")
            # Then the other has not asked b, and signs nothing yet.
            assert networks[1].asked == 0 and not loops[1].leading
            assert two.take_back.pending and not loops[1].members["a"].ready
            # When b answers: the holder takes the feed back, and the other signs again.
            gate.set()
            await until(lambda: not one.take_back.pending, "the holder took the feed back")
            await until(lambda: loops[1].members["a"].ready, "the other goes on")
            assert not two.take_back.pending and networks[1].asked == 0
            # And what the other signs next follows the feed taken back: b takes it, no fork.
            await asyncio.to_thread(publish, two, 1)
            await until(lambda: caught_up(b, two), "b takes what the other signed")
            assert not b.peering.peer(two.feed.feed_id).stopped  # type: ignore[union-attr]
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

    asyncio.run(scenario())
