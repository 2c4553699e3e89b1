"""An idle host (node/network/deliveries.py): a node without peers is not pulled and is polled
only one safety poll in `peerless_every`, so it reads next to nothing from its store until it is
told of a change (an append, another process's commit or notification); once it has a peer it
is pushed and pulled like any. A change no one told of (no watch of its file, a push round that
failed) is found by the rare poll, or by the next one."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from eventsourcing.persistence import OperationalError

from federation.wire import encode
from node.app.persistence import open_node
from node.network.deliveries import Deliveries
from node.network.delivery import Federator
from node.settings import Settings
from tests.node.test_deliveries import (
    CountedReads,
    Waking,
    caught_up,
    driving,
    found,
    until,
)
from tests.node.test_deliveries_postgres import python
from tests.node.test_delivery import FakeNetwork

pytestmark = pytest.mark.timeout(120)

TINY = 0.01  # the safety poll's and the pull schedule's interval here: many rounds in a test


def settled(deliveries: Deliveries, key: str) -> bool:
    """The node's first push and pull are over (and it knows whether it has peers)."""
    member = deliveries.members[key]
    tasks = (member.pushing, member.listing)
    return all(t is not None and t.done() for t in tasks) and not deliveries._pulling


def test_a_node_without_peers_reads_nothing_until_an_append_brings_it_a_peer(
    nodes, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    # Given a kitchen without peers and an orchard that follows the garden, in one loop whose
    # safety poll and pull schedule come round every few milliseconds.
    kitchen, orchard, garden = nodes("kitchen"), nodes("orchard"), nodes("garden")
    found(garden, "Garden")
    orchard.peering.add_peer(garden.feed.descriptor("garden", "garden"), "garden")
    network = FakeNetwork({"kitchen": kitchen, "orchard": orchard, "garden": garden})
    deliveries = Deliveries(safety_poll=TINY, peerless_every=10_000)  # not within the test
    for name, node in (("kitchen", kitchen), ("orchard", orchard)):
        deliveries.add(name, Federator(node, network, pull_interval=TINY))  # type: ignore[arg-type]
        node.observer = Waking(deliveries, name)
    kitchen_reads = CountedReads(kitchen, monkeypatch)
    orchard_reads = CountedReads(orchard, monkeypatch)

    async def scenario() -> None:
        await until(lambda: settled(deliveries, "kitchen"), "the kitchen's first look")
        assert deliveries.members["kitchen"].federator.peerless
        assert not deliveries.members["orchard"].federator.peerless
        kitchen_before, orchard_before = kitchen_reads.count, orchard_reads.count
        # When many safety polls and pull intervals go by:
        await until(lambda: orchard_reads.count > orchard_before + 50, "the orchard looked at")
        # Then the orchard was looked at again and again, and the kitchen never.
        assert kitchen_reads.count == kitchen_before
        # When the kitchen gains a peer, and appends (which wakes it):
        kitchen.peering.add_peer(garden.feed.descriptor("garden", "garden"), "garden")
        garden.peering.add_peer(kitchen.feed.descriptor("kitchen", "kitchen"), "kitchen")
        await asyncio.to_thread(found, kitchen, "Kitchen")
        # Then it is pushed to the garden and pulls from it, and is looked at like any node.
        await until(lambda: caught_up(garden, kitchen), "the kitchen's founding pushed")
        await until(lambda: caught_up(kitchen, garden), "the garden pulled")
        assert not deliveries.members["kitchen"].federator.peerless
        after = kitchen_reads.count
        await until(lambda: kitchen_reads.count > after + 20, "the kitchen looked at again")

    asyncio.run(driving(deliveries, scenario))


def test_a_peer_added_by_another_connection_is_pulled_at_once(nodes) -> None:  # type: ignore[no-untyped-def]
    # Given a kitchen without peers whose store's commits are watched (SQLite's file), and
    # neither a safety poll nor a pull to speak of.
    kitchen, garden = nodes("kitchen"), nodes("garden")
    found(garden, "Garden")
    network = FakeNetwork({"kitchen": kitchen, "garden": garden})
    deliveries = Deliveries(safety_poll=3600)
    deliveries.add(
        "kitchen",
        Federator(kitchen, network, pull_interval=3600),  # type: ignore[arg-type]
        changed_file=kitchen.store.changed_file(),
    )

    async def scenario() -> None:
        await until(lambda: settled(deliveries, "kitchen"), "the kitchen's first look")
        assert deliveries.members["kitchen"].federator.peerless
        # When a peer is added, as `circle-node peer add` does beside the server (no append):
        descriptor = garden.feed.descriptor("garden", "garden")
        await asyncio.to_thread(kitchen.peering.add_peer, descriptor, "garden")
        # Then the commit is heard, the kitchen has a peer, and it pulls from it at once.
        await until(lambda: caught_up(kitchen, garden), "the garden pulled")
        assert not deliveries.members["kitchen"].federator.peerless

    asyncio.run(driving(deliveries, scenario))


ADDING_A_PEER = """
import sys
from pathlib import Path
from federation.wire import DESCRIPTOR_DECODER
from node.app.persistence import open_node
from node.settings import Settings

node = open_node(Settings(data_dir=Path(sys.argv[1]), database_url=sys.argv[2]))
node.peering.add_peer(DESCRIPTOR_DECODER.decode(Path(sys.argv[3]).read_bytes()), "garden")
node.close()
"""


def test_a_peer_another_process_adds_on_postgresql_is_pulled_at_once(
    postgres_url: str, tmp_path: Path
) -> None:
    # Given a kitchen without peers on PostgreSQL, its appends heard from the store's
    # notifications, and neither a safety poll nor a pull to speak of.
    settings = Settings(data_dir=tmp_path / "kitchen", database_url=postgres_url)
    kitchen = open_node(settings)
    garden = open_node(Settings(data_dir=tmp_path / "garden"))
    try:
        found(garden, "Garden")
        network = FakeNetwork({"kitchen": kitchen, "garden": garden})
        deliveries = Deliveries(safety_poll=3600)
        deliveries.add(
            "kitchen",
            Federator(kitchen, network, pull_interval=3600),  # type: ignore[arg-type]
            notices=kitchen.store.notice_source(),
        )
        descriptor = tmp_path / "garden.descriptor"
        descriptor.write_bytes(encode(garden.feed.descriptor("garden", "garden")))

        async def scenario() -> None:
            await until(lambda: settled(deliveries, "kitchen"), "the kitchen's first look")
            assert deliveries.members["kitchen"].federator.peerless
            # When another process adds a peer (`circle-node peer add`: no append):
            other = python(ADDING_A_PEER, str(settings.data_dir), postgres_url, str(descriptor))
            assert await asyncio.to_thread(other.wait, 60) == 0
            # Then this one is told, and pulls from it at once.
            await until(lambda: caught_up(kitchen, garden), "the garden pulled")

        asyncio.run(driving(deliveries, scenario))
    finally:
        kitchen.close()
        garden.close()


def test_a_peer_added_untold_is_found_by_the_rare_poll(nodes) -> None:  # type: ignore[no-untyped-def]
    # Given a kitchen without peers whose store's commits are not watched (as where the system
    # cannot watch files), and a safety poll that looks at nodes without peers one round in 3.
    kitchen, garden = nodes("kitchen"), nodes("garden")
    found(garden, "Garden")
    network = FakeNetwork({"kitchen": kitchen, "garden": garden})
    deliveries = Deliveries(safety_poll=TINY, peerless_every=3)
    deliveries.add("kitchen", Federator(kitchen, network, pull_interval=TINY))  # type: ignore[arg-type]

    async def scenario() -> None:
        await until(lambda: settled(deliveries, "kitchen"), "the kitchen's first look")
        assert deliveries.members["kitchen"].federator.peerless
        # When a peer is added beside the server, and no one tells:
        descriptor = garden.feed.descriptor("garden", "garden")
        await asyncio.to_thread(kitchen.peering.add_peer, descriptor, "garden")
        # Then a rare poll finds it, and the kitchen pulls from it.
        await until(lambda: caught_up(kitchen, garden), "the garden pulled", timeout=10)

    asyncio.run(driving(deliveries, scenario))


def test_a_peer_added_whose_push_round_fails_is_looked_at_again(nodes) -> None:  # type: ignore[no-untyped-def]
    # Given a kitchen without peers whose commits are watched, and a poll that would look at
    # it again only after a long while.
    kitchen, garden = nodes("kitchen"), nodes("garden")
    found(garden, "Garden")
    network = FakeNetwork({"kitchen": kitchen, "garden": garden})
    deliveries = Deliveries(safety_poll=TINY, peerless_every=10_000)
    federator = Federator(kitchen, network, pull_interval=TINY)  # type: ignore[arg-type]
    deliveries.add("kitchen", federator, changed_file=kitchen.store.changed_file())

    async def scenario() -> None:
        await until(lambda: settled(deliveries, "kitchen"), "the kitchen's first look")
        assert federator.peerless
        real = kitchen.peering.peers
        failures = [OperationalError("database is locked")]  # one store error, passing

        def flaky():  # type: ignore[no-untyped-def]
            if failures:
                raise failures.pop()
            return real()

        kitchen.peering.peers = flaky  # type: ignore[method-assign]
        # When a peer is added and the push round its commit wakes fails:
        descriptor = garden.feed.descriptor("garden", "garden")
        await asyncio.to_thread(kitchen.peering.add_peer, descriptor, "garden")
        await until(lambda: not failures, "the push round after the commit")
        # Then the kitchen is looked at again, and pulls from its new peer.
        await until(lambda: caught_up(kitchen, garden), "the garden pulled", timeout=10)

    asyncio.run(driving(deliveries, scenario))
