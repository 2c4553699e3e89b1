"""The circle among others: the overview at `/` (anyone may read it), the network (/network:
relationships, peers, support, and where the acts toward other circles start: asking a node to
let this circle into its network, and the proposals about the circle among others) and the map
(/map) for members.

The overview and the network are one page: the same records, drawn by templates/network.html.
The overview leaves out what is for members only (the peers' addresses, how each circle was
met, to whom support was asked and what was said about it).
"""

from __future__ import annotations

import asyncio
from typing import Any

from fastapi import APIRouter
from fastapi.responses import HTMLResponse, Response

from domain.errors import DomainError
from federation.client import TransportError
from federation.feed import node_id
from federation.verify import Rejected
from federation.wire import is_base_url
from node.app.joining import check_may_ask_to_join, join_network
from node.app.node import CircleNode
from node.http.api.errors import STORE_UNAVAILABLE
from node.http.public_urls import public_url
from node.http.served_circle import served
from node.http.web import network_map
from node.http.web.forms import FieldRefused
from node.http.web.names import Names
from node.http.web.next_acts import allowed, circle_acts, may_propose
from node.http.web.refusals import refusal
from node.http.web.visits import Anyone, Member, MemberPost, PageRoute, Visit
from node.network.peers import PEER

router = APIRouter(route_class=PageRoute)

# The member API's operations these pages carry out (node.http.web.page_table).
OPERATIONS = {
    "GET /api/relationships": "/network",
    "GET /api/peers": "/network",
    "GET /api/support-requests": "/network",
    "GET /api/policies-from-coops": "/network",
}
# The overview is in the spec with the operations: like them, it answers 503 (from the app's
# handlers) when the store fails: problem details to a program, the error page to a browser
# (web/error_pages.py).
overview_router = APIRouter()


@overview_router.get("/", response_class=HTMLResponse, responses={503: STORE_UNAVAILABLE})
def home(found: Anyone) -> HTMLResponse:
    """The circle's view of the network."""
    node = found.node
    if not node.records.is_founded:
        return found.page("network.html", overview=True, circle=None)
    return found.page(
        "network.html",
        overview=True,
        circle=node.records.get_circle(),
        node_id=node.feed.node_id,
        **among_others(node),
    )


@router.get("/network", include_in_schema=False)
def network_page(found: Member) -> Response:
    return _network_page(found)


def _network_page(found: Visit, status: int = 200, **extra: Any) -> Response:
    node = found.node
    # Delivery runs beside the server (not in every process that serves pages): what it
    # knows of reaching each peer is shown where it runs.
    federator = served(found.request).federator
    head = node.feed.own_feed().head if node.feed.keys is not None else 0
    peers = []
    for peer in node.peering.peers() if node.feed.keys is not None else []:
        contact = federator.contact(peer.feed_id) if federator is not None else None
        # Nothing is owed to an applicant (it has no delivery until the circle admits it).
        owed = (
            head - (node.outbox.delivery(peer.feed_id).next_seq - 1) if peer.status == PEER else 0
        )
        peers.append(
            {
                "name": peer.name,
                "node_id": node_id(peer.feed_id),
                "url": peer.url,
                "status": peer.status,
                "stopped": peer.stopped,
                "seq": peer.equivocation_seq,
                "contact": contact,
                "last_contact": contact
                and contact.last_contact
                and node.records.local(contact.last_contact),
                "next_push": contact
                and contact.next_push
                and node.records.local(contact.next_push),
                "owed": max(owed, 0),
            }
        )
    circle = node.records.peek_circle()
    me = found.person or ""
    return found.page(
        "network.html",
        status,
        overview=False,
        circle=circle,
        peers=peers,
        acts=circle_acts(circle) if may_propose(circle, me) else [],
        can_join=node.feed.keys is not None and allowed(lambda: check_may_ask_to_join(node, me)),
        **among_others(node),
        **extra,
    )


@router.post("/network/join", include_in_schema=False)
def ask_to_join(posted: MemberPost) -> Response:
    """Ask the node at an address to admit this circle to its network (node/app/joining.py):
    its circle decides by consent, and its admission introduces this circle to the others."""
    found, form = posted.visit, posted.form
    node = found.node
    url = form.get("url").strip().rstrip("/")
    try:
        check_may_ask_to_join(node, posted.person)
        if not is_base_url(url):
            raise FieldRefused(
                "url", "Give the node's address, http:// or https://, e.g. https://coop.example"
            )
        try:
            asyncio.run(join_network(node, url, public_url(found.request), form.get("message")))
        except (TransportError, Rejected, ValueError) as error:
            raise FieldRefused("url", f"{url} could not be asked: {error}") from None
    except DomainError as error:
        shown = refusal(error, "join", form, main_field="message")
        return _network_page(found, shown.status, refused=shown)
    return found.redirect(
        "/network",
        f"Asked {url} to admit this circle to its network; its circle decides by consent.",
    )


def among_others(node: CircleNode) -> dict[str, Any]:
    """What the overview and the network page show alike: the circles this one knows and how,
    support between circles, and the policies of the co-op that bind this circle."""
    names = Names(node)
    relationships = [
        {
            "name": rel.name or rel.other,
            "other": rel.other,
            "how": rel.how,
            "description": network_map.describe(rel),
            "legal_name": rel.legal_entity.registered_name if rel.legal_entity else "",
            "delegate": rel.delegate is not None,
            "leader": rel.leader is not None,
            "refusals": rel.refusals,
        }
        for rel in node.relations.relationships()
    ]
    support = [
        {
            "id": str(request.id),
            "ours": request.is_ours,
            "origin": "this circle" if request.is_ours else names.circle(request.origin or ""),
            "kind": request.kind,
            "text": request.text,
            "status": request.status,
            "to": [
                "the whole network" if ref == "network" else names.circle(ref) for ref in request.to
            ],
            "offers": [
                {"from": names.circle(helper), "text": text}
                for helper, text in request.offers.items()
            ],
            "accepted": names.circle(request.accepted) if request.accepted else "",
            "our_offer": request.our_offer or "",
            "delivery": request.delivery or "",
            "reflections": [
                {"from": "this circle" if who == "us" else names.circle(who), "text": text}
                for who, text in request.reflections.items()
            ],
        }
        for request in node.support.support_requests()
    ]
    return {
        "relationships": relationships,
        "support": support,
        "policies": node.relations.policies_from_coops(),
    }


@router.get("/map", include_in_schema=False)
def map_page(found: Member) -> Response:
    node = found.node
    circle = node.records.peek_circle()
    stopped = {
        node_id(peer.feed_id)
        for peer in (node.peering.peers() if node.feed.keys is not None else [])
        if peer.stopped
    }
    return found.page(
        "map.html",
        circle=circle,
        centre_lines=network_map.centre_lines(circle.name),
        nodes=network_map.lay_out(node.relations.relationships(), stopped),
        styles=network_map.LINK_STYLES,
        width=network_map.WIDTH,
        height=network_map.HEIGHT,
        cx=network_map.CENTRE[0],
        cy=network_map.CENTRE[1],
        centre_radius=network_map.CENTRE_RADIUS,
    )
