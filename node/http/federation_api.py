"""The federation API (`/federation/...`): MessagePack between nodes.

- `GET  /federation/node`: the node's descriptor (its inception entry proves its id).
- `GET  /federation/feed?after=N&limit=M`: a page of the node's own feed. A request signed by a
  peer (HTTP Message Signatures) also gets the non-public bodies addressed to that peer.
- `GET  /federation/bodies/{hash}`: one body; non-public ones only to a signed reader in their
  audience.
- `GET  /federation/held?after=N&limit=M`: the requester's own feed as this node holds it, with
  every body of it held here: a signed read, for a node taking its feed back after a restore.
- `POST /federation/inbox`: a `Push` of entries from a peer; an unknown node may only send its
  inception and a join request, and is rate limited. A node taking its own feed back answers
  503 until it has.

Errors are `application/problem+json` with a machine-readable `reason`.
"""

from __future__ import annotations

from typing import Any

import anyio
from eventsourcing.application import AggregateNotFoundError
from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from starlette.requests import ClientDisconnect

from federation.feed import feed_id_from_node_id
from federation.httpsig import SignatureError, verify_request
from federation.keys import load_public_key
from federation.verify import Rejected, decode_push
from federation.wire import HASH_SIZE, MAX_PAGE_ENTRIES, encode
from node.app.node import CircleNode
from node.http.api.errors import STORE_UNAVAILABLE, Problem, problem_documented
from node.http.front import client_address
from node.http.ratelimit import Limiter
from node.http.served_circle import ServedCircle, authority, served
from node.network.peers import APPLICANT, JOINING, PEER, REMOVED

MSGPACK = "application/msgpack"
TAKING_BACK_RETRY_AFTER = 30  # seconds
BINARY = {"schema": {"type": "string", "format": "binary"}}


def _documented(ok: str, *errors: tuple[int, str]) -> dict[int | str, dict[str, Any]]:
    """The responses of a federation route: MessagePack (or bytes) when it works, a problem
    (RFC 9457) otherwise. Invalid parameters are answered 400 (node/http/server.py), never with
    FastAPI's 422; the spec is cleared of that one there."""
    media = "application/octet-stream" if ok == "body" else MSGPACK
    responses: dict[int | str, dict[str, Any]] = {
        200: {
            "description": "The answer, in MessagePack" if ok != "body" else "The body",
            "content": {media: BINARY},
        },
    }
    for status, description in errors:
        responses[status] = problem_documented(description)
    responses[503] = STORE_UNAVAILABLE  # every route reads the store
    return responses


MALFORMED = (400, "Malformed request (the reason says what)")
BAD_SIGNATURE = (401, "A signature that does not verify, or was made for another node")


def msgpack_response(value: Any) -> Response:
    return Response(encode(value), media_type=MSGPACK)


async def read_body(request: Request) -> bytes:
    """The request body (its size is limited before it is read: node.http.body_limits)."""
    try:
        return await request.body()
    except ClientDisconnect:  # the client went away (or was cut off for stalling): no answer
        raise Problem(400, "incomplete", "the request body did not arrive whole") from None


def request_url(request: Request, scheme: str) -> str:
    """The URL as the client signed it: raw path and query, with the Host it sent, under the
    scheme of the node's public URL (behind a TLS-terminating proxy the server sees http)."""
    host = request.headers.get("host", "")
    query = request.scope.get("query_string", b"")
    url = f"{scheme}://{host}{raw_path(request)}"
    return f"{url}?{query.decode('latin-1')}" if query else url


def _join_refusal(limiter: Limiter, client: str) -> int | None:
    """None if a push from `client` (a node not known here) may go on, else the seconds to
    wait."""
    return None if limiter.allow(client) else limiter.retry_after(client)


def _node(request: Request) -> CircleNode:
    return served(request).node


def _check_base_url(request: Request) -> None:
    """A signature covers the authority and the path the client addressed: they must be this
    node's own base URL's, or a request signed for another node (on another host, or under
    another path of the same host) could be replayed here to read what was meant for it."""
    circle = served(request)
    if authority(request.headers.get("host", ""), circle.public_scheme) != circle.authority:
        raise Problem(
            401,
            "signature_wrong_authority",
            "this request was signed for another node",
            {"WWW-Authenticate": "Signature"},
        )
    if not under_path(raw_path(request), circle.public_path):
        raise Problem(
            401,
            "signature_wrong_path",
            "this request was signed for another node (its path is not under this node's "
            "base URL: a proxy in front of this node must keep the path's prefix)",
            {"WWW-Authenticate": "Signature"},
        )


