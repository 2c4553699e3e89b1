"""A large co-op's node served by several worker processes on one PostgreSQL store (the tests'
own server): concurrent commands through every worker never fork the feed, and no outbox
entry is delivered twice to a peer (the peer counts what it is pushed). And within one
process, many concurrent commands never fail on conflicts."""

from __future__ import annotations

import asyncio
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web

from federation.verify import decode_entry, decode_push
from federation.wire import MAX_PAGE_ENTRIES, encode
from node.app.node import CircleNode
from node.app.persistence import open_node
from node.demo.local_cluster import wait_for
from node.settings import Settings
from tests.reliability.harness import (
    ROOT,
    SOAK,
    Burst,
    Served,
    check_cursor,
    check_decisions,
    check_peer_feed,
    check_replay,
    found_with_rota,
    record,
    scaled,
    send_decisions,
)
from tests.reliability.own_postgres import OwnPostgres

pytestmark = pytest.mark.timeout(1800 if SOAK else 120)


class CountingPeer:
    """A peer node (in process, on SQLite) served over loopback HTTP by aiohttp in a thread,
    counting every entry it is pushed, by seq."""

    def __init__(self, node: CircleNode) -> None:
        self.node = node
        self.pushed: Counter[int] = Counter()
        self.pushes = 0
        self._lock = threading.Lock()
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._runner: web.AppRunner | None = None
        self.url = ""

    def start(self) -> None:
        app = web.Application(client_max_size=4 * 1024 * 1024)
        app.router.add_post("/federation/inbox", self._inbox)
        app.router.add_get("/federation/feed", self._feed)
        self._thread.start()

        async def serve() -> int:
            self._runner = web.AppRunner(app)
            await self._runner.setup()
            site = web.TCPSite(self._runner, "127.0.0.1", 0)
            await site.start()
            return int(site._server.sockets[0].getsockname()[1])  # type: ignore[union-attr]

        port = asyncio.run_coroutine_threadsafe(serve(), self._loop).result(10)
        self.url = f"http://127.0.0.1:{port}"

    def stop(self) -> None:
        if self._runner is not None:
            asyncio.run_coroutine_threadsafe(self._runner.cleanup(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)

    async def _inbox(self, request: web.Request) -> web.Response:
        push = decode_push(await request.read())
        reply = await asyncio.to_thread(self._receive, push)
        return web.Response(body=encode(reply), content_type="application/msgpack")

    def _receive(self, push: Any) -> Any:
        with self._lock:
            self.pushes += 1
            for signed in push.entries:
                self.pushed[decode_entry(signed).seq] += 1
            return self.node.intake.receive_push(push)

    async def _feed(self, request: web.Request) -> web.Response:
        after = int(request.query.get("after", "0"))
        limit = min(int(request.query.get("limit", "500")), MAX_PAGE_ENTRIES)
        page = await asyncio.to_thread(self.node.feed.page, after, limit, None)
        return web.Response(body=encode(page), content_type="application/msgpack")


def test_workers_on_one_postgres_store_never_fork_the_feed_nor_deliver_twice(
    server: OwnPostgres, tmp_path: Path
) -> None:
    worker_count = 3
    per_client = scaled(15, 300)
    env = {"CIRCLE_NODE_DATABASE_URL": f"{server.url}?schema=scaleout"}
    data = tmp_path / "coop"
    workers = [
        Served(tmp_path, f"worker{n}", env=env, data=data, pull_interval=2.0)
        for n in range(worker_count)
    ]
    peer = CountingPeer(open_node(Settings(data_dir=tmp_path / "peer")))
    peer.start()
    coop = workers[0].open()
    try:
        _, hat, token = found_with_rota(coop, "Co-op")
        before = {d.title for d in coop.records.list_decisions()}
        coop.peering.add_peer(peer.node.feed.descriptor("peer", peer.url), peer.url)
        peer.node.peering.add_peer(coop.feed.descriptor("co-op", ""), "")
        coop_feed = coop.feed.feed_id
    finally:
        coop.close()
    total = Burst()
    try:
        for worker in workers:
            worker.start()

        async def commands() -> list[Burst]:
            return await asyncio.gather(
                *(
                    send_decisions(
                        worker.url, token, hat, worker.name, workers=2, per_worker=per_client
                    )
                    for worker in workers
                )
            )

        for burst in asyncio.run(commands()):
            total.merge(burst)
        assert not total.refused and not total.unanswered, total.problems[:3]

        watcher = workers[0].open()
        try:

            def delivered() -> bool:
                head = watcher.feed.own_feed().head
                return bool(peer.node.peering.peer_feed(coop_feed).next_seq - 1 == head)

            wait_for(delivered, scaled(60, 600), "the peer to hold the co-op's whole feed")
        finally:
            watcher.close()
    finally:
        for worker in workers:
            worker.stop()
        peer.stop()
    coop = workers[0].open()
    try:
        figures = check_decisions(coop, total, before)  # the feed verifies: 0..n, once each
        cursor = check_cursor(coop, peer.node.feed.feed_id)
        figures.update(check_replay(coop))
    finally:
        coop.close()
    held = check_peer_feed(peer.node, coop_feed)
    twice = sorted(seq for seq, count in peer.pushed.items() if count > 1)
    try:
        assert cursor == held["held"] + 1
        assert not twice, f"entries pushed more than once: {len(twice)} (first {twice[:10]})"
        assert sorted(peer.pushed) == list(range(1, held["held"] + 1))
    finally:
        peer.node.close()
    record(
        "scale-out",
        {
            "workers": worker_count,
            "concurrent_clients": 2 * worker_count,
            "commands": len(total.attempted),
            "acknowledged": len(total.acknowledged),
            "feed_head": figures["feed_head"],
            "pushes": peer.pushes,
            "entries_pushed_twice": len(twice),
            "entries_held_by_the_peer": held["held"],
        },
    )


def test_many_concurrent_commands_in_one_process_never_fail_on_conflicts(
    tmp_path: Path,
) -> None:
    """Every command saves the register and appends to the feed, so concurrent commands
    conflict; each must be retried until it is stored, none refused."""
    threads, commands = 16, scaled(200, 2000)
    store = open_node(Settings(data_dir=tmp_path / "busy"))
    try:
        founder, hat, _ = found_with_rota(store, "Busy")
        before = {d.title for d in store.records.list_decisions()}

        def take(number: int) -> str:
            title = f"busy-{number}"
            store.decisions.take_everyday_decision(founder, hat, "rota", title, "Cover Sundays")
            return title

        with ThreadPoolExecutor(threads) as pool:
            titles = set(pool.map(take, range(commands)))
        burst = Burst(attempted=titles, acknowledged=titles)
        figures = check_decisions(store, burst, before)
        check_replay(store)
    finally:
        store.close()
    assert figures["decisions"] == commands
    record("concurrent-commands", {"threads": threads, "commands": commands, **figures})


CLAIMER = """
import sys, time
from pathlib import Path
from node.app.persistence import open_node
from node.settings import Settings
node = open_node(Settings(data_dir=Path(sys.argv[1]), database_url=sys.argv[2]))
assert node.outbox.claim_outbox(bytes.fromhex(sys.argv[3]))
print("claimed", flush=True)
time.sleep(120)
"""


def test_a_killed_workers_outbox_claim_ends_with_it(server: OwnPostgres, tmp_path: Path) -> None:
    """A worker SIGKILLed while it holds a peer's outbox does not keep it: the server ends its
    session and another worker claims the outbox at once."""
    settings = Settings(data_dir=tmp_path / "coop", database_url=f"{server.url}?schema=claims")
    peer = bytes(range(32))
    store = open_node(settings)
    other = open_node(settings)
    worker = subprocess.Popen(
        [sys.executable, "-c", CLAIMER, str(settings.data_dir), str(settings.database_url),
         peer.hex()],
        stdout=subprocess.PIPE,
        cwd=ROOT,
    )  # fmt: skip
    try:
        assert worker.stdout is not None
        assert worker.stdout.readline().strip() == b"claimed"
        assert not store.outbox.claim_outbox(peer), "two workers hold the same outbox"
        worker.send_signal(signal.SIGKILL)
        worker.wait(10)
        killed = time.monotonic()
        wait_for(lambda: store.outbox.claim_outbox(peer), 10, "the claim to end with its worker")
        freed_after = time.monotonic() - killed
        assert not other.outbox.claim_outbox(peer)
        store.outbox.release_outbox(peer)
        assert other.outbox.claim_outbox(peer)
        other.outbox.release_outbox(peer)
    finally:
        if worker.poll() is None:
            worker.kill()
            worker.wait()
        store.close()
        other.close()
    record("outbox-claim-after-sigkill", {"claim_free_after_s": round(freed_after, 3)})
