"""Errors a browser reads as a page: what the app's handlers answer to a browser, outside the
API.

The member API, the federation API and the operations' paths answer problem details (JSON, or
MessagePack for federation) to everyone. Any other request whose `Accept` prefers HTML to
JSON (a browser following a link or an old bookmark, or sending a form to the wrong address)
gets the pages' error page instead: the same status and headers, the domain's sentence where
there is one, a link home, and never a traceback.
"""

from __future__ import annotations

import contextlib
from http import HTTPStatus

import anyio
from fastapi import Request
from fastapi.responses import Response

from node.http.api.errors import Problem
from node.http.circle_paths import circle_path
from node.http.web.visits import REFUSAL_TITLES, error_page, visit

# Paths for programs, whatever they accept: their answers are documented as problem details.
MACHINE_PREFIXES = ("/api/", "/federation/", "/docs/")
MACHINE_PATHS = frozenset({"/api", "/federation", "/healthz", "/metrics", "/docs", "/openapi.json"})

HTML = "text/html"
# What a program asking for problem details would list in `Accept`.
JSON_TYPES = ("application/json", "application/problem+json")

# A page's heading, by status, when the refusal's reason has none of its own.
TITLES = {
    400: "This request cannot be read",
    403: "Not permitted",
    404: "Not found",
    405: "Not this way",
    409: "Not at this stage",
    413: "This form cannot be read",
    422: "Refused",
    429: "Too many requests",
    503: "Not available just now",
}

# Sentences for the errors that come with nothing but their status's name.
SENTENCES = {
    404: "There is no page at this address: it may be mistyped, or the link is out of date.",
    405: (
        "This address cannot be used that way: a form is sent from its own page, and a page "
        "is opened by its link."
    ),
    500: "The node could not do that.",
}


def wants_page(request: Request) -> bool:
    """Whether the request is a browser's, for a page: not to a path for programs, and its
    `Accept` prefers HTML to JSON (`*/*` alone does not: programs send that)."""
    path = circle_path(request)
    if path in MACHINE_PATHS or path.startswith(MACHINE_PREFIXES):
        return False
    ranges = _media_ranges(request.headers.get("accept", ""))
    html = _quality(ranges, HTML)
    return html > 0 and html > max(_quality(ranges, kind) for kind in JSON_TYPES)


async def problem_page(request: Request, problem: Problem) -> Response:
    """The error page for a problem the app's handlers would answer, with its status and its
    headers (Allow on a 405, Retry-After on a 503)."""
    if getattr(request.state, "visit", None) is None:
        # Who is visiting, for the page's nav; a store that cannot be read leaves them unknown.
        with contextlib.suppress(Exception):
            await anyio.to_thread.run_sync(visit, request)
    status = problem.status
    title = REFUSAL_TITLES.get(problem.reason) or TITLES.get(status, "Something went wrong")
    message = problem.detail
    if status in SENTENCES and (status >= 500 or _is_bare(status, message)):
        message = SENTENCES[status]
    return await error_page(request, status, title, message, problem.headers)


def _is_bare(status: int, detail: str) -> bool:
    """The detail is only the status's name (Starlette's default), not a sentence."""
    with contextlib.suppress(ValueError):
        return detail == HTTPStatus(status).phrase
    return False


def _media_ranges(accept: str) -> list[tuple[str, float]]:
    ranges = []
    for part in accept.split(","):
        media, *params = (piece.strip() for piece in part.split(";"))
        if not media:
            continue
        quality = 1.0
        for param in params:
            name, _, value = param.partition("=")
            if name.strip().lower() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        ranges.append((media.lower(), quality))
    return ranges


def _quality(ranges: list[tuple[str, float]], media: str) -> float:
    """The quality `Accept` gives a media type: that of its most specific matching range."""
    kind = media.split("/")[0]
    best, specificity = 0.0, -1
    for candidate, quality in ranges:
        if candidate == media:
            rank = 2
        elif candidate == f"{kind}/*":
            rank = 1
        elif candidate == "*/*":
            rank = 0
        else:
            continue
        if rank > specificity:
            best, specificity = quality, rank
    return best
