"""Catch-up: a fresh node pulls, verifies and stores a peer's feed over loopback HTTP into SQLite.

The author's feed is built first (not timed): N entries of type `decision.record` with opaque
250-byte bodies (so the scenario measures the protocol path: pull, decode, verify by hash chain
and last signature, store entries and bodies; the bodies do not decode as records, so no peer
view is updated). The author is served by a real `circle-node serve` process; the receiver runs
the node's own catch-up code (`Federator.catch_up`).

Baselines, same run: verifying the same N entries one signature at a time (Ed25519), which is
what catch-up would cost without chain-plus-last-signature verification; and the Node.js peer,
hypercore 10 replicating N x 200-byte entries between two in-memory cores (bench/peers/, see
bench/hypercore_peer.py), a second row. The scenario's third row, a restarted peer that missed
N entries, is bench/restarted_peer.py.

`measure(count, database_url)` is also used by the PostgreSQL scenario (both nodes' stores on
PostgreSQL).
"""

from __future__ import annotations

import asyncio
import os
import statistics
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import aiohttp

from bench import hypercore_peer
from bench.report import Report, Row
from bench.servers import served
from federation.client import FederationClient
from federation.keys import load_public_key
from federation.verify import decode_entry, decode_signed_entry
from federation.wire import ENTRY_SIGNING_CONTEXT, encode
from node.app.persistence import open_node
from node.network.delivery import Federator
from node.settings import Settings

TARGET = 50_000.0
HYPERCORE_TARGET = 5.0  # issue 17 (it was 3x before)
BODY_SIZE = 250


RUNS = 3  # catch-ups of the same feed (each by a fresh node), and hypercore replications


@dataclass(frozen=True)
class CatchUp:
    taken: int
    seconds: float  # the median run's
    verify_each_rate: float  # the per-entry Ed25519 baseline, entries/s (median of the runs)
    rates: tuple[float, ...] = ()  # every run's, in order

    @property
    def rate(self) -> float:
        return self.taken / self.seconds


def build_feed(folder: Path, count: int, database_url: str | None = None) -> None:
    """The author's node with `count` entries, appended in batches of 1000 (setup, not timed)."""
    node = open_node(Settings(data_dir=folder, database_url=database_url))
    assert node.feed.keys is not None
    own = node.feed.own_feed()
    entries, bodies = [], []
    for number in range(count):
        body = number.to_bytes(8, "big") + os.urandom(BODY_SIZE - 8)
        signed = own.append(node.feed.keys, "decision.record", body, 1_767_225_600_000 + number)
        entries.append((own.feed_id, own.head, encode(signed)))
        bodies.append(node.store.body_row(body, []))
        if len(entries) == 1000 or number == count - 1:
            node.save(own, entries=entries, bodies=bodies)
            own = node.feed.own_feed()
            entries, bodies = [], []
    node.close()


async def _catch_up(
    receiver_dir: Path, url: str, database_url: str | None = None
) -> tuple[int, float]:
    receiver = open_node(Settings(data_dir=receiver_dir, database_url=database_url))
    try:
        async with aiohttp.ClientSession() as session:
            client = FederationClient(session)
            descriptor = await client.descriptor(url)
            receiver.peering.add_peer(descriptor, url)
            peer = receiver.peering.peer(descriptor.feed)
            assert peer is not None
            federator = Federator(receiver, client)
            start = time.perf_counter()
            taken = await federator.catch_up(peer)
            elapsed = time.perf_counter() - start
            assert receiver.peering.peer_feed(descriptor.feed).next_seq == taken + 1
            return taken, elapsed
    finally:
        receiver.close()


def _verify_each(author_dir: Path, count: int, database_url: str | None = None) -> float:
    """Baseline: Ed25519-verify every entry on its own; returns entries per second."""
    node = open_node(Settings(data_dir=author_dir, database_url=database_url))
    signed = [
        decode_signed_entry(raw)
        for raw in node.store.feeds.select_entries(node.feed.feed_id, 0, count)
    ]
    key = load_public_key(node.feed.own_feed().key)
    node.close()
    start = time.perf_counter()
    for entry in signed:
        decode_entry(entry)
        key.verify(entry.signature, ENTRY_SIGNING_CONTEXT + entry.entry)
    return len(signed) / (time.perf_counter() - start)


def measure(
    count: int, author_url: str | None = None, receiver_url: str | None = None, runs: int = 1
) -> CatchUp:
    """Build an author's feed of `count` entries, serve it, and catch a fresh node up with it,
    `runs` times (a fresh node each time; the median run counts). The URLs put the author's
    or the receiver's store on PostgreSQL (default: SQLite; a store on PostgreSQL is caught
    up once)."""
    runs = 1 if receiver_url else runs
    with tempfile.TemporaryDirectory(prefix="bench-catchup-") as tmp:
        author = Path(tmp) / "author"
        build_feed(author, count, author_url)
        times = []
        with served(author, database_url=author_url) as url:
            for run in range(runs):
                receiver = Path(tmp) / f"receiver{run}"
                taken, elapsed = asyncio.run(_catch_up(receiver, url, receiver_url))
                assert taken == count, f"caught up {taken} of {count}"
                times.append(elapsed)
        baseline = statistics.median(_verify_each(author, count, author_url) for _ in range(runs))
    return CatchUp(count, statistics.median(times), baseline, tuple(count / t for t in times))


def run(report: Report, count: int, *, hypercore: bool = True) -> CatchUp:
    print(f"catch-up: {count:,} entries with {BODY_SIZE}-byte bodies")
    result = measure(count, runs=RUNS)
    report.add(
        Row(
            scenario="catch-up",
            figure="entries/s, pull+verify+store over loopback HTTP into SQLite",
            value=result.rate,
            baseline_name="per-entry Ed25519 verify loop",
            baseline=result.verify_each_rate,
            target=">= 50,000/s",
            met=result.rate >= TARGET,
            note=f"{count:,} entries; median of {len(result.rates)} catch-ups: "
            + ", ".join(f"{rate:,.0f}/s" for rate in result.rates),
        )
    )
    if hypercore:
        replication, problem = hypercore_peer.replicate(count, RUNS)
        report.add(
            Row(
                scenario="catch-up",
                figure="entries/s, catch-up vs the Node.js peer",
                value=result.rate,
                baseline_name="hypercore 10, two in-memory cores, 200-byte entries",
                baseline=replication.rate if replication else None,
                target=">= 5x hypercore",
                met=(result.rate >= HYPERCORE_TARGET * replication.rate) if replication else None,
                note=(
                    f"hypercore {replication.version}: {replication.entries:,} entries in "
                    f"{replication.seconds:.2f} s (the median of {RUNS} replications)"
                    if replication
                    else f"no hypercore figure: {problem}"
                ),
            )
        )
    return result
