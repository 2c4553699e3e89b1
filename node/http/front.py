"""What stands in front of the node's app: the client's address and scheme as a trusted
reverse proxy gives them, a request id for every request, and the access log.

`front(app, trusted_proxies)` wraps the whole app (outside Starlette's error handling, so that
a 500 carries its request id too):

- Only when the direct peer is one of `trusted_proxies` (addresses or networks) are its
  `X-Forwarded-For` (the rightmost address that is not a trusted proxy: the client as the
  first trusted proxy saw it) and `X-Forwarded-Proto` believed: uvicorn's
  ProxyHeadersMiddleware does this. Everything that keys on the client's address (the rate
  limits) reads it with `client_address`. Anyone else's headers are ignored: a client cannot
  choose the address it is limited under.
- A peer's IPv4 address as a dual-stack socket reports it, IPv4-mapped (`::ffff:10.0.0.2`), is
  taken in its IPv4 form (`10.0.0.2`) before anything reads it: it then matches a trusted IPv4
  network, and a client is one address whichever socket it came in by. A proxy's hop given
  IPv4-mapped in `X-Forwarded-For` matches a trusted IPv4 network too.
- The request id is the trusted proxy's `X-Request-ID` when it is well formed, else a new
  one; it is on every log line written while the request is served (node/logs.py) and in the
  response's `X-Request-ID`.
- An access line per request (`circle_node.access`): method, the path as it may be logged
  (node/http/log_paths.py: never a secret it carries), status, duration, request id, client.
"""

from __future__ import annotations

import ipaddress
import logging
import re
import time
import uuid
from collections.abc import Sequence
from typing import Any, cast

from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from node.http.log_paths import loggable_path
from node.logs import REQUEST_ID

access = logging.getLogger("circle_node.access")

REQUEST_ID_HEADER = b"x-request-id"
# A proxy's request id is taken as it is when it looks like one (a UUID, hex, base64, the
# ids nginx's $request_id and Caddy's {http.request.uuid} give): nothing that could pass for
# another field of the line or another line.
_WELL_FORMED = re.compile(rb"[A-Za-z0-9][A-Za-z0-9._:+/=-]{0,127}")


def front(app: ASGIApp, trusted_proxies: Sequence[str] = (), *, access_log: bool = True) -> ASGIApp:
    """`app` behind the proxies trusted, with request ids and (unless off) the access log."""
    inner = app
    if trusted_proxies:
        # uvicorn's ASGI types are its own TypedDicts; the app is Starlette's: the same shape.
        trusted = with_ipv4_mapped(trusted_proxies)
        inner = cast(ASGIApp, ProxyHeadersMiddleware(cast(Any, app), trusted))
    return RequestLog(inner, trusted_proxies, access_log=access_log)


def ipv4_form(host: str) -> str:
    """An IPv4-mapped IPv6 address (`::ffff:10.0.0.2`) as the IPv4 address it maps
    (`10.0.0.2`); any other host as it is."""
    if ":" not in host:
        return host  # not IPv6, so not IPv4-mapped: the common case, without parsing it
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return host
    mapped = address.ipv4_mapped if isinstance(address, ipaddress.IPv6Address) else None
    return host if mapped is None else str(mapped)


def with_ipv4_mapped(networks: Sequence[str]) -> list[str]:
    """The networks, each IPv4 one followed by its IPv4-mapped IPv6 form (`10.0.0.0/8`, then
    `::ffff:10.0.0.0/104`): what matches a hop that a dual-stack proxy wrote in that form."""
    both = []
    for each in networks:
        both.append(each)
        network = ipaddress.ip_network(each)
        if isinstance(network, ipaddress.IPv4Network):
            both.append(f"::ffff:{network.network_address}/{96 + network.prefixlen}")
    return both


def ipv4_peer(scope: Scope) -> Scope:
    """The scope with the peer's address in its IPv4 form when a dual-stack socket gave it
    IPv4-mapped (the same scope otherwise)."""
    peer = scope.get("client")
    if peer and ipv4_form(peer[0]) != peer[0]:
        return {**scope, "client": (ipv4_form(peer[0]), peer[1])}
    return scope


def client_address(request: Request) -> str:
    """The client's address, as the front found it (the rate limits' key)."""
    return request.client.host if request.client else "unknown"


class _Trusted:
    def __init__(self, networks: Sequence[str]) -> None:
        self.networks = [ipaddress.ip_network(each) for each in networks]

    def __contains__(self, host: str | None) -> bool:
        try:
            address = ipaddress.ip_address(host or "")
        except ValueError:
            return False
        return any(address in network for network in self.networks)


class RequestLog:
    """The peer's address in its IPv4 form (`ipv4_peer`), the request id (taken from a
    trusted proxy or made), and the access line: one ASGI layer for the three, as the front
    of every request."""

    def __init__(self, app: ASGIApp, trusted_proxies: Sequence[str], *, access_log: bool) -> None:
        self.app = app
        self.trusted = _Trusted(trusted_proxies)
        self.access_log = access_log

    def request_id(self, scope: Scope) -> str:
        peer = scope.get("client")
        if peer and peer[0] in self.trusted:
            for name, value in scope["headers"]:
                if name == REQUEST_ID_HEADER and _WELL_FORMED.fullmatch(value):
                    return value.decode("ascii")
        return uuid.uuid4().hex

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        scope = ipv4_peer(scope)
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = self.request_id(scope)
        token = REQUEST_ID.set(request_id)
        start = time.perf_counter()
        status = 500  # unless a response starts

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = [h for h in message.get("headers", []) if h[0] != REQUEST_ID_HEADER]
                headers.append((REQUEST_ID_HEADER, request_id.encode("ascii")))
                message = {**message, "headers": headers}
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            if self.access_log:
                self._log(scope, status, time.perf_counter() - start)
        # Left set when the app raised: the server logs the error in this request's task,
        # and its line carries the request's id.
        REQUEST_ID.reset(token)

    def _log(self, scope: Scope, status: int, seconds: float) -> None:
        request = Request(scope)
        path = loggable_path(request)
        client = client_address(request)  # as the proxy headers left it
        access.info(
            "%s %s %d",
            scope["method"],
            path,
            status,
            extra={
                "method": scope["method"],
                "path": path,
                "status": status,
                "duration_ms": round(seconds * 1000, 1),
                "client": client,
            },
        )
