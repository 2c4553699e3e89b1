"""The host's server: the app that serves circles (node/http/server.py), one for all of them,
mounted at each circle's `/c/<slug>`, and the host's own routes: `/` (the circles, linked),
`/healthz` and `/metrics` (of every circle).

Each circle keeps, under its path, everything a single node serves at its root: its federation
API, member API, `/docs`, pages, and its own `/healthz` and `/metrics`. The app's routes are
built once, not once per circle (each circle's copy cost megabytes and a third of a second on
its first request): each mount puts its circle in the request (`InCircle`,
node/http/served_circle.py). Starlette runs no lifespan of a mounted app: the host's lifespan
starts the background work of all its circles, one delivery loop and one calendar for all of
them (`run_background`, node/http/background.py).

A circle that left the host (node/host/leaving.py) gets no background work, and one that leaves
while the host serves has its work removed (`_watch_leaving`); in front of it, the gate answers
410 Gone for all but its feed's reads (public or signed).
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
from collections.abc import AsyncIterator, Sequence
from pathlib import Path

from jinja2 import Environment
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import BaseRoute, Mount, Route

from node.host.circles import HostedCircle
from node.host.health import HostHealth
from node.host.layout import circle_path, circle_url
from node.host.leaving import LeavingGate
from node.host.moved_marker import moved_to
from node.http.api.errors import Problem, problem_response
from node.http.background import Background, run_background
from node.http.metrics import process_metrics
from node.http.served_circle import InCircle, ServedCircle
from node.http.server import ServerOptions, circles_app, serve_circle
from node.http.web.rendering import SECURITY_HEADERS
from node.network.identity import KeyStore
from node.network.waiting import woken_within

# Seconds between the host's looks for circles that left it while served (node/host/leaving.py).
LEAVING_INTERVAL = 2.0

log = logging.getLogger("circle_node.host")

_PAGE = Environment(autoescape=True).from_string(
    """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Circles on this host</title>
<style>
body { font: 16px/1.5 system-ui, sans-serif; color: #222;
       max-width: 62rem; margin: 0 auto; padding: 1rem; }
h1 { color: #2f5d50; } a { color: #2f5d50; } .muted { color: #666; }
</style>
</head>
<body>
<main>
<h1>Circles on this host</h1>
{% if circles %}
<ul>
{% for circle in circles %}
{% if circle.moved_to %}
<li><a href="{{ circle.moved_to }}/">{{ circle.name }}</a>
  <span class="muted">moved to {{ circle.moved_to }}/</span></li>
{% else %}
<li><a href="{{ circle.path }}/">{{ circle.name }}</a>
  <span class="muted">{{ circle.path }}/</span></li>
{% endif %}
{% endfor %}
</ul>
{% else %}
<p>No circles are served here yet.</p>
{% endif %}
</main>
</body>
</html>
"""
)


def served_circle(circle: HostedCircle, options: ServerOptions) -> ServedCircle:
    """One circle, as the host's app serves it: at its URL below the host's."""
    keys = circle.node.feed.keys
    keystore = KeyStore(circle.settings.data_dir, keys) if keys is not None else None
    circle_options = dataclasses.replace(
        options, public_url=circle_url(options.public_url, circle.slug)
    )
    return serve_circle(circle.node, keystore, circle_options, slug=circle.slug)


def create_host_app(circles: Sequence[HostedCircle], options: ServerOptions) -> Starlette:
    """The host's app: `options` are the host's (its public URL, threads, intervals), from
    which each circle's are made. One app serves every circle (node/http/server.py,
    `circles_app`), mounted at each circle's path behind what puts the circle in the request
    (`InCircle`) and, in front of all, the gate that answers for a circle that left."""
    shared = circles_app()
    served = {circle.slug: served_circle(circle, options) for circle in circles}
    folders = {circle.slug: circle.settings.data_dir for circle in circles}
    wake = asyncio.Event()  # a request met a circle that left: stop its work now
    fronts = {
        slug: LeavingGate(InCircle(shared, each), folder=folders[slug], on_moved=wake.set)
        for slug, each in served.items()
    }
    health = HostHealth(circles)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        # One lease for the host's workers (who pulls and keeps the calendar), named after it.
        first = next(iter(circles), None)
        lease = first.node.store.leader_lease(f"host {options.public_url}") if first else None
        # A circle that left this host has no work here.
        here = {slug: each for slug, each in served.items() if moved_to(folders[slug]) is None}
        try:
            async with run_background(list(here.values()), options, lease) as background:
                watcher = asyncio.create_task(_watch_leaving(background, here, folders, wake))
                try:
                    yield
                finally:
                    watcher.cancel()
                    with contextlib.suppress(asyncio.CancelledError):
                        await watcher
        finally:
            health.close()

    def home(request: Request) -> Response:
        listed = [
            {
                "name": _name(circle),
                "path": circle_path(circle.slug),
                "moved_to": moved_to(circle.settings.data_dir),
            }
            for circle in circles
        ]
        return HTMLResponse(_PAGE.render(circles=listed), headers=SECURITY_HEADERS)

    async def healthz(request: Request) -> Response:
        """The host answers; each circle's status (`ok`, `taking_back`, `store_unavailable`,
        `moved` with the URL it moved to, or `unknown` when another's store could not be read
        first), node id and head. 503 when a circle's store cannot be read
        (node/host/health.py)."""
        available, circles_health = await health.answer()
        status = "ok" if available else "store_unavailable"
        body = {"status": status, "circles": circles_health}
        return JSONResponse(body, 200 if available else 503)

    def prometheus(request: Request) -> Response:
        """Every circle's metrics, labelled by its slug (the process's: node/http/metrics.py)."""
        return process_metrics().exposition()

    routes: list[BaseRoute] = [
        Route("/", home, methods=["GET"]),
        Route("/healthz", healthz, methods=["GET"]),
        Route("/metrics", prometheus, methods=["GET"]),
        *(Mount(circle_path(slug), app=front) for slug, front in fronts.items()),
    ]
    app = Starlette(routes=routes, lifespan=lifespan, exception_handlers={HTTPException: _problem})
    app.state.circles = served  # each circle as served, by its slug
    return app


async def _watch_leaving(
    background: Background,
    circles: dict[str, ServedCircle],
    folders: dict[str, Path],
    wake: asyncio.Event,
) -> None:
    """Remove the background work of each circle that leaves the host while it is served (its
    marker, node/host/leaving.py): looked for when a request meets one, and every
    `LEAVING_INTERVAL` seconds (the release may come while no request does)."""
    circles = dict(circles)
    while circles:
        await woken_within(wake, LEAVING_INTERVAL)
        wake.clear()
        for slug in [each for each in circles if moved_to(folders[each]) is not None]:
            log.info("circle %r left this host: its delivery, mail and calendar stop", slug)
            await background.remove(circles.pop(slug))


def _name(circle: HostedCircle) -> str:
    records = circle.node.records
    return records.get_circle().name if records.is_founded else circle.slug


async def _problem(request: Request, error: Exception) -> Response:
    assert isinstance(error, HTTPException)
    reason = {404: "not_found", 405: "method_not_allowed"}.get(error.status_code, "error")
    detail = {
        404: "nothing here: each circle of this host is served at /c/<slug>/ (see /)",
    }.get(error.status_code, str(error.detail))
    headers = dict(error.headers or {})
    return problem_response(Problem(error.status_code, reason, detail, headers))
