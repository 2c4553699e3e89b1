"""Behind a reverse proxy: only a trusted proxy's X-Forwarded-For says who the client is, and the
rate limits count each client apart; anyone else's X-Forwarded-For is ignored.

The fast tests reach the app as the proxy's address does (httpx's ASGI transport lets a test
choose the peer's address); the last runs a real `circle-node serve` with `trusted_proxies`
from its environment, reached over loopback as a proxy on the same machine reaches it.
"""

from __future__ import annotations

import asyncio
import json
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from fastapi import Request
from starlette.responses import JSONResponse
from starlette.types import Receive, Scope, Send

from node.app.node import CircleNode
from node.app.persistence import open_node
from node.demo.local_cluster import LocalNode
from node.http.front import client_address, front
from node.http.server import ServerOptions, create_app
from node.settings import Settings

PROXY = "10.0.0.2"
WRONG = {"Authorization": "Bearer cn_not-a-token-of-anyone-here"}
BURST = 10  # wrong tokens a client may send at once (node/http/server.py's token_limiter)


@pytest.fixture
def kitchen(tmp_path: Path) -> Iterator[CircleNode]:
    node = open_node(Settings(data_dir=tmp_path / "kitchen"))
    node.circle.found_circle(name="Kitchen", aim="Feed", domain="Food", founder_name="Ada")
    try:
        yield node
    finally:
        node.close()


def statuses(node: CircleNode, peer: str, requests: list[dict[str, str]]) -> list[int]:
    """The statuses of wrong-token requests sent from `peer` with these extra headers each,
    to the node's app behind a front that trusts PROXY."""
    app = front(create_app(node, None, ServerOptions("http://testserver")), [PROXY])

    async def send() -> list[int]:
        transport = httpx.ASGITransport(app=app, client=(peer, 40000))
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
            return [
                (await http.get("/api/circle", headers={**WRONG, **headers})).status_code
                for headers in requests
            ]

    return asyncio.run(send())


def test_two_clients_behind_a_trusted_proxy_are_limited_apart(kitchen: CircleNode) -> None:
    # Given a client that used up its wrong tokens behind the proxy,
    first = {"X-Forwarded-For": "203.0.113.7"}
    second = {"X-Forwarded-For": "203.0.113.8"}
    # (each proxy adds the address it saw: the rightmost one that is not a trusted proxy counts)
    through_two = {"X-Forwarded-For": f"198.51.100.1, 203.0.113.8, {PROXY}"}
    answers = statuses(kitchen, PROXY, [first] * (BURST + 1) + [second, through_two])
    # then it is refused, and the other client behind the same proxy is not.
    assert answers[:BURST] == [401] * BURST
    assert answers[BURST] == 429
    assert answers[BURST + 1 :] == [401, 401]


def test_an_untrusted_peers_forwarded_for_is_ignored(kitchen: CircleNode) -> None:
    # A client that is not a trusted proxy cannot spread its guesses over made-up addresses.
    made_up = [{"X-Forwarded-For": f"203.0.113.{n}"} for n in range(BURST + 2)]
    answers = statuses(kitchen, "192.0.2.50", made_up)
    assert answers[:BURST] == [401] * BURST
    assert answers[BURST:] == [429, 429]


def test_a_trusted_proxys_scheme_is_taken_and_an_untrusted_one_is_not(
    kitchen: CircleNode,
) -> None:
    app = create_app(kitchen, None, ServerOptions("http://testserver"))

    @app.get("/seen")
    def seen(request: Request) -> dict[str, str]:
        assert request.client is not None
        return {"scheme": request.url.scheme, "client": request.client.host}

    async def ask(peer: str) -> dict[str, str]:
        transport = httpx.ASGITransport(app=front(app, [PROXY]), client=(peer, 40000))
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
            forwarded = {"X-Forwarded-Proto": "https", "X-Forwarded-For": "203.0.113.7"}
            return (await http.get("/seen", headers=forwarded)).json()  # type: ignore[no-any-return]

    assert asyncio.run(ask(PROXY)) == {"scheme": "https", "client": "203.0.113.7"}
    assert asyncio.run(ask("192.0.2.50")) == {"scheme": "http", "client": "192.0.2.50"}


