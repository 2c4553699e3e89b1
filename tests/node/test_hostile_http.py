"""Malformed and hostile input at the HTTP edge: each is refused with its status and a reason,
and none of it changes what the node holds (its store's last notification id and the peer
feed's next seq stay as they were).

- Oversized bodies get 413 before they are read (declared) or as soon as they pass the limit
  (chunked), on the member API, the federation inbox and the web forms.
- Malformed JSON and MessagePack get 400 with a reason.
- Entries of an unknown protocol version or type, forged (signed by another key), replayed,
  reordered, or of another feed are refused.
- Slow or stalled clients time out, against a real `circle-node serve` (raw sockets).
"""

from __future__ import annotations

import re
import socket
import threading
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from starlette.routing import Route

from federation.feed import append
from federation.keys import NodeKeys
from federation.verify import decode_push_reply
from federation.wire import (
    ENTRY_SIGNING_CONTEXT,
    MAX_PUSH_BYTES,
    PROTOCOL_VERSION,
    Entry,
    Push,
    SignedEntry,
    encode,
)
from node.app.persistence import open_node
from node.demo.local_cluster import LocalNode
from node.http.api.limits import MAX_API_BODY
from node.http.body_limits import BODY_LIMITS, OTHERWISE, Refusal, limit_for
from node.http.server import ServerOptions, create_app
from node.http.web.forms import MAX_FORM_BYTES
from node.http.web.visits import PageRoute
from node.settings import Settings
from tests.node.api.everyone import Everyone, everyone

MSGPACK = {"Content-Type": "application/msgpack"}
JSON = {"Content-Type": "application/json"}
PROBLEM = "application/problem+json"


@pytest.fixture
def world(tmp_path: Path) -> Iterator[tuple[Everyone, TestClient]]:
    node = open_node(Settings(data_dir=tmp_path / "kitchen"))
    found = everyone(node)
    client = TestClient(create_app(node, None, ServerOptions(public_url="http://testserver")))
    yield found, client
    node.close()


def held(world: Everyone) -> tuple[int, int]:
    """What the node holds: its store's last notification id, and the peer feed's next seq."""
    node = world.node
    return node.store.recorder.max_notification_id() or 0, node.peering.peer_feed(
        world.peer.feed.feed_id
    ).next_seq


def assert_refused(response: Any, status: int, reason: str) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM, response.headers
    body = response.json()
    assert body["reason"] == reason and body["status"] == status and body["detail"], body


def chunks(total: int, size: int = 64 * 1024) -> Iterator[bytes]:
    """A body sent without a Content-Length (chunked)."""
    sent = 0
    while sent < total:
        yield b"x" * min(size, total - sent)
        sent += size


def test_oversized_bodies_get_413_and_change_nothing(
    world: tuple[Everyone, TestClient],
) -> None:
    found, client = world
    before = held(found)
    token = {**found.bearer("cleo"), **JSON}
    too_big = b'{"title": "x", "text": "' + b"y" * MAX_API_BODY + b'"}'
    assert_refused(client.post("/api/proposals", content=too_big, headers=token), 413, "oversize")
    response = client.post(
        "/api/proposals", content=chunks(MAX_API_BODY + 10), headers=token
    )  # no Content-Length: cut off as it passes the limit
    assert_refused(response, 413, "oversize")
    huge = b"\x00" * (MAX_PUSH_BYTES + 1)
    assert_refused(client.post("/federation/inbox", content=huge, headers=MSGPACK), 413, "oversize")
    response = client.post(
        "/federation/inbox", content=chunks(MAX_PUSH_BYTES + 10), headers=MSGPACK
    )
    assert_refused(response, 413, "oversize")
    # Any route, even one that takes no body, refuses a body larger than any route takes.
    assert_refused(client.post("/healthz", content=huge), 413, "oversize")
    # A web form past its own, tighter, limit: a readable page with 413.
    form = {"Content-Type": "application/x-www-form-urlencoded"}
    response = client.post("/sign-in", content=b"a=" + b"b" * MAX_FORM_BYTES, headers=form)
    assert response.status_code == 413 and "too large" in response.text
    # The limit is not the reason an ordinary request gets through.
    ok = client.post("/api/proposals", json={"title": "Rota", "text": "y"}, headers=token)
    assert ok.status_code == 201, ok.text
    after = held(found)
    assert after[1] == before[1] and after[0] > before[0]  # only the proposal was stored


