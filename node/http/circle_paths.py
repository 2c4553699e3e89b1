"""Where in the site a circle's app is served: at `/`, or under a prefix (`/c/<slug>`, a
circle of a co-op host, mounted with Starlette's `Mount`).

A mount keeps the prefix in the request: the app sees the whole path in `path` and the
prefix in `root_path` (proxies in front keep it too, so no `--root-path` is set). Inside the
app every page, route and redirect is named by its *circle path*, the path below the prefix
(`/proposals/3`, as the routes and the page table name it); what leaves the app for a
browser (a link, a form's action, a redirect's `Location`, a cookie's `Path`) is the circle
path with the prefix before it. At `/` the prefix is empty and both are the same.

Each function takes the request's ASGI scope, or the request itself (a mapping over it).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def prefix(scope: Mapping[str, Any]) -> str:
    """The path the circle is served under, without a trailing slash: `""` at the site's
    root, `/c/kitchen` under a mount."""
    return str(scope.get("root_path", "")).rstrip("/")


def circle_path(scope: Mapping[str, Any]) -> str:
    """The request's path below the circle's prefix (`/c/kitchen/people` -> `/people`; the
    prefix alone -> `/`)."""
    path = str(scope.get("path", ""))
    root = prefix(scope)
    if root and (path == root or path.startswith(root + "/")):
        return path[len(root) :] or "/"
    return path


def site_path(scope: Mapping[str, Any], path: str) -> str:
    """A circle path (`/proposals/3`, starting with `/`) as the browser must ask for it."""
    return prefix(scope) + path
