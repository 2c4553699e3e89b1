"""The host's app in process: each circle's app at /c/<slug>, the host's own routes, and signed
reads that only the circle they were made for takes."""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from eventsourcing.persistence import OperationalError
from fastapi.testclient import TestClient
from starlette.applications import Starlette
from starlette.routing import Mount

from federation.httpsig import sign_request
from node.app.node import CircleNode
from node.app.persistence import open_node
from node.host.circles import opened_circles
from node.host.layout import circle_settings
from node.host.server import create_host_app
from node.http.server import ServerOptions
from node.http.web.rendering import SECURITY_HEADERS
from node.settings import Settings

HOST = "http://testserver"


@pytest.fixture
def host(tmp_path: Path) -> Iterator[tuple[TestClient, dict[str, CircleNode], CircleNode]]:
    """A host of two circles, `a` (Kitchen) and `b` (Garden), served in process, and an outside
    node `x` that both have as a peer."""
    settings = Settings(data_dir=tmp_path / "host")
    for slug, name in (("a", "Kitchen"), ("b", "Garden <&>")):
        node = open_node(circle_settings(settings, slug))
        node.circle.found_circle(name=name, aim="Feed", domain="Food", founder_name="Ada")
        node.close()
    x = open_node(Settings(data_dir=tmp_path / "x"))
    with opened_circles(settings) as circles:
        for circle in circles:
            circle.node.peering.add_peer(
                x.feed.descriptor("x", "http://x.invalid"), "http://x.invalid"
            )
        app = create_host_app(circles, ServerOptions(public_url=HOST))
        with TestClient(app) as client:
            yield client, {circle.slug: circle.node for circle in circles}, x
    x.close()


def signed_get(client: TestClient, signer: CircleNode, signed_for: str, sent_to: str) -> object:
    assert signer.feed.keys is not None
    headers = sign_request(
        "GET",
        f"{HOST}{signed_for}",
        {},
        b"",
        key_id=signer.feed.node_id,
        private_key=signer.feed.keys.current,
    )
    return client.get(sent_to, headers=headers)


def test_each_circle_is_served_at_its_path_as_a_node_of_its_own(host) -> None:  # type: ignore[no-untyped-def]
    from federation.verify import decode_descriptor

    client, circles, _ = host
    for slug, node in circles.items():
        descriptor = decode_descriptor(client.get(f"/c/{slug}/federation/node").content)
        assert descriptor.url == f"{HOST}/c/{slug}"
        assert descriptor.feed == node.feed.feed_id
        health = client.get(f"/c/{slug}/healthz").json()
        assert health["node"] == node.feed.node_id
        assert client.get(f"/c/{slug}/openapi.json").status_code == 200
    # Each circle's API documentation loads its files from under the circle's path.
    page = client.get("/c/b/docs")
    loaded = re.findall(r'(?:src|href)="([^"]*)"', page.text)
    assert loaded and all(url.startswith("/c/b/docs/assets/") for url in loaded), loaded
    assert all(client.get(url).status_code == 200 for url in loaded)
    # The bare path goes to the circle's root.
    answer = client.get("/c/a", follow_redirects=False)
    assert answer.status_code == 307 and answer.headers["location"].endswith("/c/a/")


def test_the_host_starts_each_circles_work_from_one_loop(host) -> None:  # type: ignore[no-untyped-def]
    client, _, _ = host
    loops = set()
    for slug in ("a", "b"):
        circle = client.app.state.circles[slug]  # type: ignore[attr-defined]
        assert circle.federator is not None
        assert circle.mail_sender is not None
        loops.add(id(circle.deliveries))
        assert f"{HOST}/c/{slug}" in circle.deliveries.members
    # One delivery loop and one calendar for every circle of the host (node/network/deliveries.py).
    assert len(loops) == 1


def test_a_signed_read_made_for_one_circle_is_refused_by_another(host) -> None:  # type: ignore[no-untyped-def]
    client, _, x = host
    path = "/federation/feed?after=0"
    # X's signed reads of each circle are taken.
    for slug in ("a", "b"):
        answer = signed_get(client, x, f"/c/{slug}{path}", f"/c/{slug}{path}")
        assert answer.status_code == 200, answer.text  # type: ignore[attr-defined]
    # A read signed for /c/a/, replayed to /c/b/: 401.
    replayed = signed_get(client, x, f"/c/a{path}", f"/c/b{path}")
    assert replayed.status_code == 401  # type: ignore[attr-defined]
    assert replayed.headers["WWW-Authenticate"] == "Signature"  # type: ignore[attr-defined]


def test_a_signed_read_outside_the_circles_path_is_refused(tmp_path: Path) -> None:
    """A proxy that strips a node's prefix would let a read signed for one node under a path be
    replayed to another: a node under a path refuses reads signed for a path outside it."""
    from node.http.server import create_app

    a = open_node(Settings(data_dir=tmp_path / "a"))
    x = open_node(Settings(data_dir=tmp_path / "x"))
    try:
        a.peering.add_peer(x.feed.descriptor("x", "http://x.invalid"), "http://x.invalid")
        app = create_app(a, None, ServerOptions(public_url=f"{HOST}/c/a"))
        # Served at the root (as behind a proxy that strips the prefix), and under /c/ab.
        routes = [Mount("/c/a", app=app), Mount("/c/ab", app=app), Mount("", app=app)]
        client = TestClient(Starlette(routes=routes))
        for path in ("/federation/feed", "/c/ab/federation/feed"):
            answer = signed_get(client, x, path, path)
            assert answer.status_code == 401  # type: ignore[attr-defined]
            assert answer.json()["reason"] == "signature_wrong_path"  # type: ignore[attr-defined]
        path = "/c/a/federation/feed"
        assert signed_get(client, x, path, path).status_code == 200  # type: ignore[attr-defined]
    finally:
        a.close()
        x.close()