def served_routes(routes: list[Any], prefix: str = "") -> Iterator[tuple[str, str, Any]]:
    """(method, path, route) of every route the app serves, into included routers (FastAPI
    keeps them nested since 0.16x; older versions flatten them into the app's routes)."""
    for route in routes:
        inner = getattr(route, "original_router", None)
        if inner is not None:
            context = getattr(route, "include_context", None)
            yield from served_routes(inner.routes, prefix + (getattr(context, "prefix", "") or ""))
        elif isinstance(route, APIRoute | Route):
            for method in route.methods or ():
                yield method, prefix + route.path, route


def test_the_table_of_body_limits_covers_every_route_that_takes_a_body(
    world: tuple[Everyone, TestClient],
) -> None:
    _, client = world
    takes_a_body = [
        (method, path, route)
        for method, path, route in served_routes(client.app.routes)  # type: ignore[attr-defined]
        if method in ("POST", "PUT", "PATCH")
    ]
    assert len(takes_a_body) >= 50
    for method, path, route in takes_a_body:
        limit = limit_for(path)
        assert limit in BODY_LIMITS, f"{method} {path} has no row in BODY_LIMITS"
        # The pages refuse with a page, the APIs with a problem.
        expected = Refusal.PAGE if isinstance(route, PageRoute) else Refusal.PROBLEM
        assert limit.refusal == expected, (method, path, limit)
    # Every row is some route's, and the routes' limits are the ones the surfaces name.
    for row in BODY_LIMITS:
        assert any(row.covers(path) for _, path, _ in takes_a_body), row
    assert limit_for("/federation/inbox").max_bytes == MAX_PUSH_BYTES
    assert limit_for("/api/proposals").max_bytes == MAX_API_BODY
    assert limit_for("/proposals/x/consent").max_bytes == MAX_FORM_BYTES
    assert limit_for("/healthz") == OTHERWISE and OTHERWISE.max_bytes == MAX_PUSH_BYTES


def test_an_oversized_form_gets_a_page_whether_declared_or_chunked(
    world: tuple[Everyone, TestClient],
) -> None:
    found, client = world
    before = held(found)
    # Signed in through the form, as a browser would.
    page = client.get("/sign-in")
    csrf = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert csrf is not None
    signed = client.post(
        "/sign-in",
        data={"csrf": csrf.group(1), "token": found.tokens["cleo"], "next": "/proposals"},
        follow_redirects=False,
    )
    assert signed.status_code == 303, signed.text
    form = {"Content-Type": "application/x-www-form-urlencoded"}
    for body in (b"a=" + b"b" * MAX_FORM_BYTES, chunks(MAX_FORM_BYTES + 10)):
        response = client.post("/proposals", content=body, headers=form)
        assert response.status_code == 413, response.text
        assert response.headers["content-type"].startswith("text/html")
        assert "That form is too large" in response.text
        assert "Sign out" in response.text  # drawn for the member, as their other pages
        assert response.headers["X-Frame-Options"] == "DENY"
    assert held(found) == before


MALFORMED_JSON = [
    b'{"title": "x",',  # truncated
    b'{"title": "x" "text": "y"}',  # not JSON
    b'\xff\xfe{"title": 1}',  # not UTF-8
    b"[" * 100_000 + b"]" * 100_000,  # nested past any parser's depth
    b"[1, 2]",  # not an object
    b'{"title": "\\ud800", "text": "y"}',  # a lone surrogate
    b'{"title": NaN, "text": "y"}',
    b"",
]


def test_malformed_json_gets_400_with_a_reason_and_changes_nothing(
    world: tuple[Everyone, TestClient],
) -> None:
    found, client = world
    before = held(found)
    for raw in MALFORMED_JSON:
        for path in (
            "/api/proposals",
            "/api/hats",
            f"/api/proposals/{found.records['proposal_id'][0]}/questions",
        ):
            response = client.post(path, content=raw, headers={**found.bearer("ada"), **JSON})
            assert_refused(response, 400, "malformed")
    assert held(found) == before


