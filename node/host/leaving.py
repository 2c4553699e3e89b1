"""A circle leaving its host: the marker that says it moved away, and what the host answers
for it from then on.

`circle-node host release` writes the marker, `moved-away` in the circle's folder (its new
URL, one line), before it signs the circle's `node.moved` entry and writes its backup
(node/cli/leaving.py). From the moment the marker is there, the host:

- signs nothing for the circle: the circle's own feed writer asks `moved_to` after it has
  loaded the feed and before it signs (node/host/circles.py sets its gate), so a signing that
  raced the release either conflicts with the `node.moved` entry (and, retried, is refused) or
  is refused outright;
- serves nothing of it but the reads of its feed (its descriptor, its feed's pages and its
  bodies, up to and including the `node.moved` entry; as ever, to a signed peer also the
  bodies addressed to it), so that a peer pulling from the old URL still learns the move
  (PROTOCOL.md 10.7); every other request gets 410 Gone with the new URL (`gone`);
- runs no background work for it (the host's server stops it: node/host/server.py).

The marker itself (writing and reading it) is node/host/moved_marker.py.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import quote

from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from node.host.moved_marker import moved_to
from node.http.api.errors import PROBLEM, Problem, problem_response
from node.http.circle_paths import circle_path, prefix

# What the old host still serves of a circle that left: the reads of its own feed (signed or
# not).
FEED_READS = ("/federation/node", "/federation/feed")
BODIES = "/federation/bodies/"

log = logging.getLogger("circle_node.host")


# What of a path and query stays as sent in `Location`; any other byte is percent-encoded.
_PATH_KEPT = "/%:@!$&'()*+,;=-._~"
_QUERY_KEPT = _PATH_KEPT + "?"


def _raw_circle_path(scope: Scope) -> str:
    """The request's path below its circle's prefix as the client sent it, percent-encoding
    kept (`%2F` stays `%2F`, not a `/`)."""
    raw: bytes | None = scope.get("raw_path")
    root = prefix(scope).encode("ascii")  # a slug is ASCII
    if raw is not None and (raw == root or raw.startswith(root + b"/")):
        return quote(raw[len(root) :], safe=_PATH_KEPT) or "/"
    return quote(circle_path(scope), safe="/")  # no raw path, or the prefix sent encoded


def gone(url: str, scope: Scope) -> JSONResponse:
    """410 Gone for a request to a circle that moved to `url`: a problem body (`reason`
    `moved`, `moved_to`) and `Location`, the same circle path and query at the new URL, as
    the client wrote them."""
    path = _raw_circle_path(scope)
    query = quote(scope.get("query_string", b""), safe=_QUERY_KEPT)
    location = url.rstrip("/") + path + (f"?{query}" if query else "")
    detail = f"this circle has left this host: it is served at {url} now"
    body: dict[str, Any] = {
        "type": "about:blank",
        "title": "moved",
        "status": 410,
        "detail": detail,
        "reason": "moved",
        "moved_to": url,
    }
    return JSONResponse(body, 410, media_type=PROBLEM, headers={"Location": location})


def is_feed_read(scope: Scope) -> bool:
    """A read of the feed (public, or signed by a peer), which the old host still serves for a
    circle that left."""
    if scope.get("method") not in ("GET", "HEAD"):
        return False
    path = circle_path(scope)
    return path in FEED_READS or path.startswith(BODIES)


class LeavingGate:
    """In front of one circle's app on a host: while the circle is here, the app; once it has
    left (its marker, looked at on each request), `gone` for all but the feed's reads,
    and `on_moved` is called (the host stops the circle's work)."""

    def __init__(self, app: ASGIApp, folder: Path, on_moved: Callable[[], None]) -> None:
        self.app = app
        self.folder = folder
        self.on_moved = on_moved

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            try:
                url = moved_to(self.folder)
            except OSError as error:  # the marker is there but cannot be read: whether the
                # circle left is not known, so nothing is served for it (it might sign)
                log.error("cannot read the moved-away marker in %s: %s", self.folder, error)
                await unknown_whereabouts(scope, receive, send)
                return
            if url is not None:
                self.on_moved()
                if not is_feed_read(scope):
                    await gone(url, scope)(scope, receive, send)
                    return
        await self.app(scope, receive, send)


async def unknown_whereabouts(scope: Scope, receive: Receive, send: Send) -> None:
    """503 for a circle whose marker cannot be read (its folder's permissions, a disk error)."""
    problem = Problem(
        503,
        "store_unavailable",
        "This host cannot tell whether this circle is still served here (its folder cannot be "
        "read); nothing was changed. The host's operator must check the circle's folder.",
        {"Retry-After": "30"},
    )
    await problem_response(problem)(scope, receive, send)
