"""The limit on request bodies: one table of the most bytes each route takes, applied by one
ASGI middleware before any handler reads a byte.

Without it a body of any size would be read into memory and parsed before its fields' limits
are checked. A body declared larger than its route's limit (Content-Length) is refused before a
byte of it is read; a body sent without a length (chunked) is cut off as soon as it passes the
limit. Each surface refuses in its own words: the member and federation APIs with a problem
(413 `oversize`), the pages with a readable page (413, "That form is too large").
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Message, Receive, Scope, Send

from federation.wire import MAX_PUSH_BYTES
from node.http.api.errors import problem_response
from node.http.api.limits import MAX_API_BODY, too_large
from node.http.circle_paths import circle_path
from node.http.web.forms import MAX_FORM_BYTES
from node.http.web.visits import form_too_large


class Refusal(StrEnum):
    """How a body over the limit is answered."""

    PROBLEM = "problem"  # RFC 9457 problem details, reason `oversize`
    PAGE = "page"  # the pages' error page


@dataclass(frozen=True)
class BodyLimit:
    """The most bytes a body may hold on `path` and every path below it (`/api/`: under it)."""

    path: str
    max_bytes: int
    refusal: Refusal

    def covers(self, path: str) -> bool:
        return path == self.path or path.startswith(self.path.rstrip("/") + "/")


BODY_LIMITS: tuple[BodyLimit, ...] = (
    # A push of entries from a peer (MessagePack): the largest body any route takes.
    BodyLimit("/federation/inbox", MAX_PUSH_BYTES, Refusal.PROBLEM),
    # The member API's JSON (its longest text is 20,000 characters).
    BodyLimit("/api/", MAX_API_BODY, Refusal.PROBLEM),
    # The forms the pages post.
    BodyLimit("/sign-in", MAX_FORM_BYTES, Refusal.PAGE),
    BodyLimit("/sign-out", MAX_FORM_BYTES, Refusal.PAGE),
    *(
        BodyLimit(pages, MAX_FORM_BYTES, Refusal.PAGE)
        for pages in (
            "/account",
            "/appeals",
            "/circle",
            "/circles",
            "/decisions",
            "/hats",
            "/meetings",
            "/network",
            "/people",
            "/plans",
            "/proposals",
            "/selections",
            "/support",
        )
    ),
    # A mail client's one-click unsubscribe (`List-Unsubscribe=One-Click`).
    BodyLimit("/unsubscribe", MAX_FORM_BYTES, Refusal.PAGE),
)
# Any other path (no route there takes a body): no more than the largest any route takes.
OTHERWISE = BodyLimit("/", MAX_PUSH_BYTES, Refusal.PROBLEM)


def limit_for(path: str, limits: Sequence[BodyLimit] = BODY_LIMITS) -> BodyLimit:
    """The first row of the table that covers the path, else OTHERWISE."""
    return next((limit for limit in limits if limit.covers(path)), OTHERWISE)


async def _refuse(limit: BodyLimit, scope: Scope, receive: Receive, send: Send) -> None:
    response: Response
    if limit.refusal == Refusal.PAGE:
        response = await form_too_large(Request(scope, receive))
    else:
        response = problem_response(too_large(limit.max_bytes))
    await response(scope, receive, send)


class LimitBodies:
    """ASGI middleware: a request body over its route's limit (BODY_LIMITS) gets 413."""

    def __init__(self, app: Any, limits: Sequence[BodyLimit] = BODY_LIMITS) -> None:
        self.app = app
        self.limits = tuple(limits)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = limit_for(circle_path(scope), self.limits)
        declared = _content_length(scope)
        if declared is not None and declared > limit.max_bytes:
            await _refuse(limit, scope, receive, send)
            return
        received = 0
        exceeded = False
        started = False

        async def limited_receive() -> Message:
            # Past the limit the handler hears that the client is gone (whatever reads the
            # body then stops), and what it answers is replaced by the refusal below.
            nonlocal received, exceeded
            if exceeded:
                return {"type": "http.disconnect"}
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit.max_bytes:
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
            await _refuse(limit, scope, receive, send)


def _content_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", ()):
        if name == b"content-length":
            text = value.decode("latin-1").strip()
            return int(text) if text.isdigit() else None
    return None
