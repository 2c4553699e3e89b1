"""A restarted peer catches up: a real `circle-node serve` process that was stopped while the
author appended `count` entries (the catch-up scenario's kind: `decision.record`, opaque bodies,
no domain effects at the receiver), on SQLite, timed from its first 200 from /healthz until its
store holds every one of them.

Setup (not timed): the author's feed with a few entries, served by its own process; the peer's
folder knows the author as a peer; the peer is served until it holds those few, then stopped.
The author appends `count` entries (in this process, into its store, while it serves), and is
asked for its last entry: a node that appends in its own process has its own feed at hand, as
the author's process has it after that (a process whose store another one appended to reads
what it missed of its own feed on its next request). Timed:
the peer is started again; /healthz is asked every 10 ms until it answers, and the peer's store,
read-only, every 10 ms until it holds the author's last entry. The peer pulls every hour
(`--pull-interval`): what it takes, it takes from the pull a node makes at its start.

Baseline: the catch-up scenario's own rate (a fresh node catching up in the bench's process),
as the time it would take for `count` entries.
"""

from __future__ import annotations

import asyncio
import sqlite3
import statistics
import tempfile
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import aiohttp

from bench.catchup import build_feed
from bench.report import Report, Row
from bench.servers import served
from federation.client import FederationClient
from node.app.persistence import open_node
from node.settings import Settings

TARGET_SECONDS = 2.0
SEED = 10  # the entries the peer holds before it is stopped
RUNS = 3  # restarts, each after `count` more entries
POLL = 0.01


@dataclass(frozen=True)
class Restart:
    started: float  # seconds from starting the process to its first 200 from /healthz
    first: float  # from that 200 until the peer held an entry it missed
    held: float  # from that 200 until it held them all


def _peer_with(folder: Path, url: str) -> None:
    """The peer's folder, knowing the author (served at `url`) as a peer."""

    async def descriptor() -> object:
        async with aiohttp.ClientSession() as session:
            return await FederationClient(session).descriptor(url)

    node = open_node(Settings(data_dir=folder))
    try:
        node.peering.add_peer(asyncio.run(descriptor()), url)  # type: ignore[arg-type]
    finally:
        node.close()


def _author_feed(folder: Path) -> bytes:
    node = open_node(Settings(data_dir=folder))
    try:
        return node.feed.feed_id
    finally:
        node.close()


def _ask_for_last(url: str, head: int) -> None:
    with urllib.request.urlopen(f"{url}/federation/feed?after={head - 1}&limit=1", timeout=60):
        pass


def _held(store: Path, feed: bytes) -> int:
    """The last seq of `feed` the peer's store holds (read-only; 0 if none yet)."""
    with sqlite3.connect(f"file:{store}?mode=ro", uri=True) as connection:
        row = connection.execute(
            "SELECT max(seq) FROM feed_entries WHERE feed = ?", (feed,)
        ).fetchone()
    return int(row[0] or 0)


def _wait_until_held(
    store: Path, feed: bytes, seq: int, since: float, was: int
) -> tuple[float, float]:
    """Seconds from `since` until the store held more than `was`, and until it held `seq`."""
    deadline = since + 300.0
    first: float | None = None
    while True:
        held = _held(store, feed)
        now = time.perf_counter()
        if first is None and held > was:
            first = now - since
        if held >= seq:
            return (first if first is not None else now - since), now - since
        if now > deadline:
            raise RuntimeError(f"the restarted peer held {held} of {seq} entries after 300 s")
        time.sleep(POLL)


def measure(count: int, runs: int | None = None) -> list[Restart]:
    """`runs` (default RUNS) restarts of a peer that missed `count` entries each time."""
    restarts = []
    with tempfile.TemporaryDirectory(prefix="bench-restart-") as tmp:
        author, peer = Path(tmp) / "author", Path(tmp) / "peer"
        build_feed(author, SEED)
        feed = _author_feed(author)
        store = Settings(data_dir=peer).sqlite_path
        with served(author) as url:
            _peer_with(peer, url)
            with served(peer, poll=POLL):
                _wait_until_held(store, feed, SEED, time.perf_counter(), 0)
            last = SEED
            for _ in range(runs or RUNS):
                build_feed(author, count)  # while the peer is stopped
                _ask_for_last(url, last + count)
                started = time.perf_counter()
                with served(peer, poll=POLL):
                    answered = time.perf_counter()
                    first, held = _wait_until_held(store, feed, last + count, answered, last)
                restarts.append(Restart(answered - started, first, held))
                last += count
    return restarts


def run(report: Report, count: int, catch_up_rate: float | None) -> list[Restart]:
    print(f"catch-up: a restarted peer that missed {count:,} entries, {RUNS} restarts")
    restarts = measure(count)
    median = statistics.median(r.held for r in restarts)
    report.add(
        Row(
            scenario="catch-up",
            figure=f"seconds from a restarted peer's first /healthz 200 until it holds the "
            f"{count:,} entries it missed",
            value=median,
            baseline_name="the same entries at the catch-up row's rate",
            baseline=count / catch_up_rate if catch_up_rate else None,
            target=f"<= {TARGET_SECONDS:.0f} s",
            met=median <= TARGET_SECONDS,
            note=f"median of {len(restarts)} restarts, each after {count:,} more entries: "
            + "; ".join(
                f"served {r.started:.2f} s after start, first new entry {r.first:.2f} s and "
                f"all {r.held:.2f} s after the first 200"
                for r in restarts
            ),
        )
    )
    return restarts
