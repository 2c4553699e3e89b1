"""Three workers behind a real reverse proxy: a co-op's node on PostgreSQL (a schema of its
own) served by `circle-node serve --workers 3` as a real process, behind the test's own nginx
(tests/e2e/proxy.py), as docs/operating.md sets it up.

- A member signs in with a browser and takes a decision through the pages while API clients,
  each with a bearer token of its own, take decisions concurrently; nginx's access log shows
  which worker answered each request (the pid each worker puts in `X-Worker`): every worker
  answered. Afterwards every command is in the store exactly once, and the feed verifies.
- A worker is SIGKILLed while it holds the pull lease (the PostgreSQL advisory lock that lets
  one worker at a time pull from peers and check the calendar), and another takes it over;
  the parent starts a worker in the killed one's place.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import threading
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import psycopg
import pytest
from psycopg import sql

from node.app.node import CircleNode
from node.app.persistence import open_node
from node.demo.local_cluster import free_port, wait_for
from node.settings import Settings
from tests.conftest import require_postgres
from tests.e2e.proxy import Nginx, nginx_binary, nginx_in_front
from tests.reliability.harness import (
    Burst,
    check_decisions,
    found_with_rota,
    record,
    send_decisions,
)
from tests.web.conftest import chromium

ROOT = Path(__file__).resolve().parents[2]
WORKERS = 3
pytestmark = pytest.mark.timeout(600)


@dataclass
class Coop:
    """The co-op's node as served: the parent `serve` process, the proxy in front of it, and
    what the test needs to send commands (the rota hat, and tokens of the founder)."""

    process: subprocess.Popen[bytes]
    proxy: Nginx
    settings: Settings
    log: Path
    hat: str
    tokens: list[str]
    before: set[str] = field(default_factory=set)

    def workers(self) -> set[int]:
        found = subprocess.run(
            ["ps", "--ppid", str(self.process.pid), "-o", "pid="], capture_output=True, text=True
        )
        return {int(pid) for pid in found.stdout.split()}

    def open(self) -> CircleNode:
        return open_node(self.settings)

    def text(self) -> str:
        return self.log.read_text(errors="replace")


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Chromium for this module only: the session's (tests/web) would keep Playwright's event
    loop running in this thread for the tests after this module, and their asyncio.run()."""
    with chromium() as launched:
        yield launched


@pytest.fixture(scope="module")
def coop(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Coop]:
    base = require_postgres()
    nginx_binary()  # skip before anything starts when there is no nginx
    schema = f"circle_test_workers_{uuid.uuid4().hex[:12]}"
    folder = tmp_path_factory.mktemp("workers-behind-proxy")
    settings = Settings(
        data_dir=folder / "coop", database_url=f"{base}{'&' if '?' in base else '?'}schema={schema}"
    )
    node = open_node(settings)
    try:
        founder, hat, token = found_with_rota(node, "Co-op")
        tokens = [token] + [node.tokens.issue_token(founder)[1] for _ in range(3)]
        before = {d.title for d in node.records.list_decisions()}
    finally:
        node.close()
    port, public_port = free_port(), free_port()
    log = folder / "serve.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "node", "serve", "--data", str(settings.data_dir),
             "--port", str(port), "--url", f"http://127.0.0.1:{public_port}",
             "--pull-interval", "1", "--workers", str(WORKERS)],
            stdout=out, stderr=subprocess.STDOUT, cwd=ROOT,
            env={**os.environ, "PYTHONUNBUFFERED": "1",
                 "CIRCLE_NODE_DATABASE_URL": str(settings.database_url),
                 "CIRCLE_NODE_TRUSTED_PROXIES": "127.0.0.1"},
        )  # fmt: skip
    try:
        with nginx_in_front(folder / "nginx", f"127.0.0.1:{port}", public_port) as proxy:
            served = Coop(process, proxy, settings, log, hat, tokens, before)
            wait_for(
                lambda: served.text().count("Application startup complete") == WORKERS,
                120,
                f"{WORKERS} workers to start",
            )
            yield served
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            assert process.wait(90) == 0, log.read_text()[-3000:]
        finally:
            if process.poll() is None:
                process.kill()
                process.wait()
            with psycopg.connect(base, autocommit=True) as connection:
                connection.execute(
                    sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(schema))
                )


