"""The node's HTTP server: the federation API, `/healthz`, and delivery running beside them."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator
from typing import Any

from eventsourcing.persistence import (
    IntegrityError,
    InterfaceError,
    OperationalError,
)
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import Lifespan, Scope

from domain.errors import DomainError
from federation.feed import node_id
from node.app.node import CircleNode
from node.http.api import include_api
from node.http.api.errors import STORE_UNAVAILABLE, Problem, domain_problem, problem_response
from node.http.api_docs import docs_router
from node.http.background import run_background
from node.http.body_limits import LimitBodies
from node.http.federation_api import TAKING_BACK_RETRY_AFTER, federation_router
from node.http.log_paths import loggable_path
from node.http.metrics import CircleMetrics, Metrics, RequestTiming, process_metrics
from node.http.served_circle import InCircle, ServedCircle, served
from node.http.server_options import ServerOptions
from node.http.web import include_pages
from node.http.web.error_pages import problem_page, wants_page
from node.network.identity import KeyStore
from node.network.own_feed import FeedBehind

log = logging.getLogger("circle_node.server")
STORE_RETRY_AFTER = 5  # seconds, in a 503's Retry-After when the store is unavailable


def create_app(
    node: CircleNode,
    keystore: KeyStore | None,
    options: ServerOptions,
    *,
    circle: str = "",
    metrics: Metrics | None = None,
) -> FastAPI:
    """The app of a single circle's node: the app that serves any circle (`circles_app`), with
    this one in front (`app.state.served`). `circle` labels its metrics (its slug on a host; ""
    for a node alone), kept in `metrics` (by default, the process's: node/http/metrics.py). Its
    lifespan runs its background work (`run_background`, node/http/background.py)."""
    served_circle = serve_circle(node, keystore, options, slug=circle, metrics=metrics)

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with run_background([served_circle], options):
            yield

    app = circles_app(lifespan)
    app.state.served = served_circle
    app.add_middleware(InCircle, circle=served_circle)  # outermost: before all the rest
    return app


def serve_circle(
    node: CircleNode,
    keystore: KeyStore | None,
    options: ServerOptions,
    *,
    slug: str = "",
    metrics: Metrics | None = None,
) -> ServedCircle:
    """A circle, ready to be served by the app (`options` with its own public URL); its
    metrics labelled `slug`, in `metrics` (by default the process's)."""
    circle_metrics = (metrics or process_metrics()).circle(node, slug)
    node.observer = circle_metrics
    return ServedCircle(node, keystore, options, circle_metrics, slug)


def circles_app(lifespan: Lifespan[FastAPI] | None = None) -> FastAPI:
    """The app that serves every circle of a process: routes, middleware and handlers built
    once; each request names its circle in its scope (`InCircle`, node/http/served_circle.py).
    `lifespan`: a single node's (a host runs the background work itself)."""
    # /docs is the node's own (node/http/api_docs.py): FastAPI's pages load Swagger UI and
    # ReDoc from a CDN, with an inline script.
    app = FastAPI(title="circle-node", lifespan=lifespan, docs_url=None, redoc_url=None)

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            drop_automatic_422(FastAPI.openapi(app))
        return app.openapi_schema  # type: ignore[return-value]

    app.openapi = openapi  # type: ignore[method-assign]
    app.add_middleware(RequestTiming, metrics_of=_metrics_of)
    app.add_middleware(LimitBodies)  # 413 for bodies over their route's limit, before reading
    app.include_router(federation_router())
    include_api(app)
    app.include_router(docs_router)
    include_pages(app)

    async def answer(request: Request, problem: Problem) -> Response:
        # Programs get problem details; a browser outside the APIs, a page (web/error_pages.py).
        if wants_page(request):
            return await problem_page(request, problem)
        return problem_response(problem)

    @app.exception_handler(DomainError)
    async def on_refusal(request: Request, error: DomainError) -> Response:
        return await answer(request, domain_problem(error))

    @app.exception_handler(Problem)
    async def on_problem(request: Request, problem: Problem) -> Response:
        return await answer(request, problem)

    @app.exception_handler(StarletteHTTPException)
    async def on_http_error(request: Request, error: StarletteHTTPException) -> Response:
        reason = {
            400: "malformed",  # e.g. a body that does not parse
            404: "not_found",
            405: "method_not_allowed",
            413: "oversize",
        }.get(error.status_code, "error")
        headers = dict(error.headers or {})  # e.g. Allow, on a 405
        return await answer(request, Problem(error.status_code, reason, str(error.detail), headers))

    @app.exception_handler(FeedBehind)
    async def on_feed_behind(request: Request, error: FeedBehind) -> Response:
        # Restored from a backup: the change would publish an entry, and the node signs nothing
        # until its own feed is taken back from its peers (node/network/take_back.py).
        return await answer(
            request,
            Problem(503, "taking_back", str(error), {"Retry-After": str(TAKING_BACK_RETRY_AFTER)}),
        )

    @app.exception_handler(OperationalError)
    @app.exception_handler(InterfaceError)
    @app.exception_handler(IntegrityError)
    async def on_store_unavailable(request: Request, error: Exception) -> Response:
        # The store cannot be reached or written (database down, disk full, read-only), or
        # other writers kept winning the race for the same records (every retry conflicted):
        # the request changed nothing; the client may try again shortly.
        busy = isinstance(error, IntegrityError)
        served(request).metrics.store_error(error)
        log.error(
            "store %s serving %s %s: %s",
            "busy" if busy else "unavailable",
            request.method,
            loggable_path(request),
            error,
        )
        if busy:
            detail = (
                "Too many changes are being made at once; nothing was changed. Try again shortly."
            )
        elif "readonly" in str(error) or "read-only" in str(error):
            # The store file or its file system is read-only (SQLite: "attempt to write a
            # readonly database"): waiting will not help until the operator fixes it.
            detail = (
                "The node's store is read-only, so nothing was changed; the node's operator must "
                "make it writable again (reading works meanwhile)."
            )
        else:
            detail = (
                "The node's store cannot be reached or written just now. Try again shortly "
                "(if the store went away during the request, check whether it was done first)."
            )
        return await answer(
            request,
            Problem(
                503,
                "store_busy" if busy else "store_unavailable",
                detail,
                {"Retry-After": str(STORE_RETRY_AFTER)},
            ),
        )

    @app.exception_handler(Exception)
    async def on_error(request: Request, error: Exception) -> Response:
        # A bug or an outage: logged in full here, answered without a traceback.
        log.exception("error serving %s %s", request.method, loggable_path(request))
        return await answer(request, Problem(500, "internal_error", "the node could not do that"))

    @app.exception_handler(RequestValidationError)
    async def on_invalid(request: Request, error: RequestValidationError) -> Response:
        where = "; ".join(
            f"{'.'.join(map(str, e.get('loc', ())))}: {e.get('msg', '')}" for e in error.errors()
        )
        return await answer(request, Problem(400, "malformed", where or "invalid request"))

    reads_store: dict[int | str, dict[str, Any]] = {503: STORE_UNAVAILABLE}

    @app.get("/metrics", tags=["operations"], response_class=Response, responses=reads_store)
    def prometheus(request: Request) -> Response:
        """Prometheus metrics of every circle this process serves (with several workers, of
        all of them): entries, outboxes, peers, rejections, requests, store errors, the build
        and the processes (docs/operating.md, "Observability")."""
        return served(request).metrics.exposition()

    @app.get("/healthz", tags=["operations"], responses=reads_store)
    def healthz(request: Request) -> JSONResponse:
        """Liveness, with what an operator must notice: peers stopped for equivocating, and a
        node restored from a backup that has not yet taken its own feed back (`taking_back`:
        it publishes nothing until it has)."""
        node = served(request).node
        own = node.feed.own_feed()
        stopped = [node_id(peer.feed_id) for peer in node.peering.peers() if peer.stopped]
        taking_back = node.take_back.pending
        return JSONResponse(
            {
                "status": "taking_back" if taking_back else "ok",
                "node": node.feed.node_id,
                "head": own.head,
                "equivocating_peers": stopped,
                "taking_back": node.take_back.status if taking_back else None,
            }
        )

    return app


def _metrics_of(scope: Scope) -> CircleMetrics:
    return served(scope).metrics


VALIDATION_ERROR = "#/components/schemas/HTTPValidationError"


def drop_automatic_422(spec: dict[str, Any]) -> None:
    """FastAPI documents a 422 (HTTPValidationError) on every route with parameters that does
    not document its own; this node answers invalid parameters with 400 `malformed` (see
    `on_invalid`), so that 422 is never given: take it out of the spec, and its schemas."""
    for operations in spec.get("paths", {}).values():
        for operation in operations.values():
            responses = operation.get("responses", {})
            content = responses.get("422", {}).get("content", {})
            if any(
                media.get("schema", {}).get("$ref") == VALIDATION_ERROR
                for media in content.values()
            ):
                del responses["422"]
    schemas = spec.get("components", {}).get("schemas", {})
    if VALIDATION_ERROR not in str(spec.get("paths")):
        schemas.pop("HTTPValidationError", None)
        if "#/components/schemas/ValidationError" not in str(schemas):
            schemas.pop("ValidationError", None)
