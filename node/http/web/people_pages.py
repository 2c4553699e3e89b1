"""The circle's people: who takes part and how (/people, where the secretary records an
application), each person's page (/people/{person_id}: their level, status, hats and trial,
their aims and development goals, and the forms the circle's rules give the reader), and
everyone's aims (/member-aims).

The steps a person's page posts (trials, admission, levels, stepping back, leaving, erasure,
tokens, aims) are in node.http.web.membership_pages; they draw this page again when refused.
Who may do what is the domain's: a form is offered when its guards (domain.membership) would
let the reader use it, and the command decides.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import APIRouter
from fastapi.responses import Response

from domain import trials
from domain.errors import DomainError, NotFound
from domain.membership import (
    check_can_act,
    check_can_erase,
    check_membership,
    check_records_keeper,
    check_self_or_records_keeper,
)
from domain.person import is_plain_address
from domain.values import ACTING, GONE, Level, Membership
from node.app.member_aims import AimsShown
from node.http.web.forms import FieldRefused, Form
from node.http.web.names import Names
from node.http.web.refusals import refusal
from node.http.web.visits import Member, MemberPost, PageRoute, Visit

router = APIRouter(route_class=PageRoute)

# The member API's operations these pages carry out (node.http.web.page_table).
OPERATIONS = {
    "GET /api/people": "/people",
    "POST /api/people": "/people",
    "GET /api/people/{person_id}/aims": "/people/{person_id}",
    "GET /api/member-aims": "/member-aims",
}

LEVELS = (
    (Level.FULL, "Full participant (consents and objects)"),
    (Level.LEARNING, "Learning participant"),
    (Level.GUEST, "Guest"),
)
WAITING = (Membership.APPLIED, Membership.TRIAL)

# The lengths the member API takes (node/http/api/circle.py, fields.py).
NAME_MOST, CONTACT_MOST, EMAIL_MOST, SAY_MOST = 200, 500, 254, 4_000


def said(form: Form, name: str, what: str, most: int) -> str:
    """A text field, refused beside itself when longer than the API takes."""
    value = form.get(name).strip()
    if len(value) > most:
        raise FieldRefused(name, f"The {what} is longer than {most} characters")
    return value


def allowed(*guards: Callable[[], object]) -> bool:
    """Whether the circle's guards would let this through (each raises when not)."""
    try:
        for guard in guards:
            guard()
    except DomainError:
        return False
    return True


def _entry(found: Visit, names: Names, participant: Any, hats: list[str]) -> dict[str, Any]:
    return {
        "id": participant.person_id,
        "name": names(participant.person_id),
        "level": participant.level,
        "status": participant.status,
        "since": participant.since,
        "hats": hats,
        "trial_sessions": participant.trial_sessions,
        "sessions_held": participant.sessions_held,
        "is_me": participant.person_id == found.person,
    }


def _people_page(found: Visit, status: int = 200, **extra: Any) -> Response:
    node = found.node
    circle = node.records.peek_circle()
    names = Names(node)
    groups: dict[str, list[dict[str, Any]]] = {"in": [], "applied": [], "trial": [], "gone": []}
    for participant in circle.participants.values():
        if "/" in participant.person_id:  # a linked circle's seat is not a person
            continue
        hats = [circle.hats[h].name for h in circle.hats_worn_by(participant.person_id)]
        entry = _entry(found, names, participant, hats)
        if participant.status == Membership.APPLIED:
            groups["applied"].append(entry)
        elif participant.status == Membership.TRIAL:
            groups["trial"].append(entry)
        elif participant.status in GONE:
            groups["gone"].append(entry)
        else:
            groups["in"].append(entry)
    me = found.person or ""
    return found.page(
        "people.html",
        status,
        groups=groups,
        levels=LEVELS,
        can_record=allowed(lambda: check_records_keeper(circle, me, "record an application")),
        **extra,
    )


@router.get("/people", include_in_schema=False)
def people_page(found: Member) -> Response:
    return _people_page(found)