def raw_path(request: Request) -> str:
    """The path as the client sent it, percent-encoded, before any routing."""
    scope = request.scope
    raw: bytes = scope.get("raw_path") or scope["path"].encode()
    return raw.decode("latin-1")


def under_path(path: str, base: str) -> bool:
    """Whether `path` lies under the base URL's path `base` ("" for a node at the root),
    segment by segment: `/c/a/federation/feed` is under `/c/a`, `/c/ab/...` is not."""
    return not base or path == base or path.startswith(base + "/")


# The nodes whose signed reads read as their own: those this node exchanges feeds with, or will
# (it asked them to join, or they asked it). A removed node, or one stopped for equivocating,
# reads what anyone may read.
READERS = frozenset({PEER, JOINING, APPLICANT})


async def _signer(request: Request, body: bytes = b"") -> bytes:
    """The feed id of the node whose key, as held here for its feed, verifies this request's
    signature (addressed to this node's own base URL); SignatureError if none does."""
    node = _node(request)
    _check_base_url(request)

    def resolve(key_id: str) -> Any:
        try:
            feed_id = feed_id_from_node_id(key_id)
        except ValueError:
            return None
        try:
            return load_public_key(node.peering.held_feed(feed_id).key)
        except AggregateNotFoundError:
            return None

    def verify() -> str:
        url = request_url(request, served(request).public_scheme)
        return verify_request(request.method, url, request.headers, body, resolve_key=resolve)

    return feed_id_from_node_id(await anyio.to_thread.run_sync(verify))


def _refused(error: SignatureError, detail: str = "") -> Problem:
    return Problem(
        401, f"signature_{error.reason}", detail or str(error), {"WWW-Authenticate": "Signature"}
    )


async def signed_reader(request: Request, body: bytes = b"") -> bytes | None:
    """The feed id of the node that signed this request, if it reads as itself (`READERS`,
    not stopped); None if unsigned, signed by a node this one does not know, or by one that
    reads as anyone; 401 if the signature fails, whoever it claims to be (every node whose
    feed is held here is checked against the key held for it, whatever its status)."""
    headers = request.headers
    if "signature" not in headers and "signature-input" not in headers:
        return None
    try:
        feed_id = await _signer(request, body)
    except SignatureError as error:
        if error.reason == "unknown_key":
            return None  # a node we do not know reads what anyone may read
        raise _refused(error) from None
    peer = await anyio.to_thread.run_sync(_node(request).peering.peer, feed_id)
    if peer is None or peer.stopped or peer.status not in READERS:
        return None
    return feed_id


async def feed_owner(request: Request) -> bytes:
    """The feed id of the node that signed this request, verified against the key this node
    holds for that node's feed (whatever the peer's status): 401 for any request that is not
    signed so, a node whose feed is not held here included."""
    try:
        return await _signer(request)
    except SignatureError as error:
        if error.reason == "unknown_key":
            raise _refused(
                error, "only a node whose feed is held here can read it back, signing as itself"
            ) from None
        raise _refused(error) from None


def _describe(circle: ServedCircle) -> tuple[str, str]:
    """The (name, public URL) the circle's descriptor announces."""
    records = circle.node.records
    name = records.get_circle().name if records.is_founded else "circle-node"
    return name, circle.options.public_url


