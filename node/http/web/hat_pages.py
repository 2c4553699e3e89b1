"""The circle's hats: the list with the terms ending and a form to define a hat, and each hat's
page, where its terms are renewed, it is taken off someone, and its back-stop is named.

Each form is offered to those the circle's rules would let use it (a full participant defines
a hat; the secretary, or any full participant while nobody wears that hat, records renewals
and back-stops; a wearer takes their own hat off, the secretary anyone's); the domain decides.
A refusal draws the page again with the domain's sentence beside the field it is about.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from functools import partial
from typing import Any

from fastapi import APIRouter
from fastapi.responses import Response

from domain.circle import Circle
from domain.errors import DomainError
from domain.membership import (
    check_facilitator,
    check_full_participant,
    check_records_keeper,
    check_self_or_records_keeper,
)
from domain.values import ACTING, FINAL_STAGES, HatKind, Level
from node.app.relations import is_linked_seat
from node.http.web.forms import FieldRefused, Form
from node.http.web.names import Names
from node.http.web.refusals import Refusal, refusal
from node.http.web.visits import Member, MemberPost, PageRoute, Visit

router = APIRouter(route_class=PageRoute)

SOON_DAYS = 30

# The member API's operations these pages carry out (node.http.web.page_table).
OPERATIONS = {
    "GET /api/hats": "/hats",
    "GET /api/terms-ending": "/hats",
    "POST /api/hats": "/hats",
    "GET /api/hats/{hat_id}": "/hats/{hat_id}",
    "POST /api/hats/{hat_id}/renewals": "/hats/{hat_id}",
    "POST /api/hats/{hat_id}/take-off": "/hats/{hat_id}",
    "POST /api/hats/{hat_id}/back-stop": "/hats/{hat_id}",
    "DELETE /api/hats/{hat_id}/back-stop": "/hats/{hat_id}",
}

KINDS = (
    (HatKind.OPERATIONAL, "Operational: its wearer decides in its domain"),
    (HatKind.PROCESS, "Process: it runs the circle's process"),
    (HatKind.TEAM, "Team"),
)


def allowed(check: Callable[[], object]) -> bool:
    """Whether the domain's own check lets this be done (a form is offered only then)."""
    try:
        check()
    except DomainError:
        return False
    return True


def keeps_records(circle: Circle, person: str) -> bool:
    """The secretary, or any full participant while nobody wears that hat (domain.membership)."""
    return allowed(lambda: check_records_keeper(circle, person, "keep the records"))


def facilitates(circle: Circle, person: str) -> bool:
    """The facilitator, or any full participant while nobody wears that hat."""
    return allowed(lambda: check_facilitator(circle, person, "facilitate"))


def is_full(circle: Circle, person: str) -> bool:
    return allowed(lambda: check_full_participant(circle, person, "decide"))


def people_who_may_wear(circle: Circle, names: Names) -> list[tuple[str, str]]:
    """The people a form offers for a hat (acting participants who are not guests), as
    (id, name) options; the domain still decides who may wear which hat."""
    return sorted(
        (
            (p.person_id, names(p.person_id))
            for p in circle.participants.values()
            if p.status in ACTING and p.level != Level.GUEST and not is_linked_seat(p.person_id)
        ),
        key=lambda option: option[1],
    )


def field_named(error: DomainError, fields: dict[str, str], default: str) -> str:
    """The field of a form with several that a refusal's sentence is about: the first of
    `fields` (a word of the sentence -> the field) whose word it uses, or else `default`."""
    sentence = str(error).lower()
    return next((field for word, field in fields.items() if word in sentence), default)


# Where a refusal of the form defining a hat is shown, by a word of its sentence.
DEFINE_FIELDS = {
    "hat kind": "kind",
    "purpose": "purpose",
    "domain": "domain",
    "term": "default_term_months",
}


