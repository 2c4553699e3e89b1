"""HTTP Message Signatures between nodes: round trips, every failure reason, a real HTTP hop."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import socket
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

import aiohttp
import pytest
import uvicorn
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from http_message_signatures import HTTPMessageSigner, MappingKeyResolver, algorithms
from yarl import URL

from federation.httpsig import SignatureError, sign_request, verify_request

CREATED = 1_770_000_000
URL_ = "https://node-b.example/federation/feeds/abc%20def?since=3&limit=10"
BODY = b'{"entries": [1, 2, 3]}'
ALICE = Ed25519PrivateKey.generate()
MALLORY = Ed25519PrivateKey.generate()
KEYS: dict[str, Ed25519PublicKey] = {"node-a#1": ALICE.public_key()}


def resolve(key_id: str) -> Ed25519PublicKey | None:
    return KEYS.get(key_id)


def signed(
    method: str = "POST",
    url: str = URL_,
    body: bytes = BODY,
    headers: dict[str, str] | None = None,
    key: Ed25519PrivateKey = ALICE,
    key_id: str = "node-a#1",
    created: int = CREATED,
) -> dict[str, str]:
    """The request's headers with the signature headers merged in."""
    base = {"Content-Type": "application/json"} if headers is None else dict(headers)
    added = sign_request(method, url, base, body, key_id=key_id, private_key=key, created=created)
    return {**base, **added}


def reason_of(
    method: str = "POST",
    url: str = URL_,
    headers: dict[str, str] | None = None,
    body: bytes = BODY,
    now: int = CREATED,
    resolve_key: Callable[[str], Ed25519PublicKey | None] = resolve,
) -> str:
    """The reason verification fails; fails the test if it succeeds."""
    with pytest.raises(SignatureError) as caught:
        verify_request(
            method,
            url,
            signed() if headers is None else headers,
            body,
            resolve_key=resolve_key,
            now=now,
        )
    assert str(caught.value).startswith(caught.value.reason + ": ")
    return caught.value.reason


def sha256_field(body: bytes) -> str:
    return "sha-256=:" + base64.b64encode(hashlib.sha256(body).digest()).decode() + ":"


# --- round trips -------------------------------------------------------------------------


def test_get_round_trip_covers_method_and_target_without_digest() -> None:
    url = "https://node-b.example/federation/feeds/abc"
    added = sign_request("GET", url, {}, b"", key_id="node-a#1", private_key=ALICE, created=CREATED)

    assert set(added) == {"Signature-Input", "Signature"}
    assert added["Signature-Input"] == (
        'node=("@method" "@authority" "@path" "@query");'
        f'created={CREATED};keyid="node-a#1";alg="ed25519";tag="circle-node"'
    )
    assert added["Signature"].startswith("node=:")
    assert verify_request("GET", url, added, b"", resolve_key=resolve, now=CREATED) == "node-a#1"


def test_post_round_trip_signs_a_sha256_content_digest() -> None:
    headers = signed()

    assert headers["Content-Digest"] == sha256_field(BODY)
    assert headers["Signature-Input"].startswith(
        'node=("@method" "@authority" "@path" "@query" "content-digest");'
    )
    assert verify_request("POST", URL_, headers, BODY, resolve_key=resolve, now=CREATED) == (
        "node-a#1"
    )


def test_created_defaults_to_the_clock() -> None:
    added = sign_request("GET", URL_, {}, b"", key_id="node-a#1", private_key=ALICE)
    assert verify_request("GET", URL_, added, b"", resolve_key=resolve) == "node-a#1"
    assert verify_request("GET", URL_, added, b"", resolve_key=resolve, now=int(time.time()))


def test_authority_is_normalised_default_port_and_host_case() -> None:
    headers = signed(url="https://Node-B.example:443/federation/feeds/abc%20def?since=3&limit=10")
    assert verify_request("POST", URL_, headers, BODY, resolve_key=resolve, now=CREATED)


def test_scheme_is_not_covered_so_a_tls_terminating_proxy_does_not_break_it() -> None:
    plain = URL_.replace("https://", "http://")
    assert verify_request("POST", plain, signed(), BODY, resolve_key=resolve, now=CREATED)


def test_stale_signature_headers_in_the_input_are_replaced() -> None:
    old = signed(key=MALLORY, body=b"old")
    lowered = {name.lower(): value for name, value in old.items()}
    added = sign_request(
        "POST", URL_, lowered, BODY, key_id="node-a#1", private_key=ALICE, created=CREATED
    )
    assert added["Content-Digest"] == sha256_field(BODY)
    merged = {k: v for k, v in lowered.items() if k == "content-type"} | added
    assert verify_request("POST", URL_, merged, BODY, resolve_key=resolve, now=CREATED)


# --- header names are case-insensitive ------------------------------------------------------


