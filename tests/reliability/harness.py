"""The reliability tests' machinery: served nodes that can be killed, bursts of commands over
the member API, big feeds built fast, and the checks run after every crash or fault.

The checks are the promises: no acknowledged command lost, nothing applied twice, every feed
verifies, and the state equals a fresh replay of the store.

`make test` runs the short versions; with CIRCLE_NODE_SOAK=1 (`make soak`) the same tests run
long. Each test writes what it tried and what held to tests/artifacts/reliability/NAME.json.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sqlite3
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

import aiohttp
from eventsourcing.application import AggregateNotFoundError

from federation.feed import FeedState
from federation.pages import verify_page
from federation.verify import check_body, decode_entry, verify_inception
from federation.wire import MAX_PAGE_ENTRIES, SignedEntry, encode
from node.app.node import CircleNode
from node.app.peer_view import peer_view_id
from node.app.persistence import open_node
from node.demo.local_cluster import LocalNode
from node.network.feeds import delivery_id, peer_feed_id
from node.network.messages import DECISION_RECORD, DecisionRecord, decode_body, encode_body
from node.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "tests" / "artifacts" / "reliability"
SOAK = os.environ.get("CIRCLE_NODE_SOAK", "").lower() in ("1", "true", "yes")
UNDER_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


def scaled(short: int, soak: int) -> int:
    return soak if SOAK else short


def record(name: str, figures: dict[str, Any]) -> None:
    """Keep what a test tried and what held (tests/artifacts/reliability/NAME.json)."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    figures = {"soak": SOAK, "at": time.strftime("%Y-%m-%dT%H:%M:%S"), **figures}
    (ARTIFACTS / f"{name}{'-soak' if SOAK else ''}.json").write_text(
        json.dumps(figures, indent=2, sort_keys=True, default=str) + "\n"
    )


# Served nodes.


class Served(LocalNode):
    """`circle-node serve` in a subprocess that can be killed with SIGKILL, with extra
    environment (e.g. CIRCLE_NODE_DATABASE_URL) and an optional resource limit hook."""

    def __init__(
        self,
        root: Path,
        name: str,
        pull_interval: float = 1.0,
        env: dict[str, str] | None = None,
        data: Path | None = None,
        public_url: str | None = None,
    ) -> None:
        super().__init__(root, name, pull_interval, env=env, public_url=public_url)
        if data is not None:
            self.data = data
            self.data.mkdir(parents=True, exist_ok=True)
            self.log = root / f"{name}.log"
        self.kills = 0

    @property
    def settings(self) -> Settings:
        return Settings(data_dir=self.data, database_url=self.env.get("CIRCLE_NODE_DATABASE_URL"))

    def kill(self) -> None:
        """SIGKILL: no shutdown code runs, whatever the node was doing."""
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=30)
        self.process = None
        self.kills += 1

    def open(self) -> CircleNode:
        return open_node(self.settings)


def build_decision_feed(store: CircleNode, count: int, batch: int = 1000) -> None:
    """Append `count` public decision records to the node's own feed, fast (no commands: the
    entries, signed, and their bodies, a thousand per save). A peer that takes them keeps the
    decisions in its view of this node, so effects can be counted."""
    assert store.feed.keys is not None
    own = store.feed.own_feed()
    entries: list[tuple[bytes, int, bytes]] = []
    bodies: list[tuple[bytes, bytes, bytes]] = []
    for number in range(count):
        record_ = DecisionRecord(
            decision_id=str(uuid4()),
            binding=False,
            kind="operational",
            title=f"Synthetic {own.next_seq}",
            text="Cover Sundays " + "x" * 200,
            status="in_force",
            effective=date(2026, 3, 1),
            review_date=date(2026, 9, 1),
            area="rota",
            hat_id="rota",
        )
        body = encode_body(record_)
        signed = own.append(store.feed.keys, DECISION_RECORD, body, 1_772_000_000_000 + number)
        entries.append((own.feed_id, own.head, encode(signed)))
        bodies.append(store.store.body_row(body, []))
        if len(entries) == batch or number == count - 1:
            store.save(own, entries=entries, bodies=bodies)
            own = store.feed.own_feed()
            entries, bodies = [], []