def test_a_browser_session_and_api_load_spread_over_the_workers_each_command_once(
    coop: Coop, browser: Any
) -> None:
    from tests.web.browsing import expect, signed_in_with_token

    url = coop.proxy.url
    workers = {str(pid) for pid in coop.workers()}
    assert len(workers) == WORKERS

    # Given: API clients taking decisions through the proxy, two per token, in a thread.
    load = Burst()

    def api_load() -> None:
        async def clients() -> list[Burst]:
            return await asyncio.gather(
                *(
                    send_decisions(url, token, coop.hat, f"api{n}", workers=2, per_worker=15)
                    for n, token in enumerate(coop.tokens[1:])
                )
            )

        for burst in asyncio.run(clients()):
            load.merge(burst)

    loading = threading.Thread(target=api_load)
    loading.start()
    try:
        # When: meanwhile the founder signs in with a browser, through the proxy, and takes a
        # decision with the decisions page's form.
        answered_by: list[str] = []
        page = signed_in_with_token(browser, url, coop.tokens[0], "/decisions")
        page.on("response", lambda r: answered_by.append(r.headers.get("x-worker", "")))
        page.get_by_label("With the hat").select_option(coop.hat)
        page.get_by_label("Area of the hat's domain").fill("rota")
        page.get_by_label("Title").fill("Through the proxy")
        page.get_by_label("The decision", exact=False).fill("Whichever worker takes it.")
        page.get_by_role("button", name="Take the decision").click()
        expect(page.locator(".notice")).to_have_text("Your everyday decision is taken.")
        expect(page.get_by_role("heading", level=1)).to_have_text("Through the proxy")

        # And: goes on using the pages, each request to whichever worker nginx picks.
        for _ in range(3):
            page.get_by_role("link", name="All decisions").click()
            expect(page.get_by_role("link", name="Through the proxy")).to_be_visible()
            page.get_by_role("link", name="Through the proxy").click()
            expect(page.get_by_role("heading", level=1)).to_have_text("Through the proxy")
        page.goto(f"{url}/home")
        expect(page.locator("header .who")).to_contain_text("Signed in as Ada")
    finally:
        loading.join(120)
    assert not loading.is_alive()

    # Then: every command was acknowledged, through every worker.
    assert not load.refused and not load.unanswered, load.problems[:3]
    assert set(answered_by) <= workers
    served = coop.proxy.served_by()
    assert set(served) == workers, f"not every worker answered: {served}"
    assert sum(served[w] for w in workers) >= len(load.attempted) + 1

    # And: each command is in the store exactly once, and the feed verifies.
    load.attempted.add("Through the proxy")
    load.acknowledged.add("Through the proxy")
    node = coop.open()
    try:
        figures = check_decisions(node, load, coop.before)
    finally:
        node.close()
    assert figures["decisions"] == len(coop.before) + len(load.acknowledged)
    record(
        "workers-behind-proxy",
        {"workers": WORKERS, "requests_by_worker": sorted(served.values()), **figures},
    )


def test_a_worker_killed_while_it_holds_the_pull_lease_hands_it_to_another(coop: Coop) -> None:
    # Given: exactly one worker holds the lease.
    wait_for(lambda: len(lease_holders(coop)) == 1, 60, "one worker to hold the pull lease")
    (holder,) = lease_holders(coop)

    # When: it is SIGKILLed (no shutdown code runs: the server ends its session and the lock).
    os.kill(holder, signal.SIGKILL)

    # Then: another worker takes the lease over (one of the others, or the one the parent
    # starts in the killed one's place, whichever asks first), and only one holds it.
    wait_for(lambda: bool(lease_holders(coop)), 60, "another worker to take the lease")
    (taker,) = lease_holders(coop)
    assert taker != holder
    wait_for(
        lambda: len(coop.workers() - {holder}) == WORKERS, 60, "a worker in the killed one's place"
    )
    assert f"worker {holder} exited (killed by SIGKILL)" in coop.text()

    # And: commands go on through the proxy, each stored once (sent from a thread of their
    # own: the browser's session keeps an event loop running in this one).
    with ThreadPoolExecutor(1) as apart:
        after = apart.submit(
            lambda: asyncio.run(
                send_decisions(coop.proxy.url, coop.tokens[1], coop.hat, "after", per_worker=5)
            )
        ).result()
    assert not after.refused and not after.unanswered, after.problems[:3]
    node = coop.open()
    try:
        titles = [d.title for d in node.records.list_decisions()]
    finally:
        node.close()
    assert all(titles.count(title) == 1 for title in after.acknowledged)


def lease_holders(coop: Coop) -> set[int]:
    """The workers holding an advisory lock on the test's database: the server's view (which
    session holds a lock, from which client port), matched with each worker's own sockets.
    The node has no peers, so no worker holds an outbox's claim: a lock held is the lease."""
    with psycopg.connect(require_postgres(), autocommit=True) as connection:
        ports = {
            port
            for (port,) in connection.execute(
                "SELECT a.client_port FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid"
                " WHERE l.locktype = 'advisory' AND l.granted"
                " AND l.database = (SELECT oid FROM pg_database"
                "                   WHERE datname = current_database())"
            )
        }
    server_port = urlsplit(require_postgres()).port or 5432
    return {pid for pid in coop.workers() if _local_ports(pid, server_port) & ports}


def _local_ports(pid: int, remote_port: int) -> set[int]:
    """The local ports of a process's TCP connections to `remote_port` (/proc: its sockets'
    inodes, then the kernel's table of TCP sockets)."""
    inodes = set()
    try:
        for fd in os.listdir(f"/proc/{pid}/fd"):
            with_link = os.readlink(f"/proc/{pid}/fd/{fd}")
            if with_link.startswith("socket:["):
                inodes.add(with_link[8:-1])
        tables = [Path(f"/proc/{pid}/net/{t}").read_text() for t in ("tcp", "tcp6")]
    except (FileNotFoundError, ProcessLookupError):
        return set()
    ports = set()
    for table in tables:
        for line in table.splitlines()[1:]:
            fields = line.split()
            if fields[9] in inodes and int(fields[2].rsplit(":", 1)[1], 16) == remote_port:
                ports.add(int(fields[1].rsplit(":", 1)[1], 16))
    return ports
