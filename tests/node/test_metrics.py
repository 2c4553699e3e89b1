"""Prometheus metrics: many circles in one exposition, labelled by circle; requests by status;
build info; outboxes read from the store; delivery and store events; workers adding up."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest
from eventsourcing.persistence import IntegrityError, OperationalError
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families
from prometheus_client.samples import Sample

from federation.client import TransportError
from federation.wire import FeedPage, Push, PushReply
from node.app.node import CircleNode
from node.app.persistence import open_node
from node.http.metric_collectors import build_version
from node.http.metrics import Metrics, prepare_multiprocess, process_metrics
from node.http.server import ServerOptions, create_app
from node.network.background import BackgroundWork
from node.network.delivery import Federator
from node.settings import Settings
from node.store.retry import count_conflict_retries, retry_on_conflict

REPO = Path(__file__).resolve().parents[2]


def samples(text: str, name: str) -> list[Sample]:
    """The samples named `name` in an exposition, parsed as Prometheus parses it."""
    return [
        sample
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if sample.name == name
    ]


def value(text: str, name: str, **labels: str) -> float:
    (found,) = [s for s in samples(text, name) if labels.items() <= s.labels.items()]
    return found.value


@pytest.fixture
def two_circles(tmp_path: Path) -> Iterator[tuple[CircleNode, CircleNode]]:
    """Kitchen and garden, peers of each other, in one process."""
    kitchen = open_node(Settings(data_dir=tmp_path / "kitchen"))
    garden = open_node(Settings(data_dir=tmp_path / "garden"))
    kitchen.peering.add_peer(garden.feed.descriptor("garden", "garden"), "garden")
    garden.peering.add_peer(kitchen.feed.descriptor("kitchen", "kitchen"), "kitchen")
    yield kitchen, garden
    kitchen.close()
    garden.close()


def test_two_circles_in_one_process_share_one_exposition_by_circle(two_circles) -> None:  # type: ignore[no-untyped-def]
    kitchen, garden = two_circles
    metrics = Metrics()
    options = ServerOptions(public_url="http://testserver")
    apps = {
        name: TestClient(create_app(node, None, options, circle=name, metrics=metrics))
        for name, node in (("kitchen", kitchen), ("garden", garden))
    }
    kitchen.circle.found_circle(name="Kitchen", aim="Feed", domain="Food", founder_name="Ada")
    assert apps["kitchen"].get("/healthz").status_code == 200
    assert apps["garden"].get("/no/such/page").status_code == 404
    assert apps["garden"].get("/healthz").status_code == 200
    # Either circle's /metrics answers for both: one registry, no duplicate registration.
    kitchen_text = apps["kitchen"].get("/metrics").text
    text = apps["garden"].get("/metrics").text
    for answer in (kitchen_text, text):
        assert value(answer, "circle_node_entries_appended_total", circle="kitchen") == 1
    appended = samples(text, "circle_node_entries_appended_total")
    assert [s.labels["circle"] for s in appended] == ["kitchen"]
    # Requests by route template and status code, per circle.
    assert (
        value(text, "circle_node_requests_total", circle="kitchen", route="/healthz", status="200")
        == 1
    )
    assert value(text, "circle_node_requests_total", circle="garden", route="unmatched") == 1
    assert (
        value(text, "circle_node_requests_total", circle="garden", route="unmatched", status="404")
        == 1
    )
    assert value(text, "circle_node_request_seconds_count", circle="garden", route="/healthz") == 1
    # Build info is a gauge of 1, labelled by version.
    (build,) = samples(text, "circle_node_build_info")
    assert build.value == 1 and build.labels["version"] == build_version()
    # The kitchen owes the garden its founding entries: read from the store when scraped.
    owed = kitchen.feed.own_feed().head
    depth = value(text, "circle_node_outbox_depth", circle="kitchen", peer=garden.feed.node_id)
    assert depth == owed
    lag = value(text, "circle_node_outbox_lag_seconds", circle="kitchen", peer=garden.feed.node_id)
    assert lag >= 0
    # The garden founded nothing: it owes nothing, and its lag is 0.
    assert value(text, "circle_node_outbox_depth", circle="garden") == 0
    # The process's own figures (a single process: no pid label).
    assert samples(text, "process_resident_memory_bytes")


def test_a_request_that_fails_counts_as_a_500(two_circles) -> None:  # type: ignore[no-untyped-def]
    kitchen, _ = two_circles
    metrics = Metrics()
    app = create_app(kitchen, None, ServerOptions(public_url="http://t"), metrics=metrics)

    @app.get("/boom/{thing}")
    def boom(thing: str) -> None:
        raise RuntimeError("a bug")

    client = TestClient(app, raise_server_exceptions=False)
    assert client.get("/boom/1").status_code == 500
    text = metrics.exposition().body.decode()
    assert value(text, "circle_node_requests_total", route="/boom/{thing}", status="500") == 1


def test_the_multiprocess_directory_is_chosen_before_the_metrics_exist() -> None:
    process_metrics()
    with pytest.raises(RuntimeError, match="before the metrics are created"):
        prepare_multiprocess(Path("/nonexistent"))


def test_the_outbox_depth_is_read_from_the_store_whichever_worker_answers(  # type: ignore[no-untyped-def]
    open_lasting_store, tmp_path: Path
) -> None:
    # Two workers on one store: one works, the other answers the scrape.
    working, answering = open_lasting_store(), open_lasting_store()
    garden = open_node(Settings(data_dir=tmp_path / "garden"))
    try:
        working.peering.add_peer(garden.feed.descriptor("garden", "garden"), "garden")
        garden.peering.add_peer(working.feed.descriptor("kitchen", "kitchen"), "kitchen")
        metrics = Metrics()
        metrics.circle(answering, "kitchen")
        working.circle.found_circle(name="Kitchen", aim="Feed", domain="Food", founder_name="Ada")
        text = metrics.exposition().body.decode()
        owed = working.feed.own_feed().head
        assert value(text, "circle_node_outbox_depth", peer=garden.feed.node_id) == owed
        assert value(text, "circle_node_outbox_lag_seconds", peer=garden.feed.node_id) >= 0
        # The working one delivers and the peer acknowledges: the next scrape reads it.
        push = working.outbox.pending_push(garden.feed.feed_id)
        assert push is not None
        reply = garden.intake.receive_push(push)
        working.outbox.acknowledge(garden.feed.feed_id, reply.next_seq)
        text = metrics.exposition().body.decode()
        assert value(text, "circle_node_outbox_depth", peer=garden.feed.node_id) == 0
        assert value(text, "circle_node_outbox_lag_seconds", peer=garden.feed.node_id) == 0
    finally:
        garden.close()


class _Network:
    """Pushes and pulls in process; `up` False fails them like a peer that is down."""

    def __init__(self, nodes: dict[str, CircleNode]) -> None:
        self.nodes = nodes
        self.up = True

    async def push(self, url: str, push: Push) -> PushReply:
        if not self.up:
            raise TransportError("Cannot connect")
        return self.nodes[url].intake.receive_push(push)

    async def pull(self, url: str, after: int, limit: int) -> FeedPage:
        if not self.up:
            raise TransportError("Cannot connect")
        return self.nodes[url].feed.page(after, min(limit, 2), None)


def test_delivery_reports_failures_contacts_and_how_far_behind(two_circles) -> None:  # type: ignore[no-untyped-def]
    kitchen, garden = two_circles
    metrics = Metrics()
    kitchen.observer = metrics.circle(kitchen, "kitchen")
    garden.observer = metrics.circle(garden, "garden")
    network = _Network({"kitchen": kitchen, "garden": garden})
    kitchen.circle.found_circle(name="Kitchen", aim="Feed", domain="Food", founder_name="Ada")
    network.up = False
    asyncio.run(Federator(kitchen, network).push_round())  # type: ignore[arg-type]
    puller = Federator(garden, network)  # type: ignore[arg-type]
    asyncio.run(puller.pull_round())
    text = metrics.exposition().body.decode()
    failures = "circle_node_peer_delivery_failures_total"
    assert value(text, failures, circle="kitchen", direction="push") == 1
    assert value(text, failures, circle="garden", direction="pull") == 1
    assert not samples(text, "circle_node_peer_last_contact_timestamp_seconds")
    network.up = True
    asyncio.run(puller.pull_round())  # two entries a page: it was behind, then caught up
    text = metrics.exposition().body.decode()
    contact = "circle_node_peer_last_contact_timestamp_seconds"
    assert value(text, contact, circle="garden", peer=kitchen.feed.node_id) > 0
    assert value(text, "circle_node_peer_behind_entries", circle="garden") == 0
    assert value(text, "circle_node_entries_received_total", circle="garden") == (
        kitchen.feed.own_feed().head
    )


def test_store_errors_by_kind_and_conflict_retries(two_circles) -> None:  # type: ignore[no-untyped-def]
    kitchen, _ = two_circles
    metrics = Metrics()
    observer = metrics.circle(kitchen, "kitchen")
    work = BackgroundWork(store_failed=observer.store_error)

    def down() -> None:
        raise OperationalError("connection refused")

    with pytest.raises(OperationalError):
        asyncio.run(work.run(down))
    observer.store_error(OperationalError("attempt to write a readonly database"))
    observer.store_error(IntegrityError("conflict"))
    count_conflict_retries(metrics.conflict_retries.inc)
    tries = []

    @retry_on_conflict
    def contended() -> None:
        tries.append(1)
        if len(tries) < 3:
            raise IntegrityError("another writer saved first")

    try:
        contended()
    finally:
        count_conflict_retries(process_metrics().conflict_retries.inc)
    text = metrics.exposition().body.decode()
    errors = "circle_node_store_errors_total"
    assert value(text, errors, circle="kitchen", kind="unavailable") == 1
    assert value(text, errors, circle="kitchen", kind="read_only") == 1
    assert value(text, errors, circle="kitchen", kind="busy") == 1
    assert value(text, "circle_node_store_conflict_retries_total") == 2


WORKERS = textwrap.dedent(
    """
    import os, sys
    from pathlib import Path
    from node.http.metrics import prepare_multiprocess, process_metrics
    from node.app.persistence import open_node
    from node.settings import Settings
    from node.http.server import ServerOptions, create_app
    from fastapi.testclient import TestClient

    directory, data = Path(sys.argv[1]), Path(sys.argv[2])
    (directory / "counter_999999.db").write_bytes(b"")  # an earlier run's file, emptied away
    prepare_multiprocess(directory)
    node = open_node(Settings(data_dir=data))
    app = create_app(node, None, ServerOptions(public_url="http://testserver"))
    node.circle.found_circle(name="Kitchen", aim="Feed", domain="Food", founder_name="Ada")
    # Forked after the app is made, as `serve --workers` does: each worker counts its own.
    children = []
    for worker in range(2):
        pid = os.fork()
        if pid == 0:
            with TestClient(app) as client:
                for _ in range(worker + 2):
                    assert client.get("/healthz").status_code == 200
            os._exit(0)
        children.append(pid)
    for pid in children:
        assert os.waitpid(pid, 0)[1] == 0
    # The parent answers the scrape: the sum of both workers and its own.
    print(process_metrics().exposition().body.decode())
    """
)


def test_workers_writing_to_one_directory_add_up(tmp_path: Path) -> None:
    directory = tmp_path / "metrics"
    directory.mkdir()
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    run = subprocess.run(
        [sys.executable, "-c", WORKERS, str(directory), str(tmp_path / "data")],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert run.returncode == 0, run.stderr
    text = run.stdout
    assert not (directory / "counter_999999.db").exists()
    healthz = value(text, "circle_node_requests_total", circle="", route="/healthz", status="200")
    assert healthz == 2 + 3
    assert value(text, "circle_node_request_seconds_count", route="/healthz") == 5
    assert value(text, "circle_node_entries_appended_total", circle="") > 0
    (build,) = samples(text, "circle_node_build_info")
    assert build.value == 1
    # Process figures with a pid: here only the parent is still alive.
    (memory,) = samples(text, "process_resident_memory_bytes")
    assert memory.labels["pid"].isdigit()
    assert len(list(directory.glob("counter_*.db"))) == 3  # the parent and both workers


def test_a_made_up_method_is_counted_as_other(two_circles) -> None:  # type: ignore[no-untyped-def]
    kitchen, _ = two_circles
    metrics = Metrics()
    client = TestClient(
        create_app(kitchen, None, ServerOptions(public_url="http://t"), metrics=metrics)
    )
    for method in ("BREW", "WHEN", "GET"):
        client.request(method, "/healthz")
    text = metrics.exposition().body.decode()
    methods = {s.labels["method"] for s in samples(text, "circle_node_requests_total")}
    assert methods == {"OTHER", "GET"}
    assert value(text, "circle_node_requests_total", method="OTHER") == 2


def test_a_routes_series_are_looked_up_once_and_counted_every_time(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    metrics = Metrics()
    circle = metrics.circle(None, "kitchen")
    looked_up = []
    labels = metrics.requests.labels

    def counting(*values: str) -> object:
        looked_up.append(values)
        return labels(*values)

    monkeypatch.setattr(metrics.requests, "labels", counting)
    for _ in range(3):
        circle.observe_request("POST", "/api/proposals", 201, 0.01)
    circle.observe_request("POST", "/api/proposals", 400, 0.01)
    assert looked_up == [
        ("kitchen", "POST", "/api/proposals", "201"),
        ("kitchen", "POST", "/api/proposals", "400"),
    ]
    text = metrics.exposition().body.decode()
    assert value(text, "circle_node_requests_total", route="/api/proposals", status="201") == 3
    assert value(text, "circle_node_request_seconds_count", route="/api/proposals") == 4
