"""/healthz, Prometheus /metrics, and logs that never hold a token or a key."""

from __future__ import annotations

import base64
import contextlib
import json
import urllib.error
import urllib.request
from pathlib import Path

from fastapi.testclient import TestClient

from federation.keys import private_bytes
from federation.wire import Push, encode
from node.app.persistence import open_node
from node.demo.local_cluster import LocalNode
from node.http.metrics import Metrics
from node.http.server import ServerOptions, create_app
from node.network.identity import load_or_create_keys
from node.settings import Settings

MSGPACK = {"Content-Type": "application/msgpack"}


def _metric(text: str, name: str) -> list[str]:
    return [line for line in text.splitlines() if line.startswith(name)]


def test_metrics_count_entries_outbox_rejections_and_latency(tmp_path: Path) -> None:
    a = open_node(Settings(data_dir=tmp_path / "a"))
    b = open_node(Settings(data_dir=tmp_path / "b"))
    a.peering.add_peer(b.feed.descriptor("b", "http://b.invalid"), "http://b.invalid")
    b.peering.add_peer(a.feed.descriptor("a", "http://testserver"), "http://testserver")
    # Metrics of its own: the process's are shared by every app the tests make.
    options = ServerOptions(public_url="http://testserver")
    client = TestClient(create_app(a, None, options, metrics=Metrics()))
    # A founds its circle (one entry owed to B); B founds its own and pushes it to A.
    a.circle.found_circle(name="Kitchen", aim="Feed", domain="Food", founder_name="Ada")
    b.circle.found_circle(name="Garden", aim="Grow", domain="Land", founder_name="Bo")
    push = b.outbox.pending_push(a.feed.feed_id)
    assert push is not None
    assert (
        client.post("/federation/inbox", content=encode(push), headers=MSGPACK).status_code == 200
    )
    # A push of garbage is refused, and counted by reason.
    client.post("/federation/inbox", content=b"\xc1", headers=MSGPACK)
    stranger = Push(bytes(32), [], [])
    client.post("/federation/inbox", content=encode(stranger), headers=MSGPACK)
    text = client.get("/metrics").text
    assert _metric(text, "circle_node_entries_appended_total") == [
        'circle_node_entries_appended_total{circle=""} 1.0'
    ]
    (received,) = _metric(text, "circle_node_entries_received_total")
    assert b.feed.node_id in received and received.endswith(f" {float(len(push.entries))}")
    (depth,) = _metric(text, "circle_node_outbox_depth")
    assert b.feed.node_id in depth and depth.endswith(" 1.0")
    assert 'circle_node_rejections_total{circle="",reason="unknown_node"} 1.0' in text
    assert 'route="/federation/inbox"' in text and "circle_node_request_seconds_bucket" in text
    health = client.get("/healthz").json()
    assert health["status"] == "ok" and health["head"] == a.feed.own_feed().head
    a.close()
    b.close()


def test_the_logs_of_a_run_hold_no_token_and_no_key(tmp_path: Path) -> None:
    node = LocalNode(tmp_path, "kitchen")
    (node.data / "circle-node.toml").write_text("encrypt = true\n")
    settings = Settings.load(node.data)
    with open_node_ctx(settings) as store:
        founder = store.circle.found_circle(
            name="Kitchen", aim="Feed", domain="Food", founder_name="Ada Lovelace"
        )
        token_id, token = store.tokens.issue_token(founder)
        # A peer that does not answer: delivery fails and is logged, again and again.
        other = open_node(Settings(data_dir=tmp_path / "other"))
        store.peering.add_peer(
            other.feed.descriptor("other", "http://127.0.0.1:9"), "http://127.0.0.1:9"
        )
        other.close()
    keys, _ = load_or_create_keys(node.data)
    store_key = (node.data / "store.key").read_bytes()
    node.start()
    try:
        for headers in (
            {"Authorization": f"Bearer {token}"},
            {"Authorization": f"Bearer {token}x"},
            {},
        ):
            request = urllib.request.Request(f"{node.url}/api/circle", headers=headers)
            with contextlib.suppress(urllib.error.HTTPError):
                urllib.request.urlopen(request, timeout=5).read()
        urllib.request.urlopen(f"{node.url}/metrics", timeout=5).read()
    finally:
        node.stop()
    log = node.log.read_text()
    lines = [line for line in log.splitlines() if line.startswith("{")]
    assert lines, "the run logged nothing to check"
    assert all(json.loads(line)["level"] for line in lines)  # every log line is JSON
    assert any("push to" in json.loads(line)["message"] for line in lines)
    secrets = [token, token[3:], token_id]
    for key in (keys.current, keys.next):
        raw = private_bytes(key)
        secrets += [raw.hex(), base64.b64encode(raw).decode()]
    secrets += [store_key.decode().strip()]
    for secret in secrets:
        assert secret not in log, "a secret reached the logs"


def open_node_ctx(settings: Settings):  # type: ignore[no-untyped-def]
    import contextlib

    @contextlib.contextmanager
    def opened():  # type: ignore[no-untyped-def]
        node = open_node(settings)
        try:
            yield node
        finally:
            node.close()

    return opened()