def found_with_rota(store: CircleNode, name: str) -> tuple[str, str, str]:
    """Found a circle whose founder wears a hat with the area "rota"; returns (founder, hat,
    the founder's personal token)."""
    founder = store.circle.found_circle(
        name=name, aim=f"{name}'s aim", domain="Care", founder_name="Ada"
    )
    hat = store.hats.define_hat(founder, "Rota holder", "Keeps the rota", [], ["rota"])
    selection = store.hats.open_selection(founder, hat)
    store.hats.nominate(founder, selection, founder, "I keep it already")
    store.hats.open_change_round(founder, selection)
    store.hats.propose_candidate(founder, selection, founder, "Nominated")
    store.consent.consent(founder, selection)
    store.consent.close_consent_round(founder, selection)
    _, token = store.tokens.issue_token(founder)
    return founder, hat, token


# Commands over the member API.


@dataclass(frozen=True)
class Sent:
    """One request: when it was sent and answered (monotonic), its status (None: no answer)
    and the problem's reason, if any."""

    title: str
    sent: float
    answered: float
    status: int | None
    reason: str = ""


@dataclass
class Burst:
    """What a burst of commands sent: every title tried, those acknowledged (2xx received),
    those refused with an HTTP error, and the requests that got no answer."""

    attempted: set[str] = field(default_factory=set)
    acknowledged: set[str] = field(default_factory=set)
    refused: dict[str, int] = field(default_factory=dict)  # title -> status
    problems: list[dict[str, Any]] = field(default_factory=list)
    unanswered: set[str] = field(default_factory=set)
    log: list[Sent] = field(default_factory=list)

    def merge(self, other: Burst) -> None:
        self.attempted |= other.attempted
        self.acknowledged |= other.acknowledged
        self.refused.update(other.refused)
        self.problems.extend(other.problems)
        self.unanswered |= other.unanswered
        self.log.extend(other.log)


async def send_decisions(
    url: str,
    token: str,
    hat: str,
    label: str,
    *,
    workers: int = 4,
    per_worker: int = 10_000,
    stop_on_error: bool = True,
    pause: float = 0.0,
    timeout: float = 15.0,
    keep_going: Callable[[], bool] = lambda: True,
    into: Burst | None = None,
) -> Burst:
    """Take everyday decisions through `POST /api/decisions`, each with a unique title, from
    `workers` concurrent clients. A client stops at its first unanswered request (the node
    died) if `stop_on_error`, and when `keep_going()` turns false. `into`: a Burst to fill
    (to watch it while it runs)."""
    burst = Burst() if into is None else into
    headers = {"Authorization": f"Bearer {token}"}

    async def client(session: aiohttp.ClientSession, worker: int) -> None:
        for number in range(per_worker):
            if not keep_going():
                return
            title = f"{label}-{worker}-{number}"
            burst.attempted.add(title)
            body = {"hat_id": hat, "area": "rota", "title": title, "text": "Cover Sundays"}
            sent = time.monotonic()
            status: int | None = None
            reason = ""
            try:
                async with session.post(f"{url}/api/decisions", json=body, headers=headers) as r:
                    status = r.status
                    if 200 <= r.status < 300:
                        await r.read()
                        burst.acknowledged.add(title)
                    else:
                        burst.refused[title] = r.status
                        problem = await r.json(content_type=None)
                        reason = str(problem.get("reason", ""))
                        burst.problems.append({"status": r.status, **problem})
            except (aiohttp.ClientError, TimeoutError, ValueError):
                burst.unanswered.add(title)
            burst.log.append(Sent(title, sent, time.monotonic(), status, reason))
            if status is None and stop_on_error:
                return
            if pause:
                await asyncio.sleep(pause)

    client_timeout = aiohttp.ClientTimeout(total=timeout)
    async with aiohttp.ClientSession(timeout=client_timeout) as session:
        await asyncio.gather(*(client(session, worker) for worker in range(workers)))
    return burst


