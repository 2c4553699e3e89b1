"""One delivery loop for every node of a process (node/network/deliveries.py): pulls from
several peers at once, a silent peer holding up no other; an idle node reading nothing from
its store; pushes woken by appends; and pulls only in the process that holds the lease."""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from federation.client import FederationClient
from federation.wire import MAX_PAGE_ENTRIES, encode
from node.app.node import CircleNode
from node.network.deliveries import Deliveries
from node.network.delivery import Federator
from node.network.observing import Observer
from tests.node.test_delivery import FakeNetwork

pytestmark = pytest.mark.timeout(120)


def found(node: CircleNode, name: str) -> None:
    node.circle.found_circle(name=name, aim="Feed", domain="Food", founder_name="Ada")


async def until(condition: Callable[[], bool], what: str, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"never: {what}"
        await asyncio.sleep(0.02)


async def driving(deliveries: Deliveries, scenario: Callable[[], Awaitable[None]]) -> None:
    task = asyncio.create_task(deliveries.run())
    try:
        await scenario()
    finally:
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task


def caught_up(puller: CircleNode, peer: CircleNode) -> bool:
    held = puller.peering.peer_feed(peer.feed.feed_id).next_seq
    return held == peer.feed.own_feed().next_seq


# A silent peer.


class FeedServer:
    """A peer's feed served over loopback HTTP by aiohttp, in a thread of its own."""

    def __init__(self, node: CircleNode) -> None:
        self.node = node
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.runner: web.AppRunner | None = None
        self.url = ""

    def __enter__(self) -> FeedServer:
        app = web.Application()
        app.router.add_get("/federation/feed", self.feed)
        self.thread.start()

        async def serve() -> int:
            self.runner = web.AppRunner(app)
            await self.runner.setup()
            site = web.TCPSite(self.runner, "127.0.0.1", 0)
            await site.start()
            return int(site._server.sockets[0].getsockname()[1])  # type: ignore[union-attr]

        self.url = (
            f"http://127.0.0.1:{asyncio.run_coroutine_threadsafe(serve(), self.loop).result(10)}"
        )
        return self

    def __exit__(self, *exc: object) -> None:
        if self.runner is not None:
            asyncio.run_coroutine_threadsafe(self.runner.cleanup(), self.loop).result(10)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)

    async def feed(self, request: web.Request) -> web.Response:
        after = int(request.query.get("after", "0"))
        limit = min(int(request.query.get("limit", "500")), MAX_PAGE_ENTRIES)
        page = await asyncio.to_thread(self.node.feed.page, after, limit, None)
        return web.Response(body=encode(page), content_type="application/msgpack")


class SilentServer:
    """Takes connections and reads requests, and never answers any."""

    def __init__(self) -> None:
        self.socket = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.socket.getsockname()[1]}"
        self.requests: list[socket.socket] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                connection, _ = self.socket.accept()
            except OSError:
                return
            connection.recv(65536)
            self.requests.append(connection)

    def still_open(self) -> int:
        """Requests whose client still waits (it has not closed the connection)."""
        waiting = 0
        for connection in self.requests:
            connection.setblocking(False)
            try:
                waiting += connection.recv(1) != b""
            except BlockingIOError:
                waiting += 1
            except OSError:
                pass
        return waiting

    def close(self) -> None:
        self.socket.close()
        for connection in self.requests:
            connection.close()


def test_a_silent_peer_does_not_hold_up_the_pull_from_another(nodes) -> None:  # type: ignore[no-untyped-def]
    kitchen, garden, silent_node = nodes("kitchen"), nodes("garden"), nodes("silent")
    found(garden, "Garden")
    silent = SilentServer()
    try:
        with FeedServer(garden) as served:
            # The silent peer is followed first: pulled one after the other, it would hold the
            # garden's pull back for the whole request timeout.
            kitchen.peering.add_peer(silent_node.feed.descriptor("silent", silent.url), silent.url)
            kitchen.peering.add_peer(garden.feed.descriptor("garden", served.url), served.url)

            async def scenario() -> None:
                timeout = aiohttp.ClientTimeout(total=600)
                async with aiohttp.ClientSession(timeout=timeout) as session:
                    deliveries = Deliveries(pulls_at_once=8)
                    federator = Federator(kitchen, FederationClient(session))
                    deliveries.add("kitchen", federator)

                    async def caught_up_while_silent() -> None:
                        await until(lambda: caught_up(kitchen, garden), "garden's entries taken")
                        # ... while the silent peer's pull still waits for its answer.
                        assert silent.still_open() == 1

                    await driving(deliveries, caught_up_while_silent)

            asyncio.run(scenario())
    finally:
        silent.close()


# An idle node.


class CountedReads:
    """Counts the reads of a node's store, at its recorder."""

    def __init__(self, node: CircleNode, monkeypatch: pytest.MonkeyPatch) -> None:
        self.count = 0
        recorder = node.store.recorder
        for name in dir(recorder):
            if name.startswith(("select", "max_")) and callable(getattr(recorder, name)):
                monkeypatch.setattr(recorder, name, self._counted(getattr(recorder, name)))

    def _counted(self, read: Callable[..., Any]) -> Callable[..., Any]:
        def counted(*args: Any, **kwargs: Any) -> Any:
            self.count += 1
            return read(*args, **kwargs)

        return counted


