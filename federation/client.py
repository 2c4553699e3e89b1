"""The aiohttp client of the federation API: descriptor, pull, push, bodies, and a node's own
feed as a peer holds it (taking it back after a restore).

Requests are signed with the node's key (HTTP Message Signatures) so that a peer can give it
the bodies addressed to it. Every failure is a `TransportError` with a short reason.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import aiohttp
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from yarl import URL

from federation.httpsig import sign_request
from federation.verify import Rejected, decode_descriptor, decode_page, decode_push_reply
from federation.wire import MAX_BODY_BYTES, MAX_PAGE_BYTES, FeedPage, NodeDescriptor, Push, encode

MSGPACK = "application/msgpack"
# Who signs our requests: (key id, private key), asked afresh each time (keys rotate).
Signer = Callable[[], tuple[str, Ed25519PrivateKey]]


class TransportError(Exception):
    """A request to a peer failed: network, HTTP status, or a reply that did not decode."""

    def __init__(self, reason: str, status: int | None = None) -> None:
        super().__init__(reason if status is None else f"HTTP {status}: {reason}")
        self.reason = reason
        self.status = status


class FederationClient:
    def __init__(self, session: aiohttp.ClientSession, signer: Signer | None = None) -> None:
        self.session = session
        self.signer = signer

    def _headers(self, method: str, url: str, body: bytes) -> dict[str, str]:
        headers = {"Accept": MSGPACK}
        if body:
            headers["Content-Type"] = MSGPACK
        if self.signer is not None:
            key_id, key = self.signer()
            headers.update(
                sign_request(method, str(URL(url)), headers, body, key_id=key_id, private_key=key)
            )
        return headers

    async def _request(
        self, method: str, url: str, body: bytes = b"", limit: int = MAX_PAGE_BYTES
    ) -> bytes:
        headers = self._headers(method, url, body)
        try:
            async with self.session.request(
                method, URL(url), data=body or None, headers=headers
            ) as response:
                content = await _read_bounded(response, limit)
                if response.status >= 400:
                    raise TransportError(_problem_reason(content), response.status)
                return content
        except aiohttp.ClientError as error:
            raise TransportError(f"{type(error).__name__}: {error}") from None
        except TimeoutError:
            raise TransportError("timed out") from None

    async def descriptor(self, base_url: str) -> NodeDescriptor:
        return _decoded(
            decode_descriptor, await self._request("GET", f"{base_url}/federation/node")
        )

    async def pull(self, base_url: str, after: int, limit: int) -> FeedPage:
        url = f"{base_url}/federation/feed?after={after}&limit={limit}"
        return _decoded(decode_page, await self._request("GET", url))

    async def push(self, base_url: str, push: Push) -> Any:
        raw = await self._request("POST", f"{base_url}/federation/inbox", encode(push), 4096)
        return _decoded(decode_push_reply, raw)

    async def held_copy(self, base_url: str, after: int, limit: int) -> FeedPage:
        """The peer's held copy of this node's own feed: entries after `after`, with every
        body of them the peer holds (a signed read: the signer must be the feed's node)."""
        if self.signer is None:
            raise TransportError("only a node with keys can take back its own feed")
        url = f"{base_url}/federation/held?after={after}&limit={limit}"
        return _decoded(decode_page, await self._request("GET", url))

    async def body(self, base_url: str, digest: bytes) -> bytes:
        return await self._request(
            "GET", f"{base_url}/federation/bodies/{digest.hex()}", limit=MAX_BODY_BYTES
        )


async def _read_bounded(response: aiohttp.ClientResponse, limit: int) -> bytes:
    """The whole reply body, refusing one larger than `limit` before reading it all."""
    declared = response.content_length
    if declared is not None and declared > limit:
        raise TransportError("reply too large")
    chunks: list[bytes] = []
    size = 0
    async for chunk in response.content.iter_chunked(64 * 1024):
        size += len(chunk)
        if size > limit:
            raise TransportError("reply too large")
        chunks.append(chunk)
    return b"".join(chunks)


def _decoded(decoder: Callable[[bytes], Any], raw: bytes) -> Any:
    try:
        return decoder(raw)
    except Rejected as rejected:
        raise TransportError(f"reply did not decode: {rejected.reason}") from None


def _problem_reason(content: bytes) -> str:
    import json

    try:
        problem = json.loads(content)
        return str(problem.get("reason") or problem.get("detail") or "error")
    except (ValueError, AttributeError):
        return content[:200].decode("utf-8", "replace") or "error"