MALFORMED_MSGPACK = [
    b"\xc1",  # a byte MessagePack never uses
    b"\x93\xc4\x20",  # truncated
    b"\x91" * 100_000,  # nested deeper than any push
    encode(Push(bytes(31), [], [])),  # a feed id of the wrong length
    b"\x93\xc4\x20" + bytes(32) + b"\x91\x92\xc4\x01x\xc4\x01y\x90",  # a signature of 1 byte
    b"\x94\xc4\x20" + bytes(32) + b"\x90\x90\x00",  # a field too many
    b"{}",
    b"",
]


def test_malformed_msgpack_gets_400_with_a_reason_and_changes_nothing(
    world: tuple[Everyone, TestClient],
) -> None:
    found, client = world
    before = held(found)
    for raw in MALFORMED_MSGPACK:
        response = client.post("/federation/inbox", content=raw, headers=MSGPACK)
        assert_refused(response, 400, "malformed")
    assert held(found) == before


def _peer_keys(world: Everyone) -> NodeKeys:
    keys = world.peer.feed.keys
    assert keys is not None
    return keys


def _sign(entry: Entry, keys: NodeKeys) -> SignedEntry:
    encoded = encode(entry)
    return SignedEntry(encoded, keys.current.sign(ENTRY_SIGNING_CONTEXT + encoded))


def test_unknown_versions_and_types_forged_replayed_and_reordered_entries_are_refused(
    world: tuple[Everyone, TestClient],
) -> None:
    found, client = world
    garden = found.peer
    keys = _peer_keys(found)
    state = garden.feed.own_feed().state
    next_entry = Entry(
        version=PROTOCOL_VERSION,
        feed=state.feed_id,
        seq=state.next_seq,
        prev=state.last_hash,
        time=1_800_000_000_000,
        type="peering.request",
        audience=[],
        body_hash=b"",
        body_size=0,
    )
    stranger = NodeKeys.from_seeds(bytes([99]) * 32, bytes([199]) * 32)
    one, after_one = append(state, keys, "peering.request", None, 1_800_000_000_000)
    two, _ = append(after_one, keys, "peering.request", None, 1_800_000_000_001)
    held_entries = [garden.feed.inception(), *garden.feed.own_entries(0, 100)]
    other = found.stranger
    other_entry = other.feed.own_entries(0, 1)
    cases = {
        "unknown_version": [_sign(_replace(next_entry, version=PROTOCOL_VERSION + 1), keys)],
        "unknown_type": [_sign(_replace(next_entry, type="no.such.type"), keys)],
        "bad_signature": [_sign(next_entry, stranger)],  # forged: another key signed it
        "prev_mismatch": [_sign(_replace(next_entry, prev=bytes(32)), keys)],
        "wrong_feed": [_sign(_replace(next_entry, feed=other.feed.feed_id), keys)],
        "gap": [two, one],  # reordered: the second before the first
        "": held_entries[1:],  # replayed: entries already held are taken once only
    }
    before = held(found)
    for reason, entries in cases.items():
        push = Push(garden.feed.feed_id, entries, [])
        response = client.post("/federation/inbox", content=encode(push), headers=MSGPACK)
        assert response.status_code == 200, (reason, response.text)
        reply = decode_push_reply(response.content)
        assert (reply.accepted, reply.reason) == (0, reason), (reason, reply)
        assert reply.next_seq == before[1]
        assert held(found) == before, reason
    # Another node's entries pushed as if they were this peer's are refused whole.
    push = Push(garden.feed.feed_id, other_entry, [])
    response = client.post("/federation/inbox", content=encode(push), headers=MSGPACK)
    assert decode_push_reply(response.content).reason == "wrong_feed"
    # A push of this node's own feed, back to it, is refused.
    push = Push(found.node.feed.feed_id, [found.node.feed.inception()], [])
    response = client.post("/federation/inbox", content=encode(push), headers=MSGPACK)
    assert_refused(response, 403, "wrong_feed")
    assert held(found) == before
    # The same entries in order are taken (so the refusals above were for what they said).
    push = Push(garden.feed.feed_id, [one, two], [])
    reply = decode_push_reply(
        client.post("/federation/inbox", content=encode(push), headers=MSGPACK).content
    )
    assert (reply.accepted, reply.reason) == (2, "")
    assert held(found)[1] == before[1] + 2


def _replace(entry: Entry, **changes: Any) -> Entry:
    import msgspec

    return msgspec.structs.replace(entry, **changes)


# Slow and stalled clients, against `circle-node serve`.

