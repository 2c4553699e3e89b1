"""The circle's own pages: the circle and its people (where a forming circle's full
participants start its work, once it is ready) (decisions and reviews:
node.http.web.decision_pages; hats and selections: hat_pages, selection_pages; meetings:
meeting_pages)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.responses import Response

from domain.circle import Circle
from domain.errors import DomainError
from domain.formation import check_ready_to_start
from domain.hats import FACILITATOR
from domain.membership import check_full_participant
from domain.values import ACTING, GONE, CircleStatus, Level
from node.app.relations import LinkedSeat, is_linked_seat
from node.http.web.names import Names
from node.http.web.refusals import refusal
from node.http.web.visits import Member, MemberPost, PageRoute, Visit

router = APIRouter(route_class=PageRoute)

# The member API's operations these pages carry out (node.http.web.page_table).
OPERATIONS = {
    "GET /api/circle": "/circle",
    "POST /api/circle/activate": "/circle",
}


def facilitates(circle: Circle, person: str) -> bool:
    """Whether the circle's rules let this person run its processes: the facilitator, or
    any full participant while nobody wears that hat (as domain.membership decides)."""
    participant = circle.participants.get(person)
    if participant is None or participant.status not in ACTING:
        return False
    wearers = circle.wearers(FACILITATOR)
    return person in wearers if wearers else participant.level == Level.FULL


def _circle_page(found: Visit, status: int = 200, **extra: Any) -> Response:
    node = found.node
    circle = node.records.peek_circle()
    names = Names(node)
    people: list[dict[str, Any]] = []
    former: list[dict[str, Any]] = []
    seats: list[LinkedSeat] = []
    for participant in circle.participants.values():
        if is_linked_seat(participant.person_id):
            # A seat is not a person: shown apart, held or not, while its circle is part of
            # this one; a seat with no holder is not someone who left.
            held = node.relations.seat(participant.person_id)
            if held is not None and (held.member or participant.status in ACTING):
                seats.append(held)
            continue
        entry = {
            "id": participant.person_id,
            "name": names(participant.person_id),
            "level": participant.level,
            "status": participant.status,
            "since": participant.since,
            "hats": [circle.hats[h].name for h in circle.hats_worn_by(participant.person_id)],
            "is_me": participant.person_id == found.person,
        }
        (former if participant.status in GONE else people).append(entry)
    return found.page(
        "circle.html",
        status,
        circle=circle,
        parent=names.circle(circle.parent) if circle.parent else "",
        people=people,
        former=former,
        seats=seats,
        hats=[
            {"name": hat.name, "wearers": [names(p) for p in circle.wearers(hat.hat_id)]}
            for hat in circle.hats.values()
        ],
        node_id=node.feed.node_id if node.feed.keys is not None else "",
        **_activation(circle, found.person or ""),
        **extra,
    )


def _activation(circle: Circle, person: str) -> dict[str, Any]:
    """Whether the reader is offered to start a forming circle's work (a full participant
    may), and, while it cannot start yet, the circle's sentence saying why."""
    forming = circle.status == CircleStatus.FORMING
    try:
        check_full_participant(circle, person, "start the circle's work")
    except DomainError:
        forming = False
    not_ready = ""
    if forming:
        try:
            check_ready_to_start(circle)
        except DomainError as refusal:
            not_ready = str(refusal)
    return {"can_activate": forming, "not_ready": not_ready}


@router.get("/circle", include_in_schema=False)
def circle_page(found: Member) -> Response:
    return _circle_page(found)


@router.post("/circle/activate", include_in_schema=False)
def activate(posted: MemberPost) -> Response:
    found = posted.visit
    try:
        found.node.circle.activate_circle(posted.person)
    except DomainError as error:
        shown = refusal(error, "activate", posted.form)
        return _circle_page(found, shown.status, refused=shown)
    return found.redirect("/circle", "The circle is active: its work has started.")
