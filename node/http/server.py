"""The node's HTTP server: the federation API, `/healthz`, and delivery running beside them."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import aiohttp
import anyio.to_thread
from eventsourcing.persistence import (
    IntegrityError,
    InterfaceError,
    OperationalError,
    PersistenceError,
)
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from domain.errors import DomainError
from federation.client import FederationClient
from federation.feed import node_id
from node.app.node import CircleNode
from node.http.api import include_api
from node.http.api.errors import STORE_UNAVAILABLE, Problem, domain_problem, problem_response
from node.http.api_docs import docs_router
from node.http.body_limits import LimitBodies
from node.http.federation_api import TAKING_BACK_RETRY_AFTER, authority, federation_router
from node.http.log_paths import loggable_path
from node.http.metrics import CircleMetrics, Metrics, RequestTiming, process_metrics
from node.http.ratelimit import rate_limiter
from node.http.web import include_pages
from node.http.web.error_pages import problem_page, wants_page
from node.network.background import BackgroundWork, Stopped
from node.network.delivery import Federator
from node.network.identity import KeyStore
from node.network.mail_sender import MailSender, SmtpServer
from node.network.observing import Observer
from node.network.own_feed import FeedBehind

log = logging.getLogger("circle_node.server")
STORE_RETRY_AFTER = 5  # seconds, in a 503's Retry-After when the store is unavailable


@dataclass(frozen=True)
class ServerOptions:
    public_url: str
    pull_interval: float = 30.0
    poll_interval: float = 0.5
    request_timeout: float = 10.0
    # Threads that run the commands and queries (FastAPI runs each route in one). Writes to
    # the store take turns anyway, and a command is mostly Python holding the GIL: with a
    # few threads, requests wait their turn in order; with anyio's default of 40 they
    # contend for the GIL and the store's write lock, and the slowest wait longest
    # (bench/RESULTS.md, "API": the p99 latency with 40 threads against 4).
    threads: int = 4
    # Seconds between checks of the calendar (reviews due, terms over, processes lapsed).
    due_interval: float = 3600.0
    # Seconds the server waits, as it stops, for delivery's and the calendar's store work.
    stop_timeout: float = 30.0
    # The SMTP server mail goes through, and who it comes from (node/settings.py); without
    # them mail stays queued in the store, unsent. Seconds between looks at the queue.
    smtp: SmtpServer | None = None
    mail_from: str = ""
    mail_interval: float = 10.0


class _WakingObserver(Observer):
    """Reports to the metrics, and wakes delivery as soon as an own entry is appended (instead
    of at the next poll); `wake` is called from whichever thread saved."""

    def __init__(self, metrics: CircleMetrics, wake: Callable[[], None]) -> None:
        self.metrics = metrics
        self.wake = wake

    def appended(self, count: int) -> None:
        self.metrics.appended(count)
        self.wake()

    def received(self, peer: bytes, count: int) -> None:
        self.metrics.received(peer, count)

    def rejected(self, reason: str) -> None:
        self.metrics.rejected(reason)

    def delivery_failed(self, peer: bytes, direction: str) -> None:
        self.metrics.delivery_failed(peer, direction)

    def contacted(self, peer: bytes) -> None:
        self.metrics.contacted(peer)

    def behind(self, peer: bytes, entries: int) -> None:
        self.metrics.behind(peer, entries)

    def store_error(self, error: BaseException) -> None:
        self.metrics.store_error(error)


async def _due_dates_forever(node: CircleNode, interval: float, work: BackgroundWork) -> None:
    """Reviews come due, terms end, late processes lapse and late consent rounds close by the
    calendar, without anyone asking (`update_due_dates`, also `POST
    /api/decisions/update-due-dates`): a decision whose review came due is marked so, and a
    member circle's summary for its co-op says so. Dates fall due at midnight in the circle's
    time zone (its rules'): the first check after it."""

    def check() -> None:
        if node.records.is_founded:
            node.decisions.update_due_dates()
            node.reminders.remind()  # deadlines within a day, reviews and terms coming due

    while True:
        try:
            await work.run(check)
        except Stopped:
            return
        except Exception as error:
            if work.outage.failed("checking due dates", error):
                pass  # the store is down, full or read-only: said once, as it began
            elif isinstance(error, PersistenceError):  # e.g. conflicts that kept winning
                log.warning("could not check due dates (trying again later): %s", error)
            else:  # a bug: in full, and the checks go on
                log.exception("checking due dates failed; trying again later")
        else:
            work.outage.served("checking due dates")
        await asyncio.sleep(interval)


@contextlib.asynccontextmanager
async def federation_session(options: ServerOptions) -> AsyncIterator[aiohttp.ClientSession]:
    """The HTTP client session the circles' delivery reaches other nodes through."""
    timeout = aiohttp.ClientTimeout(total=options.request_timeout)
    async with aiohttp.ClientSession(timeout=timeout) as session:
        yield session


@contextlib.asynccontextmanager
async def circle_work(app: FastAPI, session: aiohttp.ClientSession) -> AsyncIterator[None]:
    """What one circle's app (`create_app`) runs beside its requests while it is served:
    delivery to and from its peers, its mail and its calendar, with its observer waking
    delivery when an own entry is appended. The server's lifespan enters it; a host enters it
    for each circle it serves (a mounted app's lifespan does not run). On leaving, it waits
    for their store work, so that the store can be closed after it."""
    node: CircleNode = app.state.node
    keystore: KeyStore | None = app.state.keystore
    options: ServerOptions = app.state.options
    circle_metrics: CircleMetrics = app.state.circle_metrics

    def refresh_keys() -> None:
        if keystore is not None:
            node.feed.keys = keystore.current()

    def signer() -> tuple[str, object]:
        refresh_keys()
        assert node.feed.keys is not None
        return node.feed.node_id, node.feed.keys.current

    client = FederationClient(session, signer if node.feed.keys else None)  # type: ignore[arg-type]
    work = BackgroundWork(store_failed=circle_metrics.store_error)
    federator = Federator(
        node,
        client,
        pull_interval=options.pull_interval,
        poll_interval=options.poll_interval,
        refresh_keys=refresh_keys,
        work=work,
    )
    app.state.federator = federator
    loop = asyncio.get_running_loop()

    def wake() -> None:
        loop.call_soon_threadsafe(federator.wakeup.set)

    node.observer = _WakingObserver(circle_metrics, wake)
    node.mail_queue.public_url = options.public_url
    node.mail_queue.from_address = options.mail_from
    mail = MailSender(node.mail_queue, options.smtp, poll_interval=options.mail_interval, work=work)
    app.state.mail_sender = mail
    tasks = [
        asyncio.create_task(federator.run()),
        asyncio.create_task(mail.run()),
        asyncio.create_task(_due_dates_forever(node, options.due_interval, work)),
    ]
    try:
        yield
    finally:
        node.observer = circle_metrics
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        # Their threads may still be reading or writing the store: the store is
        # closed after the server stops, so wait for them here (and take no more).
        if not await asyncio.to_thread(work.stop, options.stop_timeout):
            log.warning(
                "background store work still under way after %.0f s; stopping anyway",
                options.stop_timeout,
            )


def create_app(
    node: CircleNode,
    keystore: KeyStore | None,
    options: ServerOptions,
    *,
    circle: str = "",
    metrics: Metrics | None = None,
) -> FastAPI:
    """The app of one circle's node. `circle` labels its metrics (its slug on a host; "" for a
    node alone), kept in `metrics` (by default, the process's: node/http/metrics.py). Its
    lifespan runs `circle_work`; a host, whose mounted apps' lifespans do not run, enters
    `circle_work` for each circle itself."""

    def describe(current: CircleNode) -> tuple[str, str]:
        name = current.records.get_circle().name if current.records.is_founded else "circle-node"
        return name, options.public_url

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        anyio.to_thread.current_default_thread_limiter().total_tokens = options.threads
        async with federation_session(options) as session, circle_work(app, session):
            yield

    # /docs is the node's own (node/http/api_docs.py): FastAPI's pages load Swagger UI and
    # ReDoc from a CDN, with an inline script.
    app = FastAPI(title="circle-node", lifespan=lifespan, docs_url=None, redoc_url=None)

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            drop_automatic_422(FastAPI.openapi(app))
        return app.openapi_schema  # type: ignore[return-value]

    app.openapi = openapi  # type: ignore[method-assign]
    app.state.node = node
    app.state.keystore = keystore
    app.state.options = options
    circle_metrics = (metrics or process_metrics()).circle(node, circle)
    app.state.circle_metrics = circle_metrics
    node.observer = circle_metrics
    app.add_middleware(RequestTiming, metrics=circle_metrics)
    app.add_middleware(LimitBodies)  # 413 for bodies over their route's limit, before reading
    public = urlsplit(options.public_url)
    app.state.authority = authority(public.netloc, public.scheme)
    app.state.public_scheme = public.scheme
    app.state.public_path = public.path.rstrip("/")  # "" at the root; "/c/<slug>" on a host
    app.state.public_url = options.public_url.rstrip("/")  # node/http/public_urls.py
    app.state.join_limiter = rate_limiter(node.store, "join", per_minute=6.0, burst=3.0)
    # Wrong personal tokens on the member API, per client: as many as sign-ins may try (10 at
    # once, then one every 6 seconds).
    app.state.token_limiter = rate_limiter(node.store, "token", per_minute=10.0, burst=10.0)
    app.include_router(federation_router(app.state.join_limiter, describe))
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
        circle_metrics.store_error(error)
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
    def prometheus() -> Response:
        """Prometheus metrics of every circle this process serves (with several workers, of
        all of them): entries, outboxes, peers, rejections, requests, store errors, the build
        and the processes (docs/operating.md, "Observability")."""
        return circle_metrics.exposition()

    @app.get("/healthz", tags=["operations"], responses=reads_store)
    def healthz() -> JSONResponse:
        """Liveness, with what an operator must notice: peers stopped for equivocating, and a
        node restored from a backup that has not yet taken its own feed back (`taking_back`:
        it publishes nothing until it has)."""
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
