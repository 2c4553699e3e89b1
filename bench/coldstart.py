"""Cold start: a node whose store holds EVENTS events starts serving; a circle aggregate of
CIRCLE_EVENTS events loads, with and without its snapshot.

The store is built fast, not by commands: a founded circle whose founder wears a hat; the
circle's long history (a member's participation level changed back and forth, made in the
domain and saved in one save, snapshots taken every 50 versions as the node does); then
filler: many small aggregates (everyday decisions, one event each, made from real domain
events and inserted through the node's own recorder in large batches) up to EVENTS events in
all. The fillers are not filed in the register (the node would list them).

- start: from `circle-node serve` being started until /healthz answers (median of 3), and the
  process's RSS then. Baseline: the bare FastAPI app (bench/bare_app.py) started the same way.
- load: `repository.get` of the circle, in a process that has the store open (median of 5);
  without its snapshot (median of 3). Baseline: the same rows read with sqlite3 directly.
"""

from __future__ import annotations

import os
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from uuid import uuid4

from eventsourcing.persistence import StoredEvent

from bench.circles import HAT_AREA, found_with_hat
from bench.report import Report, Row
from bench.servers import ROOT, rss_mb, stop
from domain.decision import Decision
from domain.values import Level
from node.app.node import CircleNode
from node.app.persistence import open_node
from node.demo.local_cluster import free_port
from node.settings import Settings

TARGET_START_S = 3.0
TARGET_RSS_MB = 300.0
TARGET_LOAD_MS = 50.0
INSERT_BATCH = 50_000
STARTS = 3


def _count_events(path: Path) -> int:
    with sqlite3.connect(path) as db:
        return int(db.execute("SELECT count(*) FROM stored_events").fetchone()[0])


def build_store(folder: Path, events: int, circle_events: int) -> None:
    node = open_node(Settings(data_dir=folder))
    try:
        founder, hat = found_with_hat(node)
        member = node.people.add_founding_member(founder, "Ben")
        circle = node.records.get_circle()
        level = Level.LEARNING
        while circle.version < circle_events:
            circle.change_level(founder, member, level)
            level = Level.FULL if level == Level.LEARNING else Level.LEARNING
            if len(circle.pending_events) == 5_000:
                node.save(circle)
        node.save(circle)
        # Filler: real decision events, copied under fresh ids.
        today = node.clock().date()
        templates = [
            node.store.mapper.to_stored_event(
                Decision.take_everyday(
                    circle, founder, hat, HAT_AREA, f"Rota {n}", "Cover Sundays", today
                ).collect_events()[0]
            )
            for n in range(100)
        ]
        left = events - _count_events(folder / "circle.sqlite")
        while left > 0:
            batch = [
                StoredEvent(uuid4(), 1, template.topic, template.state)
                for template, _ in zip(
                    (templates[n % len(templates)] for n in range(min(left, INSERT_BATCH))),
                    range(min(left, INSERT_BATCH)),
                    strict=True,
                )
            ]
            node.store.recorder.insert_events(batch)
            left -= len(batch)
    finally:
        node.close()


def _start(command: list[str], url: str, env: dict[str, str], log: Path) -> tuple[float, float]:
    """Seconds from starting the process until /healthz answers, and its RSS (MiB) then."""
    with log.open("ab") as out:
        start = time.perf_counter()
        process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, cwd=ROOT, env=env)
        try:
            while True:
                if process.poll() is not None:
                    raise RuntimeError(f"the server exited; see {log}")
                try:
                    with urllib.request.urlopen(f"{url}/healthz", timeout=2):
                        elapsed = time.perf_counter() - start
                        break
                except OSError:
                    if time.perf_counter() - start > 60:
                        raise RuntimeError(f"no answer in 60 s; see {log}") from None
                    time.sleep(0.01)
            return elapsed, rss_mb(process.pid)
        finally:
            stop(process)


def start_node(folder: Path) -> list[tuple[float, float]]:
    runs = []
    for _ in range(STARTS):
        port = free_port()
        command = [
            sys.executable,
            "-m",
            "node",
            "serve",
            "--data",
            str(folder),
            "--port",
            str(port),
            "--pull-interval",
            "3600",
        ]
        env = {k: v for k, v in os.environ.items() if k != "CIRCLE_NODE_DATABASE_URL"}
        runs.append(_start(command, f"http://127.0.0.1:{port}", env, folder / "serve.log"))
    return runs


def start_bare(folder: Path) -> list[tuple[float, float]]:
    folder.mkdir(parents=True, exist_ok=True)
    runs = []
    for _ in range(STARTS):
        port = free_port()
        command = [
            sys.executable,
            "-m",
            "uvicorn",
            "--factory",
            "bench.bare_app:create_app",
            "--port",
            str(port),
            "--no-access-log",
            "--log-level",
            "warning",
        ]
        env = {**os.environ, "BENCH_SQLITE": str(folder / "bare.sqlite")}
        runs.append(_start(command, f"http://127.0.0.1:{port}", env, folder / "bare.log"))
    return runs


