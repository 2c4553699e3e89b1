"""The member API's limit on a request body, and the problem that refuses a body over a limit
(on every route answered with problems). node.http.body_limits holds the table of every
route's limit and applies it."""

from __future__ import annotations

from node.http.api.errors import Problem

MAX_API_BODY = 1024 * 1024


def too_large(limit: int) -> Problem:
    return Problem(413, "oversize", f"request body over {limit} bytes")
