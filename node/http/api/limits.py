"""A limit on the size of every request body, before a handler reads it.

Without it a JSON body of any size would be read into memory and parsed before its fields'
limits are checked. A body declared larger than the limit (Content-Length) is refused with 413
before a byte of it is read; a body sent without a length (chunked) is cut off with 413 as soon
as it passes the limit. The member API's bodies are small (a proposal's text is at most 20,000
characters); the federation inbox (2 MiB) and the web forms (64 KiB) check their own limits too.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from starlette.types import Message, Receive, Scope, Send

from federation.wire import MAX_PUSH_BYTES
from node.http.api.errors import Problem, problem_response

MAX_API_BODY = 1024 * 1024
LIMITS: tuple[tuple[str, int], ...] = (("/api/", MAX_API_BODY),)
DEFAULT_LIMIT = MAX_PUSH_BYTES  # the largest body any route takes (a push of entries)


def too_large(limit: int) -> Problem:
    return Problem(413, "oversize", f"request body over {limit} bytes")


class BodyLimit:
    """ASGI middleware: request bodies over the limit for their path get 413 (oversize)."""

    def __init__(
        self,
        app: Any,
        limits: Sequence[tuple[str, int]] = LIMITS,
        default: int = DEFAULT_LIMIT,
    ) -> None:
        self.app = app
        self.limits = tuple(limits)
        self.default = default

    def limit_for(self, path: str) -> int:
        for prefix, limit in self.limits:
            if path.startswith(prefix):
                return limit
        return self.default

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.limit_for(scope.get("path", ""))
        declared = _content_length(scope)
        if declared is not None and declared > limit:
            await problem_response(too_large(limit))(scope, receive, send)
            return
        received = 0
        exceeded = False
        started = False

        async def limited_receive() -> Message:
            # Past the limit the handler hears that the client is gone (whatever reads the
            # body then stops), and what it answers is replaced by the 413 below.
            nonlocal received, exceeded
            if exceeded:
                return {"type": "http.disconnect"}
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    exceeded = True
                    return {"type": "http.disconnect"}
            return message

        async def watched_send(message: Message) -> None:
            nonlocal started
            if exceeded and not started:
                return
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, limited_receive, watched_send)
        except Exception:
            if not exceeded or started:
                raise
        if exceeded and not started:
            await problem_response(too_large(limit))(scope, receive, send)


def _content_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", ()):
        if name == b"content-length":
            text = value.decode("latin-1").strip()
            return int(text) if text.isdigit() else None
    return None
