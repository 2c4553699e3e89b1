"""The steps a person's page (/people/{person_id}, node.http.web.people_pages) posts: a trial
and its sessions, admission, declining, levels, stepping back and returning, leaving with a
note of appreciation, erasure (confirmed on a second page), sign-in tokens, and one's own aims
and development goals.

A personal token, issued on admission or later, is shown once, on the post's own page (never
in a redirect or a notice). A refusal draws the person's page again with the domain's
sentence, beside the form's field or at the top.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from fastapi import APIRouter
from fastapi.responses import Response

from domain.errors import DomainError
from domain.membership import check_can_erase
from domain.values import Level
from node.http.web.forms import FieldRefused, Form
from node.http.web.people_pages import SAY_MOST, person_page, said
from node.http.web.refusals import Refusal, refusal
from node.http.web.visits import (
    MemberPost,
    PageRoute,
    PostedForm,
    Visit,
    set_session_cookie,
    still_signed_in,
)

log = logging.getLogger("circle_node.web")

router = APIRouter(route_class=PageRoute)

# The member API's operations these pages carry out (node.http.web.page_table).
OPERATIONS = {
    "POST /api/people/{person_id}/trial": "/people/{person_id}",
    "POST /api/people/{person_id}/trial/sessions": "/people/{person_id}",
    "POST /api/people/{person_id}/admit": "/people/{person_id}",
    "POST /api/people/{person_id}/decline": "/people/{person_id}",
    "POST /api/people/{person_id}/level": "/people/{person_id}",
    "POST /api/people/{person_id}/step-back": "/people/{person_id}",
    "POST /api/people/{person_id}/return": "/people/{person_id}",
    "POST /api/people/{person_id}/leave": "/people/{person_id}",
    "POST /api/people/{person_id}/erase": "/people/{person_id}",
    "PUT /api/people/{person_id}/aims": "/people/{person_id}",
    "POST /api/tokens": "/people/{person_id}",
    "DELETE /api/tokens/{token_id}": "/people/{person_id}",
}


def _done(found: Visit, to: str, notice: str, ended: str, ended_to: str = "/") -> Response:
    """To the page that shows a step's effect, with `notice`; or, when the step ended the
    reader's own access (they left, or revoked the token they signed in with), to `ended_to`
    in a new session without a person, which carries `ended`."""
    assert found.session is not None
    if still_signed_in(found.node, found.session):
        return found.redirect(to, notice)
    found.sessions.close(found.session.id)
    session = found.sessions.open(notice=ended)
    response = found.redirect(ended_to)
    set_session_cookie(response, found.request, session)
    return response


def _step(
    posted: PostedForm,
    person_id: str,
    form_name: str,
    do: Callable[[], object],
    notice: Callable[[], str],
    main_field: str = "",
) -> Response:
    """Take a step on someone's page: back to it with `notice`, or drawn again, refused."""
    found = posted.visit
    try:
        do()
    except DomainError as error:
        shown = refusal(error, form_name, posted.form, main_field=main_field)
        return person_page(found, person_id, shown.status, refused=shown)
    return _done(found, f"/people/{person_id}", notice(), "You are no longer in the circle.")


def _name(posted: PostedForm, person_id: str) -> str:
    return posted.visit.node.records.person_name(person_id)


def _note(form: Form) -> str | None:
    return said(form, "note", "note", SAY_MOST) or None


@router.post("/people/{person_id}/trial", include_in_schema=False)
def start_trial(posted: MemberPost, person_id: str) -> Response:
    people = posted.visit.node.people
    return _step(
        posted,
        person_id,
        "trial",
        lambda: people.start_trial(
            posted.person, person_id, posted.form.number("sessions", "how many sessions")
        ),
        lambda: f"The trial of {_name(posted, person_id)} has started.",
        main_field="sessions",
    )


@router.post("/people/{person_id}/trial/sessions", include_in_schema=False)
def hold_trial_session(posted: MemberPost, person_id: str) -> Response:
    people = posted.visit.node.people
    held: list[int] = []
    return _step(
        posted,
        person_id,
        "session",
        lambda: held.append(people.hold_trial_session(posted.person, person_id)),
        lambda: f"Session {held[0]} of the trial of {_name(posted, person_id)} is counted.",
    )


@router.post("/people/{person_id}/admit", include_in_schema=False)
def admit(posted: MemberPost, person_id: str) -> Response:
    """Admitted, and given a personal token: shown on this post's own page, this once."""
    found, form = posted.visit, posted.form
    node = found.node
    try:
        node.people.admit(posted.person, person_id, form.get("level", Level.FULL))
    except DomainError as error:
        shown = refusal(error, "admit", form, main_field="level")
        return person_page(found, person_id, shown.status, refused=shown)
    try:
        token_id, token = node.tokens.issue_token(person_id, posted.person)
    except Exception:  # admitted and saved: say so, and how to give them a token
        log.exception("admitted, but no token could be issued")
        shown = Refusal(
            "admit",
            "Admitted, but no personal token could be issued: issue one below.",
            status=503,
        )
        return person_page(found, person_id, 503, refused=shown)
    issued = {"token_id": token_id, "token": token, "admitted": True}
    return person_page(found, person_id, issued=issued)


