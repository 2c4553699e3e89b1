"""The circle among others: peers, relationships and support requests, and the map."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import Response

from federation.feed import node_id
from node.http.web import network_map
from node.http.web.names import Names
from node.http.web.visits import Member, PageRoute

router = APIRouter(route_class=PageRoute)


@router.get("/network", include_in_schema=False)
def network_page(found: Member) -> Response:
    node = found.node
    names = Names(node)
    relationships = node.relations.relationships()
    peers = [
        {
            "name": peer.name,
            "node_id": node_id(peer.feed_id),
            "url": peer.url,
            "status": peer.status,
            "stopped": peer.stopped,
            "seq": peer.equivocation_seq,
        }
        for peer in (node.peering.peers() if node.feed.keys is not None else [])
    ]
    support = []
    for request in node.relations.support_requests():
        support.append(
            {
                "ours": request.is_ours,
                "origin": "this circle" if request.is_ours else names.circle(request.origin or ""),
                "kind": request.kind,
                "text": request.text,
                "status": request.status,
                "to": [
                    "the whole network" if ref == "network" else names.circle(ref)
                    for ref in request.to
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
        )
    return found.page(
        "network.html",
        peers=peers,
        relationships=[
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
            for rel in relationships
        ],
        support=support,
        policies=node.relations.policies_from_coops(),
    )


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
