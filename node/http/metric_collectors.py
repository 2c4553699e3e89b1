"""Metrics read when `/metrics` is scraped rather than counted as the node works: what each
circle's outbox owes its peers (from the store, so any worker answers alike), the build, and
the operating system's figures for each worker process."""

from __future__ import annotations

import functools
import logging
import os
import platform
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

from prometheus_client import ProcessCollector
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from federation.feed import node_id
from federation.verify import decode_entry
from node.app.node import CircleNode
from node.network.peers import PEER
from node.store.written_by import running_version

log = logging.getLogger("circle_node.metrics")


def build_version() -> str:
    return running_version() or "unknown"  # "unknown": a source tree never installed


class BuildInfo(Collector):
    """`circle_node_build_info{version, python} 1`: a gauge, as Info metrics are not kept in
    multiprocess mode."""

    def collect(self) -> Iterator[GaugeMetricFamily]:
        gauge = GaugeMetricFamily(
            "circle_node_build_info",
            "The circle-node version and Python version this process runs; always 1",
            labels=["version", "python"],
        )
        gauge.add_metric([build_version(), platform.python_version()], 1)
        yield gauge


class CircleOutboxes(Collector):
    """Own entries each circle still owes each peer, and how long the oldest has waited: read
    from the circle's store at scrape time. A circle whose store cannot be read is left out of
    that scrape (and reported to `failed`)."""

    def __init__(self, failed: Callable[[str, Exception], None]) -> None:
        self._circles: dict[str, CircleNode] = {}
        self._lock = threading.Lock()
        self._failed = failed

    def attach(self, circle: str, node: CircleNode) -> None:
        """Read `node`'s outbox under the label `circle` (replacing any node attached there)."""
        with self._lock:
            self._circles[circle] = node

    def collect(self) -> Iterator[GaugeMetricFamily]:
        depth = GaugeMetricFamily(
            "circle_node_outbox_depth",
            "Own entries a peer has not acknowledged yet",
            labels=["circle", "peer"],
        )
        lag = GaugeMetricFamily(
            "circle_node_outbox_lag_seconds",
            "How long the oldest own entry a peer has not acknowledged has waited (0: none)",
            labels=["circle", "peer"],
        )
        with self._lock:
            circles = sorted(self._circles.items())
        now = time.time()
        for circle, node in circles:
            try:
                owed = list(_owed(node, now))
            except Exception as error:  # a store outage, or a node closed since: skip it
                log.warning("could not read the outbox of circle %r for metrics: %s", circle, error)
                self._failed(circle, error)
                continue
            for peer, count, waited in owed:
                depth.add_metric([circle, peer], count)
                lag.add_metric([circle, peer], waited)
        yield depth
        yield lag


def _owed(node: CircleNode, now: float) -> Iterator[tuple[str, int, float]]:
    """(peer, entries owed, seconds the oldest has waited) for each peer."""
    if node.feed.keys is None:
        return
    head = node.feed.own_feed().head
    for peer in node.peering.peers():
        if peer.status != PEER:
            continue
        acknowledged = node.outbox.delivery(peer.feed_id).next_seq - 1
        owed = max(head - acknowledged, 0)
        waited = 0.0
        if owed:
            (oldest,) = node.feed.own_entries(acknowledged, 1)
            waited = max(now - decode_entry(oldest).time / 1000, 0.0)
        yield node_id(peer.feed_id), owed, waited


class WorkerProcesses(Collector):
    """The standard `process_*` metrics of every live worker writing to the multiprocess
    directory, each with a `pid` label (prometheus_client's ProcessCollector reads only the
    process it runs in). A worker is known by its files there, and alive while /proc has it."""

    def __init__(self, directory: Path) -> None:
        self._directory = directory

    def collect(self) -> Iterator[Metric]:
        families: dict[str, Metric] = {}
        for pid in sorted(self._pids()):
            for family in ProcessCollector(
                pid=functools.partial(int, pid), registry=None
            ).collect():
                merged = families.setdefault(
                    family.name, Metric(family.name, family.documentation, family.type)
                )
                for sample in family.samples:
                    merged.add_sample(sample.name, {**sample.labels, "pid": str(pid)}, sample.value)
        yield from families.values()

    def _pids(self) -> set[int]:
        pids = {os.getpid()}
        for file in self._directory.glob("*.db"):  # e.g. counter_1234.db
            pid = file.stem.rpartition("_")[2]
            if pid.isdigit():
                pids.add(int(pid))
        return {pid for pid in pids if Path(f"/proc/{pid}/stat").exists()}
