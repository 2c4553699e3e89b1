"""The circle a request is for, and what serving it needs.

One app serves every circle of a process (node/http/server.py): its routes, middleware and
handlers are built once, and each request finds its circle in its ASGI scope, put there by
`InCircle` in front of the app (a host's mount for each circle, node/host/server.py; a single
node's app, for its one circle). So a circle costs what its own state costs, not a copy of
the app's routes and their validators.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from starlette.types import ASGIApp, Receive, Scope, Send

from node.app.node import CircleNode
from node.http.metrics import CircleMetrics
from node.http.ratelimit import Limiter, rate_limiter
from node.http.server_options import ServerOptions
from node.network.deliveries import Deliveries
from node.network.delivery import Federator
from node.network.identity import KeyStore
from node.network.mail_sender import MailSender

# The scope's key for the circle (namespaced: the scope is shared with Starlette and FastAPI).
SCOPE_KEY = "circle_node.circle"


@dataclass(eq=False)
class ServedCircle:
    """One circle as the app serves it: its node, keys, options (its public URL), metrics and
    rate limits, and what its background work adds while it runs (node/http/background.py)."""

    node: CircleNode
    keystore: KeyStore | None
    options: ServerOptions
    metrics: CircleMetrics
    slug: str = ""  # on a host, its place (`/c/<slug>`) and what its logs and metrics name
    # New pushes from nodes not known here, per client address.
    join_limiter: Limiter = field(init=False)
    # Wrong personal tokens on the member API, per client: as many as sign-ins may try (10 at
    # once, then one every 6 seconds).
    token_limiter: Limiter = field(init=False)
    # While the background work runs: the circle's delivery, the process's loop, its mail.
    federator: Federator | None = None
    deliveries: Deliveries | None = None
    mail_sender: MailSender | None = None
    # The pages' own state (sessions, sign-in limits), made by them on first use
    # (node/http/web/visits.py).
    pages: object | None = None
    pages_lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        store = self.node.store
        self.join_limiter = rate_limiter(store, "join", per_minute=6.0, burst=3.0)
        self.token_limiter = rate_limiter(store, "token", per_minute=10.0, burst=10.0)

    @functools.cached_property
    def public_url(self) -> str:
        """The circle's public URL, without a trailing slash (node/http/public_urls.py)."""
        return self.options.public_url.rstrip("/")

    @functools.cached_property
    def public_scheme(self) -> str:
        return urlsplit(self.options.public_url).scheme

    @functools.cached_property
    def authority(self) -> str:
        """The public URL's host and port, as a request's `Host` names it."""
        public = urlsplit(self.options.public_url)
        return authority(public.netloc, public.scheme)

    @functools.cached_property
    def public_path(self) -> str:
        """The public URL's path: "" at the root, `/c/<slug>` on a host."""
        return urlsplit(self.options.public_url).path.rstrip("/")


def authority(netloc: str, scheme: str) -> str:
    """A host[:port] in one form: lowercase, without user information or the scheme's
    default port."""
    host = netloc.strip().lower().rpartition("@")[2]
    default = {"http": ":80", "https": ":443"}.get(scheme, "")
    return host[: -len(default)] if default and host.endswith(default) else host


def served(scope: Mapping[str, Any]) -> ServedCircle:
    """The circle a request is for: of its ASGI scope, or of the request (a mapping over it)."""
    circle = scope.get(SCOPE_KEY)
    if not isinstance(circle, ServedCircle):
        raise LookupError("the request reached the app without its circle (see InCircle)")
    return circle


class InCircle:
    """ASGI: puts `circle` in the scope of every request and lifespan event it passes on to
    `app` (the app that serves every circle)."""

    def __init__(self, app: ASGIApp, circle: ServedCircle) -> None:
        self.app = app
        self.circle = circle

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        scope[SCOPE_KEY] = self.circle
        await self.app(scope, receive, send)