def test_a_proxy_seen_by_a_dual_stack_socket_matches_its_ipv4_network() -> None:
    """A dual-stack socket reports an IPv4 peer IPv4-mapped (`::ffff:10.0.0.1`): it is still
    the trusted network's (`10.0.0.0/8`), and any peer's address is given in its IPv4 form."""

    async def seen(scope: Scope, receive: Receive, send: Send) -> None:
        request = Request(scope)
        found = {"client": client_address(request), "scheme": request.url.scheme}
        await JSONResponse(found)(scope, receive, send)

    app = front(seen, ["10.0.0.0/8"], access_log=False)

    async def ask(peer: str, forwarded_for: str) -> tuple[dict[str, str], str]:
        transport = httpx.ASGITransport(app=app, client=(peer, 40000))
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
            headers = {
                "X-Forwarded-For": forwarded_for,
                "X-Forwarded-Proto": "https",
                "X-Request-ID": "proxy-given-id",
            }
            answer = await http.get("/", headers=headers)
            return answer.json(), answer.headers["X-Request-ID"]

    # Given a trusted proxy in 10.0.0.0/8, seen as ::ffff:10.0.0.1: its headers are believed.
    assert asyncio.run(ask("::ffff:10.0.0.1", "203.0.113.7")) == (
        {"client": "203.0.113.7", "scheme": "https"},
        "proxy-given-id",
    )
    # A hop of a trusted proxy that a dual-stack proxy wrote IPv4-mapped is a trusted one too.
    assert asyncio.run(ask("10.0.0.2", "203.0.113.8, ::ffff:10.0.0.3"))[0] == {
        "client": "203.0.113.8",
        "scheme": "https",
    }
    # An untrusted peer seen IPv4-mapped: its headers are ignored, its address is IPv4.
    client, request_id = asyncio.run(ask("::ffff:192.0.2.50", "203.0.113.9"))
    assert client == {"client": "192.0.2.50", "scheme": "http"}
    assert request_id != "proxy-given-id"


def test_a_served_node_trusts_the_proxies_of_its_settings(tmp_path: Path) -> None:
    # Given a node served with the proxy on its own machine trusted (from its environment),
    served = LocalNode(tmp_path, "kitchen", pull_interval=60, env={})
    served.env["CIRCLE_NODE_TRUSTED_PROXIES"] = "127.0.0.1"
    served.start()
    try:

        def get(forwarded_for: str, request_id: str) -> tuple[int, str]:
            request = urllib.request.Request(
                f"{served.url}/api/circle",
                headers={**WRONG, "X-Forwarded-For": forwarded_for, "X-Request-ID": request_id},
            )
            try:
                with urllib.request.urlopen(request, timeout=10) as answer:
                    return answer.status, answer.headers["X-Request-ID"]
            except urllib.error.HTTPError as refused:
                return refused.code, refused.headers["X-Request-ID"]

        # when one client behind it sends wrong tokens until it is limited,
        answers = [get("203.0.113.7", f"first-{n}") for n in range(BURST + 1)]
        # then it is refused, another client is not, and each answer carries the proxy's id.
        assert [status for status, _ in answers] == [401] * BURST + [429]
        assert get("203.0.113.8", "second") == (401, "second")
        assert [request_id for _, request_id in answers] == [f"first-{n}" for n in range(11)]
    finally:
        served.stop()
    # The access log has a line per request, with the client behind the proxy and the id.
    lines = [json.loads(line) for line in served.log.read_text().splitlines() if line[:1] == "{"]
    access = [line for line in lines if line["logger"] == "circle_node.access"]
    second = next(line for line in access if line.get("request_id") == "second")
    assert second["client"] == "203.0.113.8" and second["status"] == 401
    assert second["method"] == "GET" and second["path"] == "/api/circle"
    limited = [line for line in lines if "over the limit" in line["message"]]
    assert all(line.get("request_id") == "first-10" for line in limited), limited
