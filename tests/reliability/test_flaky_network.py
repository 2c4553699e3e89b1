"""Two real nodes that reach each other only through TCP proxies (asyncio, on loopback) that
refuse, delay, stall and cut connections at random, both ways, all along. Both circles keep
taking decisions; every entry arrives, verifies, and is applied once."""

from __future__ import annotations

import asyncio
import contextlib
import random
import threading
import time
from collections import Counter
from pathlib import Path

import pytest

from node.demo.local_cluster import wait_for
from tests.reliability.harness import (
    SOAK,
    Burst,
    Served,
    check_own_feed,
    check_peer_feed,
    check_replay,
    found_with_rota,
    record,
    scaled,
    send_decisions,
)

pytestmark = pytest.mark.timeout(1800 if SOAK else 120)

# What the proxy does with each connection, and how often (the rest pass untouched).
FAULTS = {"refuse": 0.15, "delay": 0.15, "stall": 0.10, "cut": 0.20}
MAX_DELAY = 0.3  # per chunk forwarded
MAX_STALL = 2.0  # before the connection is closed
MAX_LIFETIME = 2.0  # of any connection, after which the proxy closes it


class ChaosProxy:
    """A TCP proxy to 127.0.0.1:`target` with its own event loop in a thread."""

    def __init__(self, target: int, rng: random.Random) -> None:
        self.target = target
        self.rng = rng
        self.faults: Counter[str] = Counter()
        self.bytes = 0
        self.port = 0
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._server: asyncio.Server | None = None
        # The first connections get one fault of each kind (in random order), then at random.
        self._first = list(FAULTS)
        rng.shuffle(self._first)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        self._thread.start()
        self._server = asyncio.run_coroutine_threadsafe(
            asyncio.start_server(self._handle, "127.0.0.1", 0), self._loop
        ).result(10)
        self.port = self._server.sockets[0].getsockname()[1]

    def stop(self) -> None:
        async def close() -> None:
            assert self._server is not None
            self._server.close()
            for task in asyncio.all_tasks():
                if task is not asyncio.current_task():
                    task.cancel()

        asyncio.run_coroutine_threadsafe(close(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)

    def _fault(self) -> str:
        if self._first:
            return self._first.pop()
        draw = self.rng.random()
        for name, share in FAULTS.items():
            if draw < share:
                return name
            draw -= share
        return "pass"

    async def _handle(self, client_r: asyncio.StreamReader, client_w: asyncio.StreamWriter) -> None:
        fault = self._fault()
        self.faults[fault] += 1
        try:
            if fault == "refuse":
                return
            if fault == "stall":
                await asyncio.sleep(self.rng.uniform(0.2, MAX_STALL))
                return
            upstream_r, upstream_w = await asyncio.open_connection("127.0.0.1", self.target)
            # A cut: after a random number of bytes in one direction, both sides are closed.
            budget = {"up": -1, "down": -1}
            if fault == "cut":
                budget[self.rng.choice(["up", "down"])] = self.rng.randint(0, 4000)
            delay = MAX_DELAY if fault == "delay" else 0.0
            try:
                # No connection lives long (clients reconnect, and meet the next fault).
                await asyncio.wait_for(
                    asyncio.gather(
                        self._pipe(client_r, upstream_w, budget, "up", delay),
                        self._pipe(upstream_r, client_w, budget, "down", delay),
                    ),
                    self.rng.uniform(0.2, MAX_LIFETIME),
                )
            except TimeoutError:
                self.faults["closed_after_lifetime"] += 1
            finally:
                upstream_w.close()
        except (OSError, asyncio.IncompleteReadError):
            pass
        finally:
            client_w.close()

    async def _pipe(
        self,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        budget: dict[str, int],
        direction: str,
        delay: float,
    ) -> None:
        try:
            while True:
                chunk = await reader.read(1024)
                if not chunk:
                    break
                if budget[direction] >= 0:
                    if len(chunk) > budget[direction]:
                        writer.write(chunk[: budget[direction]])
                        with contextlib.suppress(OSError):
                            await writer.drain()
                        raise ConnectionResetError("cut")
                    budget[direction] -= len(chunk)
                if delay:
                    await asyncio.sleep(self.rng.uniform(0, delay))
                writer.write(chunk)
                await writer.drain()
                self.bytes += len(chunk)
        finally:
            # Closing one direction ends the exchange (HTTP/1.1 needs both).
            writer.close()


def test_entries_cross_a_proxy_that_drops_delays_and_cuts(
    tmp_path: Path, rng: random.Random
) -> None:
    per_node = scaled(60, 600)
    nodes = {name: Served(tmp_path, name, pull_interval=1.0) for name in ("a", "b")}
    proxies = {name: ChaosProxy(node.port, rng) for name, node in nodes.items()}
    for proxy in proxies.values():
        proxy.start()
    authors: dict[str, tuple[str, str, str]] = {}
    feeds: dict[str, bytes] = {}
    for name, node in nodes.items():
        node.public_url = proxies[name].url  # peers reach it only through its proxy
        with node.handle() as store:
            authors[name] = found_with_rota(store, name.upper())
            feeds[name] = store.feed.feed_id
    with nodes["a"].handle() as a, nodes["b"].handle() as b:
        a.peering.add_peer(b.feed.descriptor("b", proxies["b"].url), proxies["b"].url)
        b.peering.add_peer(a.feed.descriptor("a", proxies["a"].url), proxies["a"].url)
    bursts: dict[str, Burst] = {}
    started = time.monotonic()
    try:
        for node in nodes.values():
            node.start()

        async def publish() -> None:
            results = await asyncio.gather(
                *(
                    send_decisions(
                        node.url,
                        authors[name][2],
                        authors[name][1],
                        f"{name}",
                        workers=2,
                        per_worker=per_node // 2,
                        stop_on_error=False,
                        pause=0.1,
                    )
                    for name, node in nodes.items()
                )
            )
            bursts.update(zip(nodes, results, strict=True))

        asyncio.run(publish())
        for name, burst in bursts.items():
            assert burst.acknowledged == burst.attempted, f"{name}: {burst.problems[:3]}"

        def heads() -> dict[str, int]:
            found = {}
            for name, node in nodes.items():
                with node.handle() as store:
                    found[name] = store.feed.own_feed().head
            return found

        def converged() -> bool:
            own = heads()
            for name, node in nodes.items():
                other = "b" if name == "a" else "a"
                with node.handle() as store:
                    if store.peering.peer_feed(feeds[other]).next_seq - 1 < own[other]:
                        return False
            return True

        wait_for(converged, scaled(60, 600), "both nodes to hold each other's feed")
        converged_after = time.monotonic() - started
    finally:
        for node in nodes.values():
            node.stop()
        for proxy in proxies.values():
            proxy.stop()
    held = {}
    for name, node in nodes.items():
        other = "b" if name == "a" else "a"
        with node.handle() as store:
            check_own_feed(store)
            held[name] = check_peer_feed(store, feeds[other])
            check_replay(store)
            view = store.relations.peer_view(feeds[other])
            assert view is not None
            titles = {d["title"] for d in view.decisions.values()}
            assert bursts[other].acknowledged <= titles, "a decision did not cross"
    faults = proxies["a"].faults + proxies["b"].faults
    for kind in [*FAULTS, "closed_after_lifetime"]:
        assert faults[kind] >= 1, f"the proxy never injected a {kind}"
    record(
        "flaky-network",
        {
            "seed": rng.seed_value,  # type: ignore[attr-defined]
            "decisions_per_node": per_node,
            "connections": sum(n for kind, n in faults.items() if kind != "closed_after_lifetime"),
            "faults": dict(faults),
            "entries_held": {name: h["held"] for name, h in held.items()},
            "runs_taken": {name: h["runs"] for name, h in held.items()},
            "converged_after_s": round(converged_after, 1),
        },
    )