# The checks.


def held_entries(store: CircleNode, feed_id: bytes) -> list[SignedEntry]:
    from federation.verify import decode_signed_entry

    entries: list[SignedEntry] = []
    after = -1
    while True:
        raws = store.store.feeds.select_entries(feed_id, after, 5000)
        if not raws:
            return entries
        entries.extend(decode_signed_entry(raw) for raw in raws)
        after += len(raws)


def check_feed(store: CircleNode, feed_id: bytes, state: FeedState) -> list[SignedEntry]:
    """The entries held of a feed are exactly seqs 0..n, verify (inception, then pages by
    their hash chain and last signature), lead to the state the aggregate keeps, and every
    body held is the one its entry names. Returns the entries."""
    entries = held_entries(store, feed_id)
    assert entries, "not even the inception is held"
    seqs = [decode_entry(signed).seq for signed in entries]
    assert seqs == list(range(len(entries))), "the entries held are not exactly seqs 0..n"
    after = verify_inception(entries[0], feed_id)
    for start in range(1, len(entries), MAX_PAGE_ENTRIES):
        page = entries[start : start + MAX_PAGE_ENTRIES]
        after, _ = verify_page(after, page, store.intake.known_types, lambda seq: None)
    assert after == state, "the feed's aggregate disagrees with the entries held"
    digests = [e.body_hash for e in map(decode_entry, entries) if e.body_hash]
    stored = store.store.stored_bodies(digests)
    for entry in map(decode_entry, entries):
        if entry.body_hash and entry.body_hash in stored:
            check_body(entry, stored[entry.body_hash][0])
    return entries


def check_own_feed(store: CircleNode) -> list[SignedEntry]:
    return check_feed(store, store.feed.feed_id, store.feed.own_feed().state)


def check_decisions(store: CircleNode, burst: Burst, before: set[str]) -> dict[str, int]:
    """No acknowledged decision lost, none taken twice, none that was not asked for, and each
    published once on the feed, in the same save."""
    decisions = store.records.list_decisions()
    titles = Counter(d.title for d in decisions)
    twice = sorted(t for t, n in titles.items() if n > 1)
    assert not twice, f"decisions taken twice: {twice[:5]}"
    lost = sorted(burst.acknowledged - set(titles))
    assert not lost, f"acknowledged decisions lost: {lost[:5]}"
    phantom = sorted(set(titles) - burst.attempted - before)
    assert not phantom, f"decisions nobody asked for: {phantom[:5]}"
    entries = check_own_feed(store)
    published: Counter[str] = Counter()
    wanted = {}
    for entry in map(decode_entry, entries):
        if entry.type == DECISION_RECORD and entry.body_hash:
            wanted[entry.body_hash] = entry
    bodies = store.store.stored_bodies(list(wanted))
    for digest in wanted:
        record_ = decode_body(DECISION_RECORD, bodies[digest][0])
        assert isinstance(record_, DecisionRecord)
        published[record_.decision_id] += 1
    ids = {str(d.id) for d in decisions}
    assert set(published) == ids, "decisions and the decision records on the feed differ"
    assert all(n == 1 for n in published.values()), "a decision was published twice"
    unanswered_applied = len(burst.unanswered & set(titles))
    return {
        "decisions": len(decisions),
        "acknowledged": len(burst.acknowledged),
        "unanswered_but_applied": unanswered_applied,
        "feed_head": len(entries) - 1,
    }


