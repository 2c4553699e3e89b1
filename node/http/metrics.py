"""Prometheus metrics of a process, for every circle it serves (docs/operating.md,
"Observability").

One `Metrics` per process (`process_metrics()`) holds the metrics of all its circles, each
labelled by `circle` (the circle's slug on a host, "" for a node serving one circle alone);
`Metrics.circle(node, slug)` gives the observer a circle's parts report to. With several
workers, `serve` calls `prepare_multiprocess(directory)` before it creates any app: every
worker then writes its counts to files there (prometheus_client's multiprocess mode), and
`/metrics` answers their sum from whichever worker it reaches. What is read from the store
(the outboxes) is read at scrape time, so it is right from any worker.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from eventsourcing.persistence import IntegrityError, PersistenceError
from fastapi import Response
from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    ProcessCollector,
    generate_latest,
    multiprocess,
    values,
)
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from federation.feed import node_id
from node.app.node import CircleNode
from node.http.metric_collectors import BuildInfo, CircleOutboxes, WorkerProcesses
from node.network.observing import Observer
from node.store.retry import count_conflict_retries

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
MULTIPROCESS_DIR = "PROMETHEUS_MULTIPROC_DIR"  # prometheus_client's variable

_process: Metrics | None = None
_process_lock = threading.Lock()


def prepare_multiprocess(directory: Path) -> None:
    """Make this process, and the workers it forks, keep their metrics in files in
    `directory`, emptied of an earlier run's first. Call it once, before any app is created."""
    if _process is not None:
        raise RuntimeError("prepare_multiprocess must be called before the metrics are created")
    directory.mkdir(parents=True, exist_ok=True)
    for stale in directory.glob("*.db"):
        stale.unlink()
    os.environ[MULTIPROCESS_DIR] = str(directory)
    # prometheus_client chooses where values are kept when it is imported, from the variable;
    # it was imported before the variable was set, so it chooses again.
    values.ValueClass = values.get_value_class()


def worker_exited(pid: int) -> None:
    """A worker ended: forget what only a live process reports (its counts stay in the sum)."""
    directory = os.environ.get(MULTIPROCESS_DIR)
    if directory:
        multiprocess.mark_process_dead(pid, directory)


def process_metrics() -> Metrics:
    """The metrics of this process, created at first use."""
    global _process
    with _process_lock:
        if _process is None:
            _process = Metrics()
            count_conflict_retries(_process.conflict_retries.inc)
        return _process


def store_error_kind(error: BaseException) -> str:
    """`busy` (every retry of a change conflicted), `read_only`, or `unavailable`."""
    if isinstance(error, IntegrityError):
        return "busy"
    if "readonly" in str(error) or "read-only" in str(error):
        return "read_only"
    return "unavailable"


