"""Who is visiting: the session behind the cookie, the signed-in person, checked forms.

Every page handler takes a `Visit` (anyone) or a `Member` (signed in; others are sent to the
sign-in page). Every POST handler takes a `Posted` form: its CSRF token must be the session's,
or the post is refused with 403 before anything else happens. `PageRoute` turns what the
handlers raise into readable pages: a refusal by the circle's rules shows the domain's own
sentence with its 4xx status, and an unexpected error a page without a traceback.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from typing import Annotated, Any
from urllib.parse import quote

import anyio
from fastapi import Depends, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.routing import APIRoute
from starlette.exceptions import HTTPException

from domain.errors import DomainError
from domain.values import GONE
from federation.feed import node_id
from node.app.node import CircleNode
from node.http.api.errors import domain_problem
from node.http.circle_paths import circle_path, prefix, site_path
from node.http.log_paths import loggable_path
from node.http.ratelimit import Limiter, RateLimiter, rate_limiter
from node.http.served_circle import ServedCircle, served
from node.http.web.forms import BadForm, Form, read_form
from node.http.web.rendering import NAV, SECURITY_HEADERS, render
from node.http.web.sessions import Session, SessionStore, cookie_name
from node.network.own_feed import FeedBehind

log = logging.getLogger("circle_node.web")

# A client address may try 10 sign-ins at once, then one every 6 seconds.
SIGN_INS_PER_MINUTE = 10.0
SIGN_IN_BURST = 10.0


@dataclass
class WebState:
    """What the pages use beside the node: its sessions, and sign-in attempts per client (both
    kept in its store, but for the in-memory store's)."""

    sessions: SessionStore = field(default_factory=SessionStore)
    sign_in_limiter: Limiter = field(
        default_factory=lambda: RateLimiter(per_minute=SIGN_INS_PER_MINUTE, burst=SIGN_IN_BURST)
    )


def web_state(circle: ServedCircle) -> WebState:
    """The circle's WebState, made on first use (a test may set `pages` beforehand)."""
    with circle.pages_lock:
        state = circle.pages
        if state is None:
            store = circle.node.store
            limiter = rate_limiter(store, "sign_in", SIGN_INS_PER_MINUTE, SIGN_IN_BURST)
            state = circle.pages = WebState(SessionStore(store.sessions), limiter)
        assert isinstance(state, WebState)
        return state


# The heading of a page that shows a refusal by the circle's rules, by its kind.
REFUSAL_TITLES = {
    "not_permitted": "Not permitted",
    "not_found": "Not found",
    "wrong_stage": "Not at this stage",
    "invalid_request": "Refused",
}


class SignInNeeded(Exception):
    """The page is for members: the visitor is sent to the sign-in page."""


class CsrfRefused(Exception):
    """A post without this session's CSRF token."""


@dataclass
class Visit:
    request: Request
    node: CircleNode
    session: Session | None
    person: str | None

    @property
    def sessions(self) -> SessionStore:
        return web_state(served(self.request)).sessions

    def page(
        self,
        template: str,
        status: int = 200,
        headers: dict[str, str] | None = None,
        **context: Any,
    ) -> HTMLResponse:
        return render(template, {**self.base_context(), **context}, status, headers)

    def base_context(self) -> dict[str, Any]:
        """What every page shows: the circle's name, the nav, who is signed in (with the
        sign-out form's CSRF token), a notice left by the last post, whether the node, restored
        from a backup, is still taking its own feed back, and what the members must be told of
        their peers' feeds: a fork (equivocation), a key that leaked (an entry signed by a key
        retired since), a feed recovered by a superseding rotation."""
        node = self.node
        founded = node.records.is_founded
        peers = node.peering.peers() if node.feed.keys is not None else []
        stopped = [
            {"name": peer.name, "node_id": node_id(peer.feed_id), "seq": peer.equivocation_seq}
            for peer in peers
            if peer.stopped
        ]
        leaked = [
            {"name": peer.name, "node_id": node_id(peer.feed_id), "seq": peer.retired_key_seq}
            for peer in peers
            if peer.retired_key_seq is not None
        ]
        superseded = [
            {
                "name": peer.name,
                "node_id": node_id(peer.feed_id),
                "seq": peer.superseded_seq,
                "last": peer.superseded_seq + peer.superseded_dropped - 1,
            }
            for peer in peers
            if peer.superseded_seq is not None
        ]
        session = self.session
        return {
            "circle_name": node.records.peek_circle().name if founded else "circle-node",
            "time_zone": str(node.records.time_zone()),
            "nav": NAV if self.person else (),
            # Links, forms and assets carry the circle's prefix: `href="{{ root }}/people"`
            # (node.http.circle_paths); `path` is the page's own, below the prefix.
            "root": prefix(self.request),
            "path": circle_path(self.request),
            "me": self.person,
            "my_name": node.records.person_name(self.person) if self.person else "",
            "csrf": session.csrf if session else "",
            "notice": self.sessions.take_notice(session) if session else None,
            "stopped": stopped,
            "taking_back": node.take_back.status if node.take_back.pending else "",
            "leaked": leaked,
            "superseded": superseded,
        }

    def redirect(self, to: str, notice: str | None = None) -> RedirectResponse:
        """After a post, to the page that shows its effect (303: the browser GETs it); `to` is
        a circle path (`/proposals/3`), sent with the circle's prefix."""
        if notice and self.session is not None:
            self.sessions.leave_notice(self.session, notice)
        return RedirectResponse(site_path(self.request, to), status_code=303)


def set_session_cookie(response: Response, request: Request, session: Session) -> None:
    """The session's cookie, for this circle's pages only: its name and `Path` are the
    circle's (`circle_session_kitchen`, `Path=/c/kitchen/`; at the root `circle_session`,
    `Path=/`), so circles sharing a site keep their sessions apart in one browser."""
    response.set_cookie(
        cookie_name(prefix(request)),
        session.id,
        httponly=True,
        samesite="lax",
        path=prefix(request) + "/",
        secure=request.url.scheme == "https",
    )


def still_signed_in(node: CircleNode, session: Session) -> bool:
    """The token the session was opened with is still held, and its person still in."""
    person = session.person
    if person is None or session.token_id is None or not node.records.is_founded:
        return False
    if session.token_id not in node.tokens.tokens_of(person):
        return False
    participant = node.records.peek_circle().participants.get(person)
    return participant is not None and participant.status not in GONE


def visit(request: Request) -> Visit:
    circle = served(request)
    node = circle.node
    sessions = web_state(circle).sessions
    session = sessions.get(request.cookies.get(cookie_name(prefix(request))))
    if session is not None and session.person is not None and not still_signed_in(node, session):
        sessions.close(session.id)
        session = None
    found = Visit(request, node, session, session.person if session else None)
    request.state.visit = found
    return found


def member(found: Annotated[Visit, Depends(visit)]) -> Visit:
    if found.person is None:
        raise SignInNeeded
    return found


async def _form(request: Request) -> Form:
    return await read_form(request)


@dataclass
class PostedForm:
    visit: Visit
    form: Form

    @property
    def person(self) -> str:
        assert self.visit.person is not None
        return self.visit.person


def posted(
    found: Annotated[Visit, Depends(visit)], form: Annotated[Form, Depends(_form)]
) -> PostedForm:
    """A form whose CSRF token is the session's (anyone's: the sign-in form's too)."""
    if found.session is None or not found.session.csrf_matches(form.get("csrf")):
        raise CsrfRefused
    return PostedForm(found, form)


def posted_by_member(checked: Annotated[PostedForm, Depends(posted)]) -> PostedForm:
    if checked.visit.person is None:
        raise SignInNeeded
    return checked


Anyone = Annotated[Visit, Depends(visit)]
Member = Annotated[Visit, Depends(member)]
Posted = Annotated[PostedForm, Depends(posted)]
MemberPost = Annotated[PostedForm, Depends(posted_by_member)]


async def error_page(
    request: Request,
    status: int,
    title: str,
    message: str,
    headers: dict[str, str] | None = None,
) -> Response:
    """A readable page for a refusal or an error, with the nav when it can be drawn."""
    found: Visit | None = getattr(request.state, "visit", None)
    if found is None:
        found = Visit(request, served(request).node, None, None)

    def draw() -> Response:
        return found.page("error.html", status, headers, title=title, message=message)

    try:
        return await anyio.to_thread.run_sync(draw)
    except Exception:
        log.exception("error drawing the error page for %s", loggable_path(request))
        return HTMLResponse(
            "<!doctype html><title>circle-node</title><p>The node could not do that.</p>",
            status_code=status,
            headers={**SECURITY_HEADERS, **(headers or {})},
        )


async def form_too_large(request: Request) -> Response:
    """The page that refuses a body over the pages' limit (node.http.body_limits), drawn for
    the visitor (signed in or not) as every other page is."""
    if getattr(request.state, "visit", None) is None:
        with contextlib.suppress(Exception):  # then drawn as for a visitor not signed in
            await anyio.to_thread.run_sync(visit, request)
    return await error_page(request, 413, "This form cannot be read", "That form is too large")


class PageRoute(APIRoute):
    """A route of the web pages: what its handler raises becomes a page, never a traceback."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def handle(request: Request) -> Response:
            try:
                return await handler(request)
            except SignInNeeded:
                target = site_path(request, "/sign-in")
                if request.method == "GET":
                    target += "?next=" + quote(circle_path(request), safe="/")
                return RedirectResponse(target, status_code=303)
            except CsrfRefused:
                return await error_page(
                    request,
                    403,
                    "This form cannot be accepted",
                    "It did not carry this session's security token: the page may have been "
                    "open since before you signed in or out, or the form came from another "
                    "site. Nothing was changed. Open the page again and send it from there.",
                )
            except BadForm as bad:
                return await error_page(
                    request, bad.status, "This form cannot be read", bad.message
                )
            except FeedBehind as held_back:
                return await error_page(
                    request, 503, "Not yet: the node was restored from a backup", str(held_back)
                )
            except DomainError as refusal:
                problem = domain_problem(refusal)
                title = REFUSAL_TITLES.get(problem.reason, "Refused")
                return await error_page(request, problem.status, title, problem.detail)
            except (HTTPException, RequestValidationError):
                raise
            except Exception:
                log.exception("error serving %s %s", request.method, loggable_path(request))
                return await error_page(
                    request, 500, "Something went wrong", "The node could not do that."
                )

        return handle
