"""Support between circles: /support/{request_id}, one request for support with its offers,
the offer accepted, the delivery and both circles' reflections.

Accepting an offer and offering support are consent decisions: links to the proposal form,
filled in (node/http/web/next_acts.py). Delivery and reflections are recorded here by a member
(delivery by the one who keeps the records; a reflection by anyone acting in the circle), as
the domain decides (domain/support.py).
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.responses import Response

from domain.errors import DomainError
from domain.membership import check_can_act, check_records_keeper
from domain.values import SupportStatus
from node.http.web.names import Names
from node.http.web.next_acts import allowed, may_propose, support_acts
from node.http.web.refusals import refusal
from node.http.web.visits import Member, MemberPost, PageRoute, Visit

router = APIRouter(route_class=PageRoute)

# The member API's operations these pages carry out (node.http.web.page_table).
OPERATIONS = {
    "GET /api/support-requests/{request_id}": "/support/{request_id}",
    "POST /api/support-requests/{request_id}/delivery": "/support/{request_id}",
    "POST /api/support-requests/{request_id}/reflection": "/support/{request_id}",
}


def _support_page(found: Visit, request_id: str, status: int = 200, **extra: Any) -> Response:
    node = found.node
    request = node.support.get_support_request(request_id)  # NotFound: a 404 page
    circle = node.records.peek_circle()
    names = Names(node)
    me = found.person or ""
    origin = request.origin or ""
    return found.page(
        "support.html",
        status,
        request=request,
        id=str(request.id),
        origin=names.circle(origin) if origin else "this circle",
        to=["the whole network" if ref == "network" else names.circle(ref) for ref in request.to],
        offers=[
            {"circle": helper, "name": names.circle(helper), "text": text}
            for helper, text in request.offers.items()
        ],
        accepted=names.circle(request.accepted) if request.accepted else "",
        reflections=[
            {"from": "This circle" if who == "us" else names.circle(who), "text": text}
            for who, text in request.reflections.items()
        ],
        acts=support_acts(request, names.circle) if may_propose(circle, me) else [],
        can_deliver=request.status == SupportStatus.ACCEPTED
        and allowed(lambda: check_records_keeper(circle, me, "record a delivery")),
        can_reflect=request.status == SupportStatus.DELIVERED
        and "us" not in request.reflections
        and allowed(lambda: check_can_act(circle, me)),
        **extra,
    )


@router.get("/support/{request_id}", include_in_schema=False)
def support_page(found: Member, request_id: str) -> Response:
    return _support_page(found, request_id)


@router.post("/support/{request_id}/delivery", include_in_schema=False)
def record_delivery(posted: MemberPost, request_id: str) -> Response:
    found, form = posted.visit, posted.form
    try:
        found.node.support.record_support_delivery(posted.person, request_id, form.get("note"))
    except DomainError as error:
        shown = refusal(error, "delivery", form, main_field="note")
        return _support_page(found, request_id, shown.status, refused=shown)
    return found.redirect(
        f"/support/{request_id}", "The delivery is recorded, and the other circle is told."
    )


@router.post("/support/{request_id}/reflection", include_in_schema=False)
def reflect(posted: MemberPost, request_id: str) -> Response:
    found, form = posted.visit, posted.form
    try:
        found.node.support.reflect_on_support(posted.person, request_id, form.get("text"))
    except DomainError as error:
        shown = refusal(error, "reflection", form, main_field="text")
        return _support_page(found, request_id, shown.status, refused=shown)
    return found.redirect(
        f"/support/{request_id}",
        "This circle's reflection is recorded, and the other circle is told.",
    )