class Metrics:
    """The metrics of one process, for all its circles, and their exposition."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        directory = os.environ.get(MULTIPROCESS_DIR)
        if directory:  # counts go to files, and are summed from them when scraped
            multiprocess.MultiProcessCollector(self.registry, path=directory)
            self.registry.register(WorkerProcesses(Path(directory)))
            kept_in: CollectorRegistry | None = None
        else:
            ProcessCollector(registry=self.registry)
            kept_in = self.registry
        per_peer = ["circle", "peer"]
        self.appended = Counter(
            "circle_node_entries_appended",
            "Entries appended to the circle's own feed",
            ["circle"],
            registry=kept_in,
        )
        self.received = Counter(
            "circle_node_entries_received",
            "Peer entries verified and stored",
            per_peer,
            registry=kept_in,
        )
        self.rejections = Counter(
            "circle_node_rejections",
            "Entries, pages or pushes refused, by reason",
            ["circle", "reason"],
            registry=kept_in,
        )
        self.requests = Counter(
            "circle_node_requests",
            "HTTP requests answered, by route template and status code",
            ["circle", "method", "route", "status"],
            registry=kept_in,
        )
        self.request_seconds = Histogram(
            "circle_node_request_seconds",
            "HTTP request latency, by route template",
            ["circle", "method", "route"],
            registry=kept_in,
        )
        self.delivery_failures = Counter(
            "circle_node_peer_delivery_failures",
            "Pushes to and pulls from a peer that did not reach it or made no progress",
            ["circle", "peer", "direction"],
            registry=kept_in,
        )
        # One worker at a time pulls from a peer: across workers, the latest value is right.
        self.last_contact = Gauge(
            "circle_node_peer_last_contact_timestamp_seconds",
            "When a push or pull last reached the peer (Unix time)",
            per_peer,
            registry=kept_in,
            multiprocess_mode="mostrecent",
        )
        self.behind = Gauge(
            "circle_node_peer_behind_entries",
            "Entries of the peer's feed beyond what was pulled, as of the last pull",
            per_peer,
            registry=kept_in,
            multiprocess_mode="mostrecent",
        )
        self.store_errors = Counter(
            "circle_node_store_errors",
            "Requests and background work that failed on the store, by kind",
            ["circle", "kind"],
            registry=kept_in,
        )
        self.conflict_retries = Counter(
            "circle_node_store_conflict_retries",
            "Changes tried again because another writer saved the same records first",
            registry=kept_in,
        )
        self.outboxes = CircleOutboxes(self._scrape_failed)
        self.registry.register(self.outboxes)
        self.registry.register(BuildInfo())

    def circle(self, node: CircleNode | None, circle: str = "") -> CircleMetrics:
        """The observer of one circle's node, its metrics labelled `circle`; its outbox is read
        at each scrape. Without a node (a host's own routes), only requests are counted."""
        if node is not None:
            self.outboxes.attach(circle, node)
        return CircleMetrics(self, circle)

    def exposition(self) -> Response:
        return Response(generate_latest(self.registry), media_type=CONTENT_TYPE)

    def _scrape_failed(self, circle: str, error: Exception) -> None:
        if isinstance(error, PersistenceError):
            self.store_errors.labels(circle, store_error_kind(error)).inc()


class CircleMetrics(Observer):
    """What one circle's node reports, into the process's metrics under its `circle` label."""

    def __init__(self, metrics: Metrics, circle: str) -> None:
        self.metrics = metrics
        self.circle = circle
        # The series of each (method, route, status) answered, found once: prometheus_client
        # checks and looks up the labels on every `labels` call.
        self._request_series: dict[tuple[str, str, int], tuple[Any, Any]] = {}

    # Observer.

    def appended(self, count: int) -> None:
        self.metrics.appended.labels(self.circle).inc(count)

    def received(self, peer: bytes, count: int) -> None:
        self.metrics.received.labels(self.circle, node_id(peer)).inc(count)

    def rejected(self, reason: str) -> None:
        self.metrics.rejections.labels(self.circle, reason).inc()

    def delivery_failed(self, peer: bytes, direction: str) -> None:
        self.metrics.delivery_failures.labels(self.circle, node_id(peer), direction).inc()

    def contacted(self, peer: bytes) -> None:
        self.metrics.last_contact.labels(self.circle, node_id(peer)).set(time.time())

    def behind(self, peer: bytes, entries: int) -> None:
        self.metrics.behind.labels(self.circle, node_id(peer)).set(entries)

    def store_error(self, error: BaseException) -> None:
        self.metrics.store_errors.labels(self.circle, store_error_kind(error)).inc()

    # HTTP.

    def observe_request(self, method: str, route: str, status: int, seconds: float) -> None:
        """Count a request; a method outside HTTP's standard ones is counted as `OTHER`, so
        that made-up methods add no series."""
        method = method if method in METHODS else "OTHER"
        key = (method, route, status)
        series = self._request_series.get(key)
        if series is None:
            series = (
                self.metrics.requests.labels(self.circle, method, route, str(status)),
                self.metrics.request_seconds.labels(self.circle, method, route),
            )
            self._request_series[key] = series
        answered, latency = series
        answered.inc()
        latency.observe(seconds)

    def exposition(self) -> Response:
        """Every circle's metrics of this process (and, with workers, of all of them)."""
        return self.metrics.exposition()


# HTTP's standard methods (RFC 9110, and PATCH): the `method` label's values, with `OTHER`.
METHODS = frozenset(
    ("GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH")
)


class RequestTiming:
    """Requests by method, route template and status, and their latency: a plain ASGI
    middleware (Starlette's BaseHTTPMiddleware would add a task and a stream to every
    request). `metrics_of` gives the metrics of the circle a request is for."""

    def __init__(self, app: ASGIApp, metrics_of: Callable[[Scope], CircleMetrics]) -> None:
        self.app = app
        self.metrics_of = metrics_of

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        status = 500  # unless a response starts: an error that reaches the server's handler

        async def sending(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, sending)
        finally:
            route = scope.get("route")
            path = getattr(route, "path", "unmatched")  # the template, not the ids in the path
            seconds = time.perf_counter() - start
            self.metrics_of(scope).observe_request(scope["method"], path, status, seconds)
