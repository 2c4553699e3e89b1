"""The pages the links in mails lead to: a one-time sign-in link's form, and unsubscribing.

A sign-in link (node/app/mail_links.py) opens a form, not a session: mail scanners that follow
links must not use it up. Posting the form (with its session's CSRF token, like every form)
uses the link once and signs the person in. Unsubscribing works without signing in: the link
is signed for its person, and its POST is the one-click unsubscribe of RFC 8058 (mail clients
post `List-Unsubscribe=One-Click` to it, with no cookie and no CSRF token; it only ever stops
mail, so a forged post can do no more than that).
"""

from __future__ import annotations

import hmac
import logging

from fastapi import APIRouter
from fastapi.responses import Response

from domain.errors import NotFound, NotPermitted
from node.app.mail_links import LINK_REFUSED
from node.http.circle_paths import circle_path
from node.http.web.visits import Anyone, PageRoute, Posted, set_session_cookie

log = logging.getLogger("circle_node.web")

router = APIRouter(route_class=PageRoute)
unsubscribe_router = APIRouter(route_class=PageRoute)


@router.get("/sign-in/link/{token}", include_in_schema=False)
def sign_in_link_form(found: Anyone, token: str) -> Response:
    person = found.node.links.person_for_link(token)
    fresh = found.session is None
    if found.session is None:
        found.session = found.sessions.open()
    if person is None:
        response = found.page("sign_in_link.html", 410, name="", token="", error=LINK_REFUSED)
    else:
        name = found.node.records.person_name(person)
        response = found.page("sign_in_link.html", name=name, token=token, error="")
    if fresh:
        set_session_cookie(response, found.request, found.session)
    return response


@router.post("/sign-in/link/{token}", include_in_schema=False)
def sign_in_with_link(posted: Posted, token: str) -> Response:
    found = posted.visit
    try:
        person, token_id = found.node.links.sign_in_with_link(token)
    except NotPermitted as refused:
        return found.page("sign_in_link.html", 410, name="", token="", error=str(refused))
    assert found.session is not None
    found.sessions.close(found.session.id)
    welcome = f"Welcome, {found.node.records.person_name(person)}."
    session = found.sessions.open(person, token_id, notice=welcome)
    log.info("%s signed in with a link from their mail", person)
    response = found.redirect("/account")
    set_session_cookie(response, found.request, session)
    return response


@unsubscribe_router.get("/unsubscribe/{person_id}/{signature}", include_in_schema=False)
def unsubscribe_form(found: Anyone, person_id: str, signature: str) -> Response:
    if not hmac.compare_digest(found.node.links.unsubscribe_signature(person_id), signature):
        raise NotFound("This unsubscribe link is not one this circle sent")
    return found.page("unsubscribe.html", done=False, action=circle_path(found.request))


@unsubscribe_router.post("/unsubscribe/{person_id}/{signature}", include_in_schema=False)
def unsubscribe(found: Anyone, person_id: str, signature: str) -> Response:
    found.node.links.unsubscribe(person_id, signature)
    log.info("%s unsubscribed from mail", person_id)
    return found.page("unsubscribe.html", done=True, action="")