REQUEST_TIMEOUT = 2.0  # CIRCLE_NODE_REQUEST_TIMEOUT for the served node
KEEP_ALIVE = 5.0  # uvicorn's timeout_keep_alive as `circle-node serve` sets it


def _probe(port: int, steps: list[bytes | float], patience: float) -> tuple[float, bytes]:
    """Send `steps` (bytes, or seconds to wait) on a fresh connection, then read until the
    server closes it; returns (seconds from the first step until the close, what came back).
    Raises TimeoutError if the server keeps the connection open for `patience` seconds."""
    with socket.create_connection(("127.0.0.1", port), timeout=patience) as connection:
        started = time.monotonic()
        received = b""
        try:
            for step in steps:
                if isinstance(step, float):
                    time.sleep(step)
                else:
                    connection.sendall(step)
        except OSError:
            pass  # cut off while still sending: what a slow client should see
        try:
            while chunk := connection.recv(4096):
                received += chunk
        except ConnectionResetError:
            pass
        except TimeoutError:
            raise TimeoutError(f"still open after {patience} s; got {received[:80]!r}") from None
        return time.monotonic() - started, received


def test_slow_and_stalled_clients_are_cut_off(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CIRCLE_NODE_REQUEST_TIMEOUT", str(REQUEST_TIMEOUT))
    served = LocalNode(tmp_path, "kitchen", pull_interval=60)
    served.start()
    try:
        with served.handle() as store:
            before = store.store.recorder.max_notification_id()
        inbox = (
            b"POST /federation/inbox HTTP/1.1\r\nHost: x\r\n"
            b"Content-Type: application/msgpack\r\nContent-Length: 1000\r\n\r\n"
        )
        cases: dict[str, list[bytes | float]] = {
            "sends nothing": [],
            "half its headers, then stalls": [b"GET /healthz HTTP/1.1\r\nHost: x\r\n"],
            "its headers a byte at a time": [
                step
                for byte in b"GET /healthz HTTP/1.1\r\nHost: x\r\n"
                for step in (bytes([byte]), 0.25)
            ],
            "its headers, then stalls on the body": [inbox, b"\x93\xc4\x20"],
            "its headers, then a slow trickle of body": [
                inbox,
                *[step for _ in range(20) for step in (b"\x00", 0.25)],
            ],
        }
        results: dict[str, tuple[float, bytes] | BaseException] = {}

        def run(name: str, steps: list[bytes | float]) -> None:
            try:
                results[name] = _probe(served.port, steps, patience=REQUEST_TIMEOUT + 8)
            except BaseException as error:  # reported below, per case
                results[name] = error

        def idle() -> None:
            # A keep-alive connection left idle after its response is closed by uvicorn.
            try:
                results["idle after a response"] = _probe(
                    served.port,
                    [b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"],
                    patience=KEEP_ALIVE + 8,
                )
            except BaseException as error:
                results["idle after a response"] = error

        threads = [threading.Thread(target=run, args=item) for item in cases.items()]
        threads.append(threading.Thread(target=idle))
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)
        for name in cases:
            result = results[name]
            assert not isinstance(result, BaseException), (name, result)
            took, answer = result
            assert REQUEST_TIMEOUT - 0.5 < took < REQUEST_TIMEOUT + 3, (name, took)
            assert answer.startswith(b"HTTP/1.1 408 "), (name, answer)
            assert b'"reason": "request_timeout"' in answer, (name, answer)
        result = results["idle after a response"]
        assert not isinstance(result, BaseException), result
        took, answer = result
        assert answer.startswith(b"HTTP/1.1 200 ") and KEEP_ALIVE - 1 < took < KEEP_ALIVE + 3
        # A request that arrives in time, even in pieces, is served; the node is unharmed.
        took, answer = _probe(
            served.port,
            [b"GET /healthz HTTP/1.1\r\n", 0.5, b"Host: x\r\nConnection: close\r\n\r\n"],
            patience=10,
        )
        assert answer.startswith(b"HTTP/1.1 200 "), answer
        with urllib.request.urlopen(f"{served.url}/healthz", timeout=5) as response:
            assert response.status == 200
        with served.handle() as store:
            assert store.store.recorder.max_notification_id() == before  # nothing was stored
    finally:
        served.stop()
    log = served.log.read_text()
    assert "Traceback" not in log and '"level": "error"' not in log, log[-2000:]