def check_peer_feed(store: CircleNode, feed_id: bytes) -> dict[str, int]:
    """A peer's feed as held: verified, each entry stored once, each run's effects once (the
    runs recorded by the feed's aggregate are contiguous; the node's view of the peer saw each
    run once, and holds exactly the decisions of the entries held)."""
    feed = store.peering.peer_feed(feed_id)
    entries = check_feed(store, feed_id, feed.state)
    runs = [e for e in store.store.events.get(peer_feed_id(feed_id)) if type(e).__name__ == "Held"]
    expected = 1
    for run in runs:
        assert run.first_seq == expected, f"run from {run.first_seq}, expected {expected}"
        expected += run.count
    assert expected == feed.next_seq == len(entries)
    run_ends = [run.first_seq + run.count - 1 for run in runs]
    decision_ids: set[str] = set()
    digests = []
    for entry in map(decode_entry, entries):
        if entry.type == DECISION_RECORD and entry.body_hash:
            digests.append(entry.body_hash)
    for data, _ in store.store.stored_bodies(digests).values():
        record_ = decode_body(DECISION_RECORD, data)
        assert isinstance(record_, DecisionRecord)
        decision_ids.add(record_.decision_id)
    seen: list[int] = []
    try:
        view = store.store.repository.get(peer_view_id(feed_id))
    except AggregateNotFoundError:
        view = None
    else:
        seen = [
            e.up_to_seq
            for e in store.store.events.get(peer_view_id(feed_id))
            if type(e).__name__ == "RecordsSeen"
        ]
    assert seen == sorted(set(seen)), "a run of entries was applied twice"
    if decision_ids:
        assert view is not None
        assert set(view.decisions) == decision_ids, "the view and the entries held differ"
        assert seen == run_ends, "each run of entries must be applied once, with its entries"
    return {"held": len(entries) - 1, "runs": len(runs)}


def check_cursor(store: CircleNode, peer: bytes) -> int:
    """The outbox cursor towards a peer never went backwards; returns where it is."""
    moves = [
        e.next_seq
        for e in store.store.events.get(delivery_id(peer))
        if type(e).__name__ == "Acknowledged"
    ]
    assert moves == sorted(set(moves)), f"the delivery cursor went backwards: {moves}"
    return int(store.outbox.delivery(peer).next_seq)


def check_replay(store: CircleNode) -> dict[str, int]:
    """Every aggregate as the repository loads it (from snapshots) equals a fresh replay of
    its events alone."""
    ids: set[UUID] = set()
    start = 1
    while True:
        notifications = store.store.recorder.select_notifications(start, 5000)
        if not notifications:
            break
        ids.update(UUID(str(n.originator_id)) for n in notifications)
        start = notifications[-1].id + 1
    snapshotted = 0
    for aggregate_id in ids:
        try:
            loaded = store.store.repository.get(aggregate_id)
        except AggregateNotFoundError:
            continue
        replayed: Any = None
        for event in store.store.events.get(aggregate_id):
            replayed = event.mutate(replayed)
        assert _state(loaded) == _state(replayed), f"{type(loaded).__name__} {aggregate_id}"
        if store.store.snapshots is not None and list(
            store.store.snapshots.get(aggregate_id, limit=1)
        ):
            snapshotted += 1
    return {"aggregates": len(ids), "snapshotted": snapshotted}


def _state(aggregate: Any) -> dict[str, Any]:
    return {k: v for k, v in vars(aggregate).items() if k != "_pending_events"}


def sqlite_integrity(path: Path) -> None:
    with sqlite3.connect(path) as connection:
        (result,) = connection.execute("PRAGMA integrity_check").fetchone()
    assert result == "ok", f"{path}: {result}"


def held_count(path: Path, feed_id: bytes) -> int:
    """How many entries of a feed a node's SQLite file holds (read-only, while it runs)."""
    try:
        with sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=5) as connection:
            (count,) = connection.execute(
                "SELECT count(*) FROM feed_entries WHERE feed = ?", (feed_id,)
            ).fetchone()
            return int(count)
    except sqlite3.OperationalError:
        return 0