def hat_name(circle: Circle, hat_id: str) -> str:
    hat = circle.hats.get(hat_id)
    return hat.name if hat is not None else hat_id


# The list of hats.


def _hats_page(found: Visit, status: int = 200, **extra: Any) -> Response:
    node = found.node
    circle = node.records.peek_circle()
    names = Names(node)
    today = node.records.today()
    hats = [
        {
            "id": hat.hat_id,
            "name": hat.name,
            "kind": hat.kind,
            "purpose": hat.purpose,
            "default_term_months": hat.default_term_months,
            "terms": [
                {
                    "name": names(t.person_id),
                    "review_date": t.review_date,
                    "ending": t.review_date <= today + timedelta(days=SOON_DAYS),
                }
                for t in circle.terms
                if t.hat_id == hat.hat_id
            ],
        }
        for hat in circle.hats.values()
    ]
    ending = [
        {
            "hat_id": t.hat_id,
            "hat": hat_name(circle, t.hat_id),
            "name": names(t.person_id),
            "review_date": t.review_date,
            "overdue": t.review_date <= today,
        }
        for t in node.hats.hat_terms_ending(SOON_DAYS)
    ]
    selections = [
        {
            "id": str(s.id),
            "hat": hat_name(circle, s.hat_id),
            "stage": s.stage,
            "candidate": names(s.candidate) if s.candidate else "",
            "review_date": s.review_date,
        }
        for s in node.records.list_selections()
        if s.stage not in FINAL_STAGES
    ]
    return found.page(
        "hats.html",
        status,
        hats=hats,
        ending=ending,
        selections=selections,
        soon_days=SOON_DAYS,
        kinds=KINDS,
        can_define=is_full(circle, found.person or ""),
        **extra,
    )


@router.get("/hats", include_in_schema=False)
def hats_page(found: Member) -> Response:
    return _hats_page(found)


def _lines(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip()]


@router.post("/hats", include_in_schema=False)
def define_hat(posted: MemberPost) -> Response:
    found, form = posted.visit, posted.form
    try:
        hat_id = found.node.hats.define_hat(
            posted.person,
            form.get("name"),
            form.get("purpose"),
            _lines(form.get("accountabilities")),
            _lines(form.get("domain")),
            form.number("default_term_months", "the term, in months"),
            form.get("kind", HatKind.OPERATIONAL),
        )
    except DomainError as error:
        shown = refusal(error, "define", form, field_named(error, DEFINE_FIELDS, "name"))
        return _hats_page(found, shown.status, refused=shown)
    return found.redirect(f"/hats/{hat_id}", "The hat is defined. Select who wears it.")


# One hat.


def hat_view(found: Visit, hat_id: str) -> dict[str, Any]:
    """What a hat's page shows, and which forms it offers this person."""
    node = found.node
    circle = node.records.peek_circle()
    hat = circle.hat(hat_id)  # NotFound: a 404 page
    names = Names(node)
    me = found.person or ""
    keeper = keeps_records(circle, me)
    stops = node.hats.back_stops()
    recorded = stops.by_hat.get(hat_id) if stops is not None else None
    steps_in = stops.back_stop(circle, hat_id) if stops is not None else None
    wearers = circle.wearers(hat_id)
    return {
        "hat": hat,
        "terms": [
            {
                "person_id": t.person_id,
                "name": names(t.person_id),
                "started": t.started,
                "review_date": t.review_date,
                "selection_id": t.selection_id,
                "mine": t.person_id == me,
                "can_renew": keeper,
                "can_take_off": allowed(
                    partial(check_self_or_records_keeper, circle, me, t.person_id, "take off")
                ),
            }
            for t in circle.terms
            if t.hat_id == hat_id
        ],
        "back_stop": names(steps_in) if steps_in else "",
        "recorded_back_stop": names(recorded) if recorded and recorded != steps_in else "",
        "selections": [
            {
                "id": str(s.id),
                "stage": s.stage,
                "candidate": names(s.candidate) if s.candidate else "",
                "review_date": s.review_date,
            }
            for s in node.records.list_selections()
            if s.hat_id == hat_id
        ],
        "back_stop_options": [
            option for option in people_who_may_wear(circle, names) if option[0] not in wearers
        ],
        "can": {
            "back_stop": keeper,
            "clear_back_stop": keeper and recorded is not None,
            "select": facilitates(circle, me),
        },
    }