def test_the_host_lists_its_circles_on_a_page_of_its_own(host) -> None:  # type: ignore[no-untyped-def]
    client, _, _ = host
    page = client.get("/")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    for header, value in SECURITY_HEADERS.items():
        assert page.headers[header] == value
    assert '<a href="/c/a/">Kitchen</a>' in page.text
    assert "Garden &lt;&amp;&gt;" in page.text  # escaped


def test_the_hosts_health_names_each_circle(host) -> None:  # type: ignore[no-untyped-def]
    client, circles, _ = host
    health = client.get("/healthz").json()
    assert health["status"] == "ok"
    for slug, node in circles.items():
        assert health["circles"][slug] == {
            "status": "ok",
            "node": node.feed.node_id,
            "head": node.feed.own_feed().head,
        }


def test_the_hosts_metrics_are_one_exposition_labelled_by_circle(host) -> None:  # type: ignore[no-untyped-def]
    client, _, _ = host
    for slug in ("a", "b"):
        client.get(f"/c/{slug}/healthz")
    text = client.get("/metrics").text
    assert text.count("# TYPE circle_node_requests_total counter") == 1
    for slug in ("a", "b"):
        assert (
            f'circle_node_requests_total{{circle="{slug}",method="GET",route="/healthz",status="200"}}'
            in text
        )
        assert f'circle_node_outbox_depth{{circle="{slug}",' in text  # each has X as a peer


def test_what_the_host_does_not_serve_is_a_problem(host) -> None:  # type: ignore[no-untyped-def]
    client, _, _ = host
    for path in ("/c/nobody/federation/node", "/api/circle", "/docs"):
        answer = client.get(path)
        assert answer.status_code == 404
        assert answer.headers["content-type"] == "application/problem+json"
        assert answer.json()["reason"] == "not_found"
    assert client.post("/healthz").status_code == 405


def test_a_circle_that_left_answers_gone_with_the_path_as_it_was_sent(host, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from node.host.layout import circle_folder
    from node.host.moved_marker import mark_moved

    client, _, _ = host
    mark_moved(circle_folder(tmp_path / "host", "a"), "https://b.example/c/a")
    for sent in (
        "/c/a/%E2%82%AC",
        "/c/a/people%3Fx%2Fy/z",
        "/c/a/proposals?q=%E2%82%AC&x=%2F",
        "/c/a/",
    ):
        answer = client.get(sent, follow_redirects=False)
        assert answer.status_code == 410, (sent, answer.text)
        assert answer.json()["reason"] == "moved"
        below = sent.removeprefix("/c/a")
        assert answer.headers["location"] == "https://b.example/c/a" + below


def test_a_circle_whose_marker_cannot_be_read_is_a_problem_not_served(host, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from node.host.layout import circle_folder
    from node.host.moved_marker import MOVED_FILE

    client, _, _ = host
    (circle_folder(tmp_path / "host", "a") / MOVED_FILE).mkdir()  # there, but not readable
    answer = client.get("/c/a/federation/node")
    assert answer.status_code == 503, answer.text
    assert answer.headers["content-type"] == "application/problem+json"
    assert answer.json()["reason"] == "store_unavailable"
    assert answer.headers["retry-after"] == "30"
    assert client.get("/c/b/federation/node").status_code == 200  # the others are served


def test_the_hosts_health_reads_the_circles_stores_at_once(host, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    client, circles, _ = host
    # Given both circles' stores down, each read giving up only once the other's has started
    # (a read that waited for the other's to end would never start it),
    both = threading.Barrier(len(circles), timeout=10)

    def gives_up() -> object:
        both.wait()
        raise OperationalError("connection failed: Connection refused")

    for node in circles.values():
        monkeypatch.setattr(node.feed, "own_feed", gives_up)
    # then the host's health says so (of the other, `unknown` if it answered first).
    answer = client.get("/healthz")
    assert answer.status_code == 503
    assert answer.json()["status"] == "store_unavailable"
    said = [each["status"] for each in answer.json()["circles"].values()]
    assert "store_unavailable" in said and set(said) <= {"store_unavailable", "unknown"}


def test_the_hosts_health_answers_once_a_store_gives_up(host, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    client, circles, _ = host
    # Given circle a's store down, and circle b's read not over until the answer is,
    answered = threading.Event()

    def gives_up() -> object:
        raise OperationalError("connection failed: Connection refused")

    def slow() -> object:
        answered.wait(10)
        raise OperationalError("too late")

    monkeypatch.setattr(circles["a"].feed, "own_feed", gives_up)
    monkeypatch.setattr(circles["b"].feed, "own_feed", slow)
    # then the answer comes as a's read gives up: b's is not waited for.
    try:
        answer = client.get("/healthz")
    finally:
        answered.set()
    assert answer.status_code == 503
    health = answer.json()["circles"]
    assert health["a"] == {
        "status": "store_unavailable",
        "node": circles["a"].feed.node_id,
        "head": None,
    }
    assert health["b"] == {"status": "unknown", "node": circles["b"].feed.node_id, "head": None}