@router.post("/people", include_in_schema=False)
def record_application(posted: MemberPost) -> Response:
    found, form = posted.visit, posted.form
    node = found.node
    email = form.get("email").strip()
    try:
        # As the member API: the secretary records it (while nobody wears that hat, any full
        # participant).
        check_records_keeper(node.records.peek_circle(), posted.person, "record an application")
        person_id = node.people.apply_to_join(
            said(form, "name", "name", NAME_MOST),
            form.get("level", Level.FULL),
            said(form, "contact", "contact", CONTACT_MOST),
            said(form, "email", "email address", EMAIL_MOST),
        )
    except DomainError as error:
        about = "email" if email and not is_plain_address(email) else "name"
        shown = refusal(error, "apply", form, main_field=about)
        return _people_page(found, shown.status, refused=shown)
    name = node.records.person_name(person_id)
    return found.redirect(
        f"/people/{person_id}",
        f"The application of {name} is recorded: start a trial, or admit them.",
    )


def _aims_entry(names: Names, shown: AimsShown) -> dict[str, Any]:
    return {
        "id": shown.person_id,
        "name": names(shown.person_id),
        "aims": shown.aims,
        "development_goals": shown.development_goals,
        "updated_on": shown.updated_on,
    }


@router.get("/member-aims", include_in_schema=False)
def member_aims_page(found: Member) -> Response:
    names = Names(found.node)
    assert found.person is not None
    everyone = [_aims_entry(names, s) for s in found.node.aims.circle_aims(found.person)]
    return found.page("member_aims.html", everyone=everyone)


def person_view(found: Visit, person_id: str) -> dict[str, Any]:
    """What a person's page shows, and which forms it offers the reader (`can`)."""
    node = found.node
    circle = node.records.peek_circle()
    if "/" in person_id:
        raise NotFound("This is a linked circle's seat, not a person: see the circle's page")
    participant = circle.participant(person_id)
    names = Names(node)
    me = found.person or ""
    mine = me == person_id
    hats = [circle.hats[h].name for h in circle.hats_worn_by(person_id)]

    def keeper() -> None:
        check_records_keeper(circle, me, "keep the records")

    def self_or_keeper() -> None:
        check_self_or_records_keeper(circle, me, person_id, "do this for someone else")

    def stage(*stages: str) -> Callable[[], None]:
        return lambda: check_membership(circle, person_id, set(stages), "do this")

    status = participant.status
    can = {
        "trial": allowed(keeper, stage(Membership.APPLIED)),
        "session": allowed(
            keeper,
            stage(Membership.TRIAL),
            lambda: trials.check_session_to_hold(participant),
        ),
        "admit": allowed(keeper, stage(*WAITING), lambda: trials.check_trial_over(participant)),
        "decline": allowed(self_or_keeper, stage(*WAITING)),
        "level": allowed(keeper, lambda: check_can_act(circle, person_id)),
        "step_back": allowed(self_or_keeper, stage(*ACTING)),
        "return": allowed(self_or_keeper, stage(Membership.STEPPED_BACK)),
        "leave": allowed(self_or_keeper, stage(*(set(Membership) - GONE))),
        "erase": allowed(lambda: check_can_erase(circle, me, person_id)),
        "tokens": status not in GONE and allowed(self_or_keeper),
        "issue": status not in GONE and allowed(keeper),
        "aims": mine and allowed(lambda: check_can_act(circle, me)),
    }
    aims = None
    if status not in GONE and allowed(lambda: check_can_act(circle, me)):
        aims = _aims_entry(names, node.aims.aims_of(me, person_id))
    return {
        "person": _entry(found, names, participant, hats),
        "mine": mine,
        "can": can,
        "levels": LEVELS,
        "aims": aims,
        "tokens": node.tokens.held(me, person_id) if can["tokens"] else [],
        "my_token": found.session.token_id if found.session and mine else None,
        "notes": {
            occasion: node.people.note_of_appreciation(person_id, occasion)
            for occasion in ("stepped_back", "left")
        },
    }


def person_page(found: Visit, person_id: str, status: int = 200, **extra: Any) -> Response:
    """A person's page; a step's refusal (`refused`) or a token shown once (`issued`) in
    `extra`."""
    return found.page("person.html", status, **person_view(found, person_id), **extra)


@router.get("/people/{person_id}", include_in_schema=False)
def person_details(found: Member, person_id: str) -> Response:
    return person_page(found, person_id)
