"""Prometheus metrics of a node: entries appended and received, outbox depth per peer,
rejections by reason, request latency. Each app has a registry of its own."""

from __future__ import annotations

import time
from collections.abc import Iterator

from fastapi import Response
from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from starlette.types import ASGIApp, Receive, Scope, Send

from federation.feed import node_id
from node.app.node import CircleNode
from node.network.observing import Observer
from node.network.peers import PEER

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


class Metrics(Observer):
    def __init__(self, node: CircleNode) -> None:
        self.registry = CollectorRegistry()
        self.appended_total = Counter(
            "circle_node_entries_appended",
            "Entries appended to this node's feed",
            registry=self.registry,
        )
        self.received_total = Counter(
            "circle_node_entries_received",
            "Peer entries verified and stored",
            ["peer"],
            registry=self.registry,
        )
        self.rejections_total = Counter(
            "circle_node_rejections",
            "Entries, pages or pushes refused, by reason",
            ["reason"],
            registry=self.registry,
        )
        self.request_seconds = Histogram(
            "circle_node_request_seconds",
            "HTTP request latency",
            ["method", "route"],
            registry=self.registry,
        )
        self.registry.register(_OutboxDepth(node))

    # Observer.

    def appended(self, count: int) -> None:
        self.appended_total.inc(count)

    def received(self, peer: bytes, count: int) -> None:
        self.received_total.labels(node_id(peer)).inc(count)

    def rejected(self, reason: str) -> None:
        self.rejections_total.labels(reason).inc()

    # HTTP.

    def observe_request(self, method: str, path: str, seconds: float) -> None:
        self.request_seconds.labels(method, path).observe(seconds)

    def exposition(self) -> Response:
        return Response(generate_latest(self.registry), media_type=CONTENT_TYPE)


class _OutboxDepth(Collector):
    """Entries still owed to each peer, read from the store at scrape time."""

    def __init__(self, node: CircleNode) -> None:
        self.node = node

    def collect(self) -> Iterator[GaugeMetricFamily]:
        gauge = GaugeMetricFamily(
            "circle_node_outbox_depth",
            "Own entries not yet acknowledged, per peer",
            labels=["peer"],
        )
        if self.node.feed.keys is not None:
            head = self.node.feed.own_feed().head
            for peer in self.node.peering.peers():
                if peer.status == PEER:
                    owed = head - (self.node.outbox.delivery(peer.feed_id).next_seq - 1)
                    gauge.add_metric([node_id(peer.feed_id)], max(owed, 0))
        yield gauge


class RequestTiming:
    """Request latency by method and route template: a plain ASGI middleware (Starlette's
    BaseHTTPMiddleware would add a task and a stream to every request)."""

    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        try:
            await self.app(scope, receive, send)
        finally:
            route = scope.get("route")
            path = getattr(route, "path", "unmatched")  # the template, not the ids in the path
            self.metrics.observe_request(scope["method"], path, time.perf_counter() - start)
