"""What of a request's path may be written to the log: the secrets some paths carry (a sign-in
link's token, an unsubscribe link's signature, a calendar link's secret) are replaced, at the
site's root and below a co-op host's circle prefix (`/c/<slug>`, node/http/circle_paths.py)
alike; the prefix stays visible."""

from __future__ import annotations

import re

from starlette.requests import Request

# The circle paths whose last segment is a secret, after the circle's prefix if any (the
# access log sees the whole path, before any mount has set the prefix apart).
_SECRET_PATHS = re.compile(
    r"^((?:/c/[^/]+)?(?:/sign-in/link/|/unsubscribe/[^/]+/|/calendar/))[^/]+"
)


# What Starlette's `request.url` changes of a path as it builds the URL: a path without any of
# these, starting with one "/", is its URL's path as it is.
_CHANGED_IN_A_URL = re.compile(r"[?#\\\t\r\n]|^//|^[^/]|^$")


def loggable_path(request: Request) -> str:
    """The request's path, with any secret it carries replaced by `<secret>`."""
    return _SECRET_PATHS.sub(r"\1<secret>", url_path(request))


def url_path(request: Request) -> str:
    """`request.url.path`, without building the URL where the path is the same as the
    scope's (the access log takes it for every request)."""
    path: str = request.scope["path"]
    if _CHANGED_IN_A_URL.search(path):
        return request.url.path
    return path
