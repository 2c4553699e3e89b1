"""What of a request's path may be written to the log: the secrets some paths carry (a sign-in
link's token, an unsubscribe link's signature, a calendar link's secret) are replaced."""

from __future__ import annotations

import re

from starlette.requests import Request

# The paths whose last segments are secrets, and how many segments after the prefix are.
_SECRET_PATHS = re.compile(r"^(/sign-in/link/|/unsubscribe/[^/]+/|/calendar/)[^/]+")


def loggable_path(request: Request) -> str:
    """The request's path, with any secret it carries replaced by `<secret>`."""
    return _SECRET_PATHS.sub(r"\1<secret>", request.url.path)
