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


def loggable_path(request: Request) -> str:
    """The request's path, with any secret it carries replaced by `<secret>`."""
    return _SECRET_PATHS.sub(r"\1<secret>", request.url.path)