def _timed(action: object, repeat: int) -> float:
    """The median time of `repeat` calls, in milliseconds."""
    assert callable(action)
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        action()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def load_circle(folder: Path) -> dict[str, float]:
    node: CircleNode = open_node(Settings(data_dir=folder))
    try:
        circle_id = node.records.circle_id
        version = node.records.get_circle().version
        with_snapshot = _timed(lambda: node.store.repository.get(circle_id), 5)
        snapshot_store = node.store.repository.snapshot_store
        node.store.repository.snapshot_store = None
        try:
            without = _timed(lambda: node.store.repository.get(circle_id), 3)
            assert node.store.repository.get(circle_id).version == version
        finally:
            node.store.repository.snapshot_store = snapshot_store
    finally:
        node.close()
    db = sqlite3.connect(folder / "circle.sqlite")
    try:
        key = circle_id.hex

        def rows_with_snapshot() -> None:
            (snapshot,) = db.execute(
                "SELECT originator_version, topic, state FROM stored_snapshots "
                "WHERE originator_id = ? ORDER BY originator_version DESC LIMIT 1",
                (key,),
            ).fetchall()
            db.execute(
                "SELECT originator_version, topic, state FROM stored_events "
                "WHERE originator_id = ? AND originator_version > ? ORDER BY originator_version",
                (key, snapshot[0]),
            ).fetchall()

        def all_rows() -> None:
            rows = db.execute(
                "SELECT originator_version, topic, state FROM stored_events "
                "WHERE originator_id = ? ORDER BY originator_version",
                (key,),
            ).fetchall()
            assert len(rows) == version

        return {
            "version": version,
            "with_snapshot": with_snapshot,
            "without_snapshot": without,
            "rows_with_snapshot": _timed(rows_with_snapshot, 5),
            "all_rows": _timed(all_rows, 3),
        }
    finally:
        db.close()


def run(report: Report, events: int, circle_events: int) -> None:
    print(f"cold start: a store of {events:,} events; a circle of {circle_events:,} events")
    with tempfile.TemporaryDirectory(prefix="bench-coldstart-") as tmp:
        folder = Path(tmp) / "node"
        started = time.perf_counter()
        build_store(folder, events, circle_events)
        built = time.perf_counter() - started
        stored = _count_events(folder / "circle.sqlite")
        size_mb = (folder / "circle.sqlite").stat().st_size / 2**20
        node_runs = start_node(folder)
        bare_runs = start_bare(Path(tmp) / "bare")
        loads = load_circle(folder)
    start_s = statistics.median(t for t, _ in node_runs)
    rss = max(r for _, r in node_runs)
    bare_s = statistics.median(t for t, _ in bare_runs)
    bare_rss = max(r for _, r in bare_runs)
    store_note = f"{stored:,} events, {size_mb:,.0f} MiB SQLite file, built in {built:.1f} s"
    report.add(
        Row(
            scenario="cold start",
            figure="seconds from process start to /healthz answering",
            value=start_s,
            baseline_name="bare FastAPI app, same start",
            baseline=bare_s,
            target="< 3 s",
            met=start_s < TARGET_START_S,
            note=f"median of {STARTS}: {', '.join(f'{t:.2f}' for t, _ in node_runs)}; "
            + store_note,
        )
    )
    report.add(
        Row(
            scenario="cold start",
            figure="RSS MiB when serving",
            value=rss,
            baseline_name="bare FastAPI app RSS MiB",
            baseline=bare_rss,
            target="< 300 MB",
            met=rss * 2**20 < TARGET_RSS_MB * 1e6,
            note=f"largest of {STARTS} starts",
        )
    )
    report.add(
        Row(
            scenario="cold start",
            figure=f"ms to load the circle ({int(loads['version']):,} events), with snapshot",
            value=loads["with_snapshot"],
            baseline_name="sqlite3: its snapshot and later rows",
            baseline=loads["rows_with_snapshot"],
            target="< 50 ms",
            met=loads["with_snapshot"] < TARGET_LOAD_MS,
            note="median of 5; snapshots every 50 versions",
        )
    )
    report.add(
        Row(
            scenario="cold start",
            figure=f"ms to load the circle ({int(loads['version']):,} events), no snapshot",
            value=loads["without_snapshot"],
            baseline_name="sqlite3: all its rows",
            baseline=loads["all_rows"],
            target="(report; < 50 ms is the snapshot's job)",
            met=None,
            note="median of 3; every event decoded and applied",
        )
    )