class Waking(Observer):
    def __init__(self, deliveries: Deliveries, key: str) -> None:
        self.deliveries, self.key = deliveries, key

    def appended(self, count: int) -> None:
        self.deliveries.wake(self.key)


def test_an_idle_node_reads_nothing_and_an_append_wakes_its_push(
    nodes, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    kitchen, garden = nodes("kitchen"), nodes("garden")
    kitchen.peering.add_peer(garden.feed.descriptor("garden", "garden"), "garden")
    garden.peering.add_peer(kitchen.feed.descriptor("kitchen", "kitchen"), "kitchen")
    network = FakeNetwork({"kitchen": kitchen, "garden": garden})
    # Looked at every half second before; now only when woken (and every hour besides).
    deliveries = Deliveries(safety_poll=3600)
    deliveries.add("kitchen", Federator(kitchen, network, pull_interval=3600))  # type: ignore[arg-type]
    kitchen.observer = Waking(deliveries, "kitchen")
    reads = CountedReads(kitchen, monkeypatch)

    async def scenario() -> None:
        member = deliveries.members["kitchen"]

        def settled() -> bool:  # the first push and pull are over
            return (
                all(task is not None and task.done() for task in (member.pushing, member.listing))
                and not deliveries._pulling
            )

        await until(lambda: caught_up(garden, kitchen), "the first push")
        await until(settled, "the first push and pull over")
        before = reads.count
        assert before > 0
        pushes = network.pushes
        await asyncio.sleep(2.0)  # four looks at the outbox, as it was
        assert reads.count == before
        assert network.pushes == pushes
        await asyncio.to_thread(found, kitchen, "Kitchen")  # appends: woken at once
        await until(lambda: caught_up(garden, kitchen), "the founding pushed")
        assert reads.count > before

    asyncio.run(driving(deliveries, scenario))


# Who leads.


class NeverHeld:
    held = False
    asked = 0

    def try_take(self) -> bool:
        self.asked += 1
        return False

    def release(self) -> None:
        pass


def test_a_process_without_the_lease_pushes_but_does_not_pull(nodes) -> None:  # type: ignore[no-untyped-def]
    kitchen, garden = nodes("kitchen"), nodes("garden")
    found(garden, "Garden")
    kitchen.peering.add_peer(garden.feed.descriptor("garden", "garden"), "garden")
    garden.peering.add_peer(kitchen.feed.descriptor("kitchen", "kitchen"), "kitchen")
    network = FakeNetwork({"kitchen": kitchen, "garden": garden})
    lease = NeverHeld()
    checks: list[int] = []
    deliveries = Deliveries(lease=lease, lease_interval=0.05)
    deliveries.add(
        "kitchen",
        Federator(kitchen, network),  # type: ignore[arg-type]
        calendar_check=lambda: checks.append(1),
    )

    async def scenario() -> None:
        await until(lambda: caught_up(garden, kitchen), "the first push")
        await until(lambda: lease.asked >= 3, "asking for the lease again")
        assert not deliveries.leading
        assert not caught_up(kitchen, garden) and not checks

    asyncio.run(driving(deliveries, scenario))


def test_one_loop_drives_the_delivery_and_calendar_of_several_nodes(nodes) -> None:  # type: ignore[no-untyped-def]
    garden = nodes("garden")
    found(garden, "Garden")
    circles = {name: nodes(name) for name in ("kitchen", "orchard")}
    network = FakeNetwork({"garden": garden, **circles})
    checked: list[str] = []
    deliveries = Deliveries(safety_poll=3600)
    for name, node in circles.items():
        node.peering.add_peer(garden.feed.descriptor("garden", "garden"), "garden")
        garden.peering.add_peer(node.feed.descriptor(name, name), name)
        deliveries.add(
            name,
            Federator(node, network, pull_interval=3600),  # type: ignore[arg-type]
            calendar_check=lambda name=name: checked.append(name),  # type: ignore[misc]
        )
        node.observer = Waking(deliveries, name)

    async def scenario() -> None:
        for node in circles.values():
            await until(lambda node=node: caught_up(node, garden), "each pulled from the garden")  # type: ignore[misc]
        await until(lambda: sorted(checked) == ["kitchen", "orchard"], "each calendar checked")
        await asyncio.to_thread(found, circles["orchard"], "Orchard")
        await until(lambda: caught_up(garden, circles["orchard"]), "the orchard's append pushed")
        deliveries.remove("orchard")
        assert list(deliveries.members) == ["kitchen"]
        await asyncio.to_thread(found, circles["kitchen"], "Kitchen")
        await until(lambda: caught_up(garden, circles["kitchen"]), "the kitchen's append pushed")

    asyncio.run(driving(deliveries, scenario))
