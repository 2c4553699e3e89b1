"""Another circle, seen from this one: /circles/{other}, the relationship (joining the
network, peering, being part of a co-op, the seats of the double link, requests for this
circle's consent, support between the two) and the next acts it allows, each a link to the
proposal form of its purpose, filled in (node/http/web/next_acts.py).

A co-op's consent round asks the seats of its member circles too: the delegate or leader who
holds a seat answers it here, for their seat (`POST /circles/{other}/seats/{proposal}`).
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.responses import Response

from domain.errors import DomainError
from domain.hats import DELEGATE, LEADER
from domain.relationships import Relationship
from domain.support import SupportRequest
from domain.values import CoopLink, Purpose
from node.app.node import CircleNode
from node.http.web.names import Names
from node.http.web.network_map import describe
from node.http.web.next_acts import Act, may_propose, propose, relationship_acts
from node.http.web.refusals import refusal
from node.http.web.visits import Member, MemberPost, PageRoute, Visit

router = APIRouter(route_class=PageRoute)

# The member API's operations these pages carry out (node.http.web.page_table).
OPERATIONS = {
    "GET /api/relationships/{other}": "/circles/{other}",
    "POST /api/seats/{co_op}/{proposal}": "/circles/{other}",
}

# How this circle came to know the other (domain/relationships.py), for a member.
MET = {
    "admitted": "this circle admitted it to the network",
    "introduced": "a circle this one trusts introduced it",
    "added": "an operator added its node",
    "applied": "it asked to join the network through this circle",
    "asked": "this circle asked it to be let into the network",
}


def between(node: CircleNode, other: str) -> list[SupportRequest]:
    """Requests for support between this circle and the other, either way."""
    return [
        request
        for request in node.support.support_requests()
        if request.origin == other
        or other in request.to
        or other in request.offers
        or request.accepted == other
    ]


def leaders_to_propose(node: CircleNode, rel: Relationship) -> list[Act]:
    """For a member circle, the people this circle knows of it (the wearers of its hats, as
    its records say), each a proposal to make them its leader (the double link)."""
    if rel.coop != CoopLink.HAS_MEMBER:
        return []
    records = node.linked.linked_circle(rel.other).records
    wearers = {
        wearer["person"]: wearer["name"]
        for hat in records.get("hats", [])
        for wearer in hat["wearers"]
    }
    return [
        Act(
            f"Propose {name} as its leader",
            propose(Purpose.PROPOSE_LEADER, circle=rel.other, person=person),
        )
        for person, name in wearers.items()
        if person != rel.leader
    ]


def _relation_page(found: Visit, other: str, status: int = 200, **extra: Any) -> Response:
    node = found.node
    rel: Relationship = node.relations.relationship(other)  # NotFound: a 404 page
    circle = node.records.peek_circle()
    names = Names(node)
    me = found.person or ""
    worn = {role for role in (DELEGATE, LEADER) if circle.wears(me, role)}

    def linked(person: str | None) -> str:
        if person is None:
            return ""
        if person in circle.participants:
            return names(person)
        return node.relations.remote_name(other, person)

    seats = [
        {
            "proposal": key.rsplit(":", 1)[0],
            "title": request["title"],
            "text": request["text"],
            "round": request["round"],
            "seat": request["seat"],
            "mine": request["seat"] in worn,
        }
        for key, request in rel.seat_requests.items()
    ]
    support = [
        {
            "id": str(request.id),
            "ours": request.is_ours,
            "kind": request.kind,
            "text": request.text,
            "status": request.status,
        }
        for request in between(node, other)
    ]
    return found.page(
        "relation.html",
        status,
        rel=rel,
        name=rel.name or other,
        description=describe(rel),
        met=MET.get(rel.how, rel.how),
        delegate=linked(rel.delegate),
        leader=linked(rel.leader),
        proposed_leader=linked(rel.proposed_leader),
        consent_requests=[
            {"proposal": key.rsplit(":", 1)[0], **request}
            for key, request in rel.consent_requests.items()
        ],
        seats=seats,
        support=support,
        acts=[*relationship_acts(circle, rel), *leaders_to_propose(node, rel)]
        if may_propose(circle, me)
        else [],
        **extra,
    )


@router.get("/circles/{other}", include_in_schema=False)
def relation_page(found: Member, other: str) -> Response:
    return _relation_page(found, other)


@router.post("/circles/{other}/seats/{proposal}", include_in_schema=False)
def answer_seat(posted: MemberPost, other: str, proposal: str) -> Response:
    found, form = posted.visit, posted.form
    name = f"seat-{proposal}"
    # The form's two buttons: "consent", or else an objection (whose argument the domain
    # requires).
    consents = form.get("answer") == "consent"
    try:
        found.node.relations.answer_seat(
            posted.person, other, proposal, consents, form.get("argument")
        )
    except DomainError as error:
        shown = refusal(error, name, form, main_field="argument")
        return _relation_page(found, other, shown.status, refused=shown)
    said = "consent" if consents else "objection"
    return found.redirect(f"/circles/{other}", f"Your seat's {said} is sent to the co-op.")
