"""Signing in with a personal token, and signing out; my account page (my calendar link,
and where and how often the circle mails me: shown to me alone).

The token is posted in the sign-in form's body (never in a URL, never logged), looked up with
`CircleNode.person_for_token`, and exchanged for a session (node.http.web.sessions). Attempts are
rate-limited per client address.
"""

from __future__ import annotations

import logging

from fastapi import APIRouter
from fastapi.responses import Response

from domain.errors import DomainError
from node.app.credentials import token_hash
from node.http.api.errors import domain_problem
from node.http.front import client_address
from node.http.public_urls import calendar_url
from node.http.served_circle import served
from node.http.web.visits import (
    Anyone,
    Member,
    MemberPost,
    PageRoute,
    Posted,
    Visit,
    set_session_cookie,
    web_state,
)

log = logging.getLogger("circle_node.web")

router = APIRouter(route_class=PageRoute)

# The member API's operations these pages carry out (node.http.web.page_table).
OPERATIONS = {
    "GET /api/me/calendar": "/account",
    "POST /api/me/calendar": "/account",
    "DELETE /api/me/calendar": "/account",
    "GET /api/people/{person_id}/mail": "/account",
    "PUT /api/people/{person_id}/mail": "/account",
}

UNKNOWN_TOKEN = "That token is unknown, revoked, or belongs to someone who has left the circle."


def safe_next(target: str) -> str:
    """Where to go after signing in: a path on this site only."""
    if target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return "/home"


@router.get("/sign-in", include_in_schema=False)
def sign_in_form(found: Anyone, next: str = "/home") -> Response:
    if found.person is not None:
        return found.redirect(safe_next(next))
    fresh = found.session is None
    if found.session is None:
        found.session = found.sessions.open()
    response = found.page("sign_in.html", next=safe_next(next), error="")
    if fresh:
        set_session_cookie(response, found.request, found.session)
    return response


@router.post("/sign-in", include_in_schema=False)
def sign_in(posted: Posted) -> Response:
    found, form = posted.visit, posted.form
    request = found.request
    client = client_address(request)
    limiter = web_state(served(request)).sign_in_limiter
    target = safe_next(form.get("next", "/home"))
    if not limiter.allow(client):
        wait = limiter.retry_after(client)
        log.warning("sign-in attempts from %s are over the limit", client)
        return found.page(
            "sign_in.html",
            429,
            {"Retry-After": str(wait)},
            next=target,
            error=f"Too many sign-in attempts from your address; try again in {wait} seconds.",
        )
    token = form.get("token").strip()
    person = found.node.tokens.person_for_token(token) if token else None
    if person is None:
        log.info("sign-in refused from %s", client)
        return found.page("sign_in.html", 401, next=target, error=UNKNOWN_TOKEN)
    assert found.session is not None
    found.sessions.close(found.session.id)
    welcome = f"Welcome, {found.node.records.person_name(person)}."
    session = found.sessions.open(person, token_hash(token)[:12], notice=welcome)
    log.info("%s signed in from %s", person, client)
    response = found.redirect(target)
    set_session_cookie(response, request, session)
    return response


@router.post("/sign-out", include_in_schema=False)
def sign_out(posted: Posted) -> Response:
    found = posted.visit
    assert found.session is not None
    ended = found.session
    if ended.person is not None and ended.token_id is not None:
        # The token a sign-in link minted for this session ends with it.
        found.node.tokens.end_link_session(ended.token_id, ended.person)
    found.sessions.close(found.session.id)
    # A new session, without a person, for the sign-in form the visitor lands on.
    session = found.sessions.open(notice="You have signed out.")
    response = found.redirect("/sign-in")
    set_session_cookie(response, found.request, session)
    return response


# My account: my calendar link (node/app/calendars.py), made and shown once, or revoked; and
# where and how often the circle mails me (node/app/mail_choices.py).


def _account_page(
    found: Visit,
    new_calendar_url: str = "",
    status: int = 200,
    refusal: str = "",
    entered: dict[str, str] | None = None,
) -> Response:
    assert found.person is not None
    made = found.node.calendars.link_made(found.person)
    choice = found.node.mail.choice_of(found.person, found.person)
    shown = entered or {"email": choice.email, "notices": choice.notices}
    return found.page(
        "account.html",
        status,
        calendar_made=found.node.records.local(made) if made is not None else None,
        calendar_url=new_calendar_url,
        entered=shown,
        refusal=refusal,
    )


@router.get("/account", include_in_schema=False)
def account_page(found: Member) -> Response:
    return _account_page(found)


@router.post("/account/calendar", include_in_schema=False)
def make_calendar_link(posted: MemberPost) -> Response:
    """Made (or replaced) and shown on the page this once: only its hash is kept."""
    secret = posted.visit.node.calendars.make_link(posted.person)
    return _account_page(posted.visit, calendar_url(posted.visit.request, secret))


@router.post("/account/calendar/revoke", include_in_schema=False)
def revoke_calendar_link(posted: MemberPost) -> Response:
    posted.visit.node.calendars.revoke_link(posted.person)
    return posted.visit.redirect("/account", "Your calendar link is revoked.")


@router.post("/account/mail", include_in_schema=False)
def choose_mail(posted: MemberPost) -> Response:
    found, form = posted.visit, posted.form
    try:
        found.node.mail.choose(
            posted.person, posted.person, form.get("email"), form.get("notices") or "each"
        )
    except DomainError as refusal:
        problem = domain_problem(refusal)
        return _account_page(
            found, status=problem.status, refusal=problem.detail, entered=form.values()
        )
    return found.redirect("/account", "Your mail settings are saved.")