@pytest.mark.parametrize("case", [str.lower, str.upper, str.title])
def test_header_names_are_case_insensitive(case: Callable[[str], str]) -> None:
    headers = {case(name): value for name, value in signed().items()}
    assert verify_request("POST", URL_, headers, BODY, resolve_key=resolve, now=CREATED) == (
        "node-a#1"
    )


def test_lowercase_method_is_the_same_method() -> None:
    headers = signed(method="post")
    assert verify_request("POST", URL_, headers, BODY, resolve_key=resolve, now=CREATED)


# --- failure reasons --------------------------------------------------------------------------


def test_no_signature_headers_is_missing() -> None:
    assert reason_of(headers={"Content-Type": "application/json"}) == "missing"


@pytest.mark.parametrize("dropped", ["Signature", "Signature-Input"])
def test_only_one_of_the_two_fields_is_malformed(dropped: str) -> None:
    headers = {k: v for k, v in signed().items() if k != dropped}
    assert reason_of(headers=headers) == "malformed"


@pytest.mark.parametrize(
    "field, value",
    [
        ("Signature-Input", "this is (not a dictionary"),
        ("Signature-Input", ""),
        ("Signature", "node=not-bytes"),
        ("Signature", "other=:AAAA:"),
    ],
)
def test_garbage_signature_fields_are_malformed(field: str, value: str) -> None:
    headers = signed() | {field: value}
    assert reason_of(headers=headers) == "malformed"


def test_signature_without_the_circle_node_tag_is_malformed() -> None:
    headers = signed()
    headers["Signature-Input"] = headers["Signature-Input"].replace(
        'tag="circle-node"', 'tag="other-app"'
    )
    assert reason_of(headers=headers) == "malformed"


def test_signature_of_another_algorithm_is_malformed() -> None:
    headers = signed()
    headers["Signature-Input"] = headers["Signature-Input"].replace('"ed25519"', '"hmac-sha256"')
    assert reason_of(headers=headers) == "malformed"


def test_signature_covering_too_little_is_malformed() -> None:
    """A valid Ed25519 signature tagged circle-node that leaves the URL unsigned."""
    message = _LibraryRequest("POST", URL_, {"Content-Type": "application/json"})
    signer = HTTPMessageSigner(
        signature_algorithm=algorithms.ED25519,
        key_resolver=MappingKeyResolver(public_keys={}, private_keys={"node-a#1": ALICE}),
    )
    signer.sign(
        message,
        key_id="node-a#1",
        created=datetime.fromtimestamp(CREATED, UTC),
        tag="circle-node",
        covered_component_ids=("@method",),
        body=BODY,
    )
    with pytest.raises(SignatureError) as caught:
        verify_request("POST", URL_, message.headers, BODY, resolve_key=resolve, now=CREATED)
    assert caught.value.reason == "malformed"
    assert "@authority, @path, @query" in str(caught.value)


def test_unknown_key_id() -> None:
    headers = signed(key=MALLORY, key_id="node-z#9")
    assert reason_of(headers=headers) == "unknown_key"


def test_signature_by_another_key_is_bad_signature() -> None:
    headers = signed(key=MALLORY, key_id="node-a#1")
    assert reason_of(headers=headers) == "bad_signature"


def test_garbled_signature_bytes_are_bad_signature() -> None:
    headers = signed()
    headers["Signature"] = "node=:" + base64.b64encode(b"\x00" * 64).decode() + ":"
    assert reason_of(headers=headers) == "bad_signature"


def test_body_tampered_after_signing_is_digest_mismatch() -> None:
    assert reason_of(body=b'{"entries": [1, 2, 3, 4]}') == "digest_mismatch"


def test_body_dropped_after_signing_is_digest_mismatch() -> None:
    assert reason_of(body=b"") == "digest_mismatch"


def test_body_added_to_a_signed_get_is_digest_mismatch() -> None:
    headers = signed(method="GET", body=b"")
    assert reason_of(method="GET", headers=headers, body=b"smuggled") == "digest_mismatch"


def test_digest_replaced_to_fit_a_tampered_body_is_bad_signature() -> None:
    tampered = b'{"entries": []}'
    headers = signed() | {"Content-Digest": sha256_field(tampered)}
    assert reason_of(headers=headers, body=tampered) == "bad_signature"


@pytest.mark.parametrize(
    "method, url",
    [
        ("PUT", URL_),
        ("POST", URL_.replace("/feeds/abc%20def", "/feeds/xyz")),
        ("POST", URL_.replace("since=3", "since=0")),
        ("POST", URL_.split("?")[0]),
        ("POST", URL_ + "&extra=1"),
        ("POST", URL_.replace("node-b.example", "node-c.example")),
        ("POST", URL_.replace("node-b.example", "node-b.example:8443")),
    ],
    ids=["method", "path", "query-value", "query-dropped", "query-added", "host", "port"],
)
def test_method_or_url_changed_is_bad_signature(method: str, url: str) -> None:
    assert reason_of(method=method, url=url) == "bad_signature"