@router.post("/people/{person_id}/decline", include_in_schema=False)
def decline(posted: MemberPost, person_id: str) -> Response:
    people = posted.visit.node.people
    return _step(
        posted,
        person_id,
        "decline",
        lambda: people.decline(posted.person, person_id),
        lambda: "The application has ended.",
    )


@router.post("/people/{person_id}/level", include_in_schema=False)
def change_level(posted: MemberPost, person_id: str) -> Response:
    people = posted.visit.node.people
    level = posted.form.get("level")
    return _step(
        posted,
        person_id,
        "level",
        lambda: people.change_level(posted.person, person_id, level),
        lambda: f"{_name(posted, person_id)} now takes part as a {level} participant.",
        main_field="level",
    )


@router.post("/people/{person_id}/step-back", include_in_schema=False)
def step_back(posted: MemberPost, person_id: str) -> Response:
    people = posted.visit.node.people
    return _step(
        posted,
        person_id,
        "step_back",
        lambda: people.step_back(posted.person, person_id, _note(posted.form)),
        lambda: f"{_name(posted, person_id)} has stepped back; their hats are released.",
        main_field="note",
    )


@router.post("/people/{person_id}/return", include_in_schema=False)
def welcome_back(posted: MemberPost, person_id: str) -> Response:
    people = posted.visit.node.people
    return _step(
        posted,
        person_id,
        "return",
        lambda: people.welcome_back(posted.person, person_id),
        lambda: f"Welcome back, {_name(posted, person_id)}.",
    )


@router.post("/people/{person_id}/leave", include_in_schema=False)
def leave(posted: MemberPost, person_id: str) -> Response:
    found, form = posted.visit, posted.form
    name = _name(posted, person_id)
    try:
        found.node.people.leave(posted.person, person_id, _note(form))
    except DomainError as error:
        shown = refusal(error, "leave", form, main_field="note")
        return person_page(found, person_id, shown.status, refused=shown)
    return _done(
        found,
        f"/people/{person_id}",
        f"{name} has left the circle. With thanks.",
        "You have left the circle. Thank you for all you gave.",
    )


@router.post("/people/{person_id}/erase", include_in_schema=False)
def erase(posted: MemberPost, person_id: str) -> Response:
    """Cannot be undone: a second page asks to confirm, and only a post with `confirmed=yes`
    erases."""
    found, form = posted.visit, posted.form
    node = found.node
    name = _name(posted, person_id)
    if form.get("confirmed") != "yes":
        # Refused at once by the circle's rules, or asked to confirm.
        check_can_erase(node.records.peek_circle(), posted.person, person_id)
        return found.page("erase.html", person_id=person_id, name=name)
    erased = node.erasure.erase_person(posted.person, person_id)
    published = f" and {erased} published entries that named them" if erased else ""
    # The notice waits in the session (in the store): it does not repeat the erased name.
    return found.redirect(f"/people/{person_id}", f"Their personal data{published} are erased.")


@router.post("/people/{person_id}/aims", include_in_schema=False)
def set_aims(posted: MemberPost, person_id: str) -> Response:
    def items(name: str, what: str) -> list[str]:
        lines = [line.strip() for line in posted.form.get(name).splitlines()]
        if any(len(line) > SAY_MOST for line in lines):
            raise FieldRefused(name, f"Each {what} is at most {SAY_MOST} characters")
        return [line for line in lines if line]

    aims = posted.visit.node.aims
    return _step(
        posted,
        person_id,
        "aims",
        lambda: aims.set_aims(
            posted.person,
            person_id,
            items("aims", "aim"),
            items("development_goals", "development goal"),
        ),
        lambda: "Your aims and development goals are saved.",
        main_field="aims",
    )


@router.post("/people/{person_id}/tokens", include_in_schema=False)
def issue_token(posted: MemberPost, person_id: str) -> Response:
    """A new personal token, shown on this post's own page, this once."""
    found = posted.visit
    try:
        token_id, token = found.node.tokens.issue_token(person_id, posted.person)
    except DomainError as error:
        shown = refusal(error, "issue", posted.form)
        return person_page(found, person_id, shown.status, refused=shown)
    issued = {"token_id": token_id, "token": token, "admitted": False}
    return person_page(found, person_id, issued=issued)


@router.post("/people/{person_id}/tokens/{token_id}/revoke", include_in_schema=False)
def revoke_token(posted: MemberPost, person_id: str, token_id: str) -> Response:
    found = posted.visit
    try:
        found.node.tokens.revoke_token(token_id, posted.person)
    except DomainError as error:
        shown = refusal(error, "revoke", posted.form)
        return person_page(found, person_id, shown.status, refused=shown)
    return _done(
        found,
        f"/people/{person_id}",
        f"The token {token_id} is revoked.",
        "The token you signed in with is revoked: you are signed out.",
        "/sign-in",
    )