def federation_router() -> APIRouter:
    """The routes (of whichever circle a request is for: node/http/served_circle.py)."""
    router = APIRouter(prefix="/federation", tags=["federation"])

    @router.get(
        "/node",
        response_class=Response,
        summary="The node's descriptor (MessagePack)",
        responses=_documented("descriptor"),
    )
    async def descriptor(request: Request) -> Response:
        node = _node(request)
        name, url = _describe(served(request))
        return msgpack_response(await anyio.to_thread.run_sync(node.feed.descriptor, name, url))

    @router.get(
        "/feed",
        response_class=Response,
        summary="A page of the node's own feed",
        responses=_documented("page", MALFORMED, BAD_SIGNATURE),
    )
    async def feed(
        request: Request,
        after: int = Query(0, ge=0, le=2**53, description="entries with seq greater than this"),
        limit: int = Query(500, ge=1, le=MAX_PAGE_ENTRIES),
    ) -> Response:
        reader = await signed_reader(request)
        node = _node(request)
        page = await anyio.to_thread.run_sync(node.feed.page, after, limit, reader)
        return msgpack_response(page)

    @router.get(
        "/held",
        response_class=Response,
        summary="The requester's own feed as this node holds it (taking it back)",
        responses=_documented(
            "page", MALFORMED, (401, "Not signed by a node whose feed is held here")
        ),
    )
    async def held(
        request: Request,
        after: int = Query(0, ge=0, le=2**53, description="entries with seq greater than this"),
        limit: int = Query(500, ge=1, le=MAX_PAGE_ENTRIES),
    ) -> Response:
        owner = await feed_owner(request)
        node = _node(request)
        page = await anyio.to_thread.run_sync(node.peering.held_copy, owner, after, limit)
        if page is None:  # its record went between the signature check and now
            raise Problem(401, "signature_unknown_key", "this node holds no such feed")
        return msgpack_response(page)

    @router.get(
        "/bodies/{digest}",
        response_class=Response,
        summary="One body, by its hash",
        responses=_documented(
            "body",
            MALFORMED,
            BAD_SIGNATURE,
            (403, "The body is for its audience only"),
            (404, "No body with that hash here"),
        ),
    )
    async def body(request: Request, digest: str) -> Response:
        try:
            raw = bytes.fromhex(digest)
        except ValueError:
            raw = b""
        if len(raw) != HASH_SIZE:
            raise Problem(400, "malformed", "a body is named by its 32-byte hash, in hex")
        reader = await signed_reader(request)
        node = _node(request)
        try:
            data = await anyio.to_thread.run_sync(node.feed.body_for, raw, reader)
        except PermissionError:
            raise Problem(403, "not_in_audience", "this body is for its audience only") from None
        if data is None:
            raise Problem(404, "unknown_body", "no body with that hash here")
        return Response(data, media_type="application/octet-stream")

    @router.post(
        "/inbox",
        response_class=Response,
        summary="Push entries to this node",
        responses=_documented(
            "reply",
            (400, "Not a push: malformed or oversize MessagePack (the reason says which)"),
            (403, "An unknown node that does not ask to join, or a removed one"),
            (409, "The feed equivocated: nothing more is taken from it"),
            (413, "Larger than a push may be"),
            (422, "The push was refused (the reason says why); nothing of it was stored"),
            (429, "Too many pushes from unknown, applying or removed nodes (see Retry-After)"),
        ),
        openapi_extra={
            "requestBody": {"required": True, "content": {MSGPACK: BINARY}},
        },
    )
    async def inbox(request: Request) -> Response:
        raw = await read_body(request)
        node = _node(request)
        if node.take_back.pending:
            # What a peer's entries cause may need new entries of this node's own feed.
            raise Problem(
                503,
                "taking_back",
                "this node is taking its own feed back after a restore; push again later",
                {"Retry-After": str(TAKING_BACK_RETRY_AFTER)},
            )
        try:
            push = decode_push(raw)
        except Rejected as rejected:
            raise Problem(400, rejected.reason, rejected.detail) from None
        known = await anyio.to_thread.run_sync(node.peering.peer, push.feed)
        if known is None or known.status in (APPLICANT, REMOVED):
            client = client_address(request)
            # The limits are kept in the store: counted off the event loop.
            limiter = served(request).join_limiter
            wait = await anyio.to_thread.run_sync(_join_refusal, limiter, client)
            if wait is not None:
                raise Problem(
                    429,
                    "rate_limited",
                    "too many requests from unknown nodes",
                    {"Retry-After": str(wait)},
                )
        try:
            reply = await anyio.to_thread.run_sync(node.intake.receive_push, push)
        except Rejected as rejected:
            # The whole push was refused, nothing of it stored.
            status = {"feed_stopped": 409, "unknown_node": 403, "wrong_feed": 403}.get(
                rejected.reason, 422
            )
            raise Problem(status, rejected.reason, rejected.detail) from None
        if reply.reason == "gap":
            # Entries before these are missing here: pull them now rather than at the next round.
            federator = served(request).federator
            if federator is not None:
                federator.pull_soon(push.feed)
        return msgpack_response(reply)

    return router