def test_too_old_is_expired_and_max_age_is_inclusive() -> None:
    headers = signed()
    assert verify_request("POST", URL_, headers, BODY, resolve_key=resolve, now=CREATED + 300)
    assert reason_of(headers=headers, now=CREATED + 301) == "expired"
    with pytest.raises(SignatureError) as caught:
        verify_request(
            "POST", URL_, headers, BODY, resolve_key=resolve, now=CREATED + 31, max_age=30
        )
    assert caught.value.reason == "expired"


def test_created_in_the_future_is_expired_beyond_60_seconds() -> None:
    headers = signed()
    assert verify_request("POST", URL_, headers, BODY, resolve_key=resolve, now=CREATED - 60)
    assert reason_of(headers=headers, now=CREATED - 61) == "expired"


def test_time_is_checked_before_the_key() -> None:
    headers = signed(key=MALLORY, key_id="node-z#9")
    assert reason_of(headers=headers, now=CREATED + 3600) == "expired"


def test_resolver_errors_propagate_unchanged() -> None:
    class Down(Exception):
        pass

    def broken(key_id: str) -> Ed25519PublicKey | None:
        raise Down(key_id)

    with pytest.raises(Down, match="node-a#1"):
        verify_request("POST", URL_, signed(), BODY, resolve_key=broken, now=CREATED)


def test_signing_an_unencoded_url_is_a_value_error() -> None:
    with pytest.raises(ValueError, match="cannot sign"):
        sign_request("GET", "https://node-b.example/a b", {}, b"", key_id="k", private_key=ALICE)


def test_reason_must_be_one_of_the_six() -> None:
    with pytest.raises(ValueError):
        SignatureError("nope", "detail")


# --- a real request: aiohttp client, FastAPI app under uvicorn ------------------------------


def _url_from_request(request: Request) -> str:
    """The URL as received: the raw (still percent-encoded) path, not Starlette's decoded one."""
    scope = request.scope
    raw_path = scope.get("raw_path") or scope["path"].encode()
    query = scope.get("query_string", b"")
    host = request.headers["host"]
    url = f"{scope['scheme']}://{host}{raw_path.decode('latin-1')}"
    return url + ("?" + query.decode("latin-1") if query else "")


def _app() -> FastAPI:
    app = FastAPI()

    @app.api_route("/federation/{rest:path}", methods=["GET", "POST"])
    async def receive(request: Request) -> JSONResponse:
        body = await request.body()
        try:
            key_id = verify_request(
                request.method,
                _url_from_request(request),
                request.headers,
                body,
                resolve_key=resolve,
            )
        except SignatureError as exc:
            return JSONResponse({"reason": exc.reason}, status_code=401)
        return JSONResponse({"key_id": key_id, "body": body.decode()})

    return app


@pytest.fixture
def server() -> Iterator[str]:
    """A uvicorn server on 127.0.0.1 at a free port, in a thread; yields its base URL."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(_app(), log_level="warning", lifespan="off")
    uv = uvicorn.Server(config)
    thread = threading.Thread(target=uv.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not uv.started:
        assert thread.is_alive() and time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        uv.should_exit = True
        thread.join(timeout=10)
        sock.close()


async def _send(
    method: str, url: str, body: bytes, *, sign_url: str | None = None, key_id: str = "node-a#1"
) -> tuple[int, dict[str, Any]]:
    wire_url = URL(url)
    headers = {"Content-Type": "application/json"} if body else {}
    headers |= sign_request(
        method,
        str(URL(sign_url)) if sign_url else str(wire_url),
        headers,
        body,
        key_id=key_id,
        private_key=ALICE,
    )
    async with (
        aiohttp.ClientSession() as session,
        session.request(method, wire_url, data=body or None, headers=headers) as response,
    ):
        return response.status, await response.json()


def test_aiohttp_client_to_fastapi_server(server: str) -> None:
    path = "/federation/feeds/abc%20def/entries?since=3&tag=a%2Fb"

    status, answer = asyncio.run(_send("POST", server + path, BODY))
    assert (status, answer) == (200, {"key_id": "node-a#1", "body": BODY.decode()})

    status, answer = asyncio.run(_send("GET", server + path, b""))
    assert (status, answer["key_id"]) == (200, "node-a#1")

    # The same client, signing for one URL and sending to another: the server must notice.
    other = server + "/federation/feeds/abc%20def/entries?since=0&tag=a%2Fb"
    status, answer = asyncio.run(_send("POST", server + path, BODY, sign_url=other))
    assert (status, answer) == (401, {"reason": "bad_signature"})

    status, answer = asyncio.run(_send("POST", server + path, BODY, key_id="node-z#9"))
    assert (status, answer) == (401, {"reason": "unknown_key"})


# --- helpers for signing with the library directly ----------------------------------------


class _LibraryRequest:
    """The bare request shape the library signs: method, url, mutable headers."""

    def __init__(self, method: str, url: str, headers: dict[str, str]) -> None:
        self.method = method
        self.url = url
        self.headers = dict(headers)