def _hat_page(found: Visit, hat_id: str, status: int = 200, **extra: Any) -> Response:
    return found.page("hat.html", status, **hat_view(found, hat_id), **extra)


@router.get("/hats/{hat_id}", include_in_schema=False)
def hat_page(found: Member, hat_id: str) -> Response:
    return _hat_page(found, hat_id)


def _refused(
    found: Visit, hat_id: str, error: DomainError, name: str, form: Form, field: str
) -> Response:
    """The hat's page again, with the refusal of its form `name`."""
    shown: Refusal = refusal(error, name, form, main_field=field)
    return _hat_page(found, hat_id, shown.status, refused=shown)


@router.post("/hats/{hat_id}/renewals", include_in_schema=False)
def renew(posted: MemberPost, hat_id: str) -> Response:
    found, form = posted.visit, posted.form
    person = form.get("person_id")
    hat = found.node.records.peek_circle().hat(hat_id)
    try:
        review_date = form.day("review_date", "new review date")
        if review_date is None:
            raise FieldRefused("review_date", "Give the new review date")
        found.node.hats.renew_hat(posted.person, hat_id, person, review_date)
    except DomainError as error:
        return _refused(found, hat_id, error, f"renew-{person}", form, "review_date")
    name = found.node.records.person_name(person)
    return found.redirect(
        f"/hats/{hat_id}", f"{name}'s term as {hat.name.lower()} is renewed until {review_date}."
    )


@router.post("/hats/{hat_id}/take-off", include_in_schema=False)
def take_off(posted: MemberPost, hat_id: str) -> Response:
    found, form = posted.visit, posted.form
    person = form.get("person_id")
    view = hat_view(found, hat_id)
    term = next((t for t in view["terms"] if t["person_id"] == person), None)
    if form.get("confirmed") != "yes" and term is not None and term["can_take_off"]:
        # A consequential step: asked once more, with what will happen.
        return found.page(
            "take_off.html",
            hat=view["hat"],
            term=term,
            reason=form.get("reason"),
        )
    try:
        found.node.hats.take_off_hat(posted.person, hat_id, person, form.get("reason"))
    except DomainError as error:
        return _refused(found, hat_id, error, f"take-off-{person}", form, "reason")
    name = found.node.records.person_name(person)
    return found.redirect(
        f"/hats/{hat_id}", f"The {view['hat'].name.lower()} hat is taken off {name}."
    )


@router.post("/hats/{hat_id}/back-stop", include_in_schema=False)
def name_back_stop(posted: MemberPost, hat_id: str) -> Response:
    found, form = posted.visit, posted.form
    person = form.get("person_id")
    try:
        found.node.hats.name_back_stop(posted.person, hat_id, person)
    except DomainError as error:
        return _refused(found, hat_id, error, "back-stop", form, "person_id")
    name = found.node.records.person_name(person)
    return found.redirect(f"/hats/{hat_id}", f"{name} is recorded as the hat's back-stop.")


@router.post("/hats/{hat_id}/back-stop/clear", include_in_schema=False)
def clear_back_stop(posted: MemberPost, hat_id: str) -> Response:
    found, form = posted.visit, posted.form
    try:
        found.node.hats.clear_back_stop(posted.person, hat_id)
    except DomainError as error:
        return _refused(found, hat_id, error, "clear-back-stop", form, "")
    return found.redirect(f"/hats/{hat_id}", "The hat has no back-stop any more.")
