"""The circle among other circles: relationships, co-op policies that bind it, support, the
seats of the double link, and the transport peers (with equivocation alerts)."""

from __future__ import annotations

from datetime import date
from typing import Any

from eventsourcing.application import AggregateNotFoundError
from fastapi import APIRouter
from pydantic import BaseModel, Field

from domain.circle import Circle
from domain.relationships import Relationship
from domain.support import SupportRequest
from federation.feed import node_id
from node.app.node import CircleNode
from node.http.api.auth import Node, Person
from node.http.api.errors import ERROR_RESPONSES
from node.http.api.fields import Say
from node.http.api.paging import Page, Paging, page_of
from node.http.api.threaded import ThreadedRoute
from node.network.peers import Peer

router = APIRouter(route_class=ThreadedRoute, tags=["other circles"], responses=ERROR_RESPONSES)


class LegalEntityOut(BaseModel):
    registered_name: str
    number: str
    registry: str


class ConsentRequestOut(BaseModel):
    proposal: str = Field(description="The other circle's proposal id")
    round: int
    title: str
    text: str
    seat: str = Field(description="delegate or leader for a seat's request; empty for the circle")


class LinkedPerson(BaseModel):
    person_id: str
    name: str


class RelationshipOut(BaseModel):
    other: str = Field(description="The other circle's node id")
    name: str
    how: str = Field(description="How this circle came to know it")
    admitted_to_network: bool
    peering: str = Field(description="none, requested, asked, peers or ended")
    coop: str = Field(description="none, applying, applied, member_of, has_member or withdrawn")
    corporate: bool = Field(description="A corporate member (an incorporated circle)")
    corporate_pending: bool
    legal_entity: LegalEntityOut | None
    delegate: LinkedPerson | None
    leader: LinkedPerson | None
    proposed_leader: LinkedPerson | None
    consent_requests: list[ConsentRequestOut] = Field(
        description="The other circle's requests for this circle's consent, still to answer"
    )
    seat_requests: list[ConsentRequestOut] = Field(
        description="Requests to this circle's delegate or leader, still to answer"
    )
    refusals: list[str] = Field(description="Messages from it that did not fit, and why")


def relationship_out(node: CircleNode, circle: Circle, rel: Relationship) -> RelationshipOut:
    def linked(person: str | None) -> LinkedPerson | None:
        if person is None:
            return None
        if person in circle.participants:
            return LinkedPerson(person_id=person, name=node.records.person_name(person))
        return LinkedPerson(person_id=person, name=node.relations.remote_name(rel.other, person))

    def requests(held: dict[str, dict[str, Any]]) -> list[ConsentRequestOut]:
        return [
            ConsentRequestOut(
                proposal=key.rsplit(":", 1)[0],
                round=request["round"],
                title=request["title"],
                text=request["text"],
                seat=request["seat"],
            )
            for key, request in held.items()
        ]

    entity = rel.legal_entity
    return RelationshipOut(
        other=rel.other,
        name=rel.name,
        how=rel.how,
        admitted_to_network=rel.admitted_to_network,
        peering=str(rel.peering),
        coop=str(rel.coop),
        corporate=rel.corporate,
        corporate_pending=rel.corporate_pending,
        legal_entity=LegalEntityOut(**vars(entity)) if entity else None,
        delegate=linked(rel.delegate),
        leader=linked(rel.leader),
        proposed_leader=linked(rel.proposed_leader),
        consent_requests=requests(rel.consent_requests),
        seat_requests=requests(rel.seat_requests),
        refusals=list(rel.refusals),
    )


@router.get(
    "/relationships",
    summary="The circles this one knows: peering, co-op links, seats, requests, refusals",
)
def list_relationships(node: Node, by: Person, paging: Paging) -> Page[RelationshipOut]:
    circle = node.records.peek_circle()
    return page_of(
        [relationship_out(node, circle, r) for r in node.relations.relationships()], paging
    )


@router.get("/relationships/{other}", summary="This circle's relationship with another circle")
def get_relationship(node: Node, by: Person, other: str) -> RelationshipOut:
    return relationship_out(node, node.records.peek_circle(), node.relations.relationship(other))


# A co-op's policy as its wire record says it (node.network.messages.DecisionRecord, stored as
# received), with the co-op's id and name; tests/node/api/test_api_wire_records.py keeps the
# fields the record's.
class CoopPolicy(BaseModel):
    circle: str = Field(description="The co-op's node id")
    circle_name: str
    decision_id: str
    kind: str
    title: str
    text: str
    status: str
    effective: date
    review_date: date
    area: str | None = None
    hat_id: str | None = None
    term_end: date | None = None
    measures: list[str] = []
    binding: bool = False


@router.get(
    "/policies-from-coops",
    summary="Policies in force of the co-ops this circle is part of that bind it (paginated)",
)
def policies_from_coops(node: Node, by: Person, paging: Paging) -> Page[CoopPolicy]:
    return page_of([CoopPolicy(**p) for p in node.relations.policies_from_coops()], paging)


# Support between circles.


class Offer(BaseModel):
    circle: str
    text: str


class Reflection(BaseModel):
    circle: str = Field(description='"us" for this circle, else the other circle\'s node id')
    text: str


class SupportRequestOut(BaseModel):
    id: str
    ours: bool = Field(description="This circle asked; else another circle asked this one")
    origin: str | None = Field(description="The asking circle's node id (not ours)")
    origin_id: str | None = Field(description="The request's id at the asking circle")
    kind: str = Field(description="resources, experience, listening, people or helping_circle")
    text: str
    to: list[str] = Field(description='Circles asked (node ids), or ["network"]')
    status: str = Field(description="open, accepted, delivered or closed")
    offers: list[Offer] = Field(description="Offers received (ours)")
    accepted: str | None = Field(description="The circle whose offer was accepted")
    our_offer: str | None = Field(description="What this circle offered (theirs)")
    delivery: str | None
    reflections: list[Reflection]


def support_out(request: SupportRequest) -> SupportRequestOut:
    return SupportRequestOut(
        id=str(request.id),
        ours=request.is_ours,
        origin=request.origin,
        origin_id=request.origin_id,
        kind=str(request.kind),
        text=request.text,
        to=list(request.to),
        status=str(request.status),
        offers=[Offer(circle=c, text=t) for c, t in request.offers.items()],
        accepted=request.accepted,
        our_offer=request.our_offer,
        delivery=request.delivery,
        reflections=[Reflection(circle=c, text=t) for c, t in request.reflections.items()],
    )


@router.get(
    "/support-requests",
    summary="Requests for support: this circle's, and other circles' it was asked (paginated)",
)
def list_support_requests(node: Node, by: Person, paging: Paging) -> Page[SupportRequestOut]:
    return page_of([support_out(r) for r in node.support.support_requests()], paging)


@router.get("/support-requests/{request_id}", summary="One request for support")
def get_support_request(node: Node, by: Person, request_id: str) -> SupportRequestOut:
    return support_out(node.support.get_support_request(request_id))


class DeliveryIn(BaseModel):
    note: Say = Field(description="What was delivered")


@router.post(
    "/support-requests/{request_id}/delivery",
    summary="Record that the support was delivered (the secretary)",
)
def record_delivery(node: Node, by: Person, request_id: str, body: DeliveryIn) -> SupportRequestOut:
    node.support.record_support_delivery(by, request_id, body.note)
    return support_out(node.support.get_support_request(request_id))


class ReflectionIn(BaseModel):
    text: Say


@router.post(
    "/support-requests/{request_id}/reflection",
    summary="Record this circle's reflection on support delivered",
)
def reflect(node: Node, by: Person, request_id: str, body: ReflectionIn) -> SupportRequestOut:
    node.support.reflect_on_support(by, request_id, body.text)
    return support_out(node.support.get_support_request(request_id))


# The seats of the double link.


class SeatAnswerIn(BaseModel):
    consents: bool
    argument: Say = Field("", description="An objection's argument (required to object)")


@router.post(
    "/seats/{co_op}/{proposal}",
    summary="Answer a co-op's consent round from your seat (its delegate or leader)",
)
def answer_seat(
    node: Node, by: Person, co_op: str, proposal: str, body: SeatAnswerIn
) -> RelationshipOut:
    node.relations.answer_seat(by, co_op, proposal, body.consents, body.argument)
    return relationship_out(node, node.records.peek_circle(), node.relations.relationship(co_op))


# Transport peers.


class Equivocation(BaseModel):
    seq: int = Field(description="Where the peer signed two different entries")
    held: str = Field(description="The entry this node held (hex of the signed entry)")
    conflicting: str = Field(description="The conflicting entry (hex of the signed entry)")
    held_chain: str = Field(
        description="Empty when the held entry's own signature verifies; otherwise the held "
        "entries after it up to one whose signature does (hex of a MessagePack array of "
        "signed entries), which prove the peer signed it"
    )


class RetiredKeyUsed(BaseModel):
    seq: int = Field(description="Where an entry was signed with a key the peer retired since")
    held: str = Field(description="The entry this node holds there (hex of the signed entry)")
    conflicting: str = Field(description="The entry signed by the leaked key (hex)")


class Superseded(BaseModel):
    seq: int = Field(description="Where the peer's superseding rotation took over its feed")
    rotation: str = Field(description="The rotation (hex of the signed entry)")
    dropped: int = Field(description="How many of its entries held here it dropped (kept apart)")


class PeerOut(BaseModel):
    node_id: str
    name: str
    url: str
    status: str = Field(description="peer, applicant, joining or removed")
    stopped: bool = Field(description="Nothing more is taken from it: it equivocated")
    equivocation: Equivocation | None = Field(description="The proof, when it equivocated")
    retired_key: RetiredKeyUsed | None = Field(
        default=None, description="Evidence that a key it retired leaked (its feed goes on)"
    )
    superseded: Superseded | None = Field(
        default=None, description="The latest recovery of its feed (PROTOCOL.md 6.1)"
    )
    held_seq: int = Field(description="The last of its entries this node holds (0: none)")
    delivered_seq: int | None = Field(
        description="The last of this node's entries it acknowledged (none: nothing is owed it)"
    )


def peer_out(node: CircleNode, peer: Peer) -> PeerOut:
    try:
        held = node.peering.peer_feed(peer.feed_id).next_seq - 1
    except AggregateNotFoundError:
        held = 0
    try:
        delivered: int | None = node.outbox.delivery(peer.feed_id).next_seq - 1
    except AggregateNotFoundError:
        delivered = None  # an applicant: nothing goes to it until the circle admits it
    proof = None
    if peer.stopped and peer.equivocation_seq is not None:
        proof = Equivocation(
            seq=peer.equivocation_seq,
            held=(peer.equivocation_held or b"").hex(),
            conflicting=(peer.equivocation_conflicting or b"").hex(),
            held_chain=peer.equivocation_chain.hex(),
        )
    leaked = None
    if peer.retired_key_seq is not None:
        leaked = RetiredKeyUsed(
            seq=peer.retired_key_seq,
            held=(peer.retired_key_held or b"").hex(),
            conflicting=(peer.retired_key_conflicting or b"").hex(),
        )
    superseded = None
    if peer.superseded_seq is not None:
        superseded = Superseded(
            seq=peer.superseded_seq,
            rotation=(peer.superseded_rotation or b"").hex(),
            dropped=peer.superseded_dropped,
        )
    return PeerOut(
        node_id=node_id(peer.feed_id),
        name=peer.name,
        url=peer.url,
        status=peer.status,
        stopped=peer.stopped,
        equivocation=proof,
        retired_key=leaked,
        superseded=superseded,
        held_seq=held,
        delivered_seq=delivered,
    )


class PeersOut(Page[PeerOut]):
    equivocating: list[str] = Field(
        description="Alert: node ids of peers stopped for signing two histories"
    )


@router.get(
    "/peers",
    summary="The nodes this one exchanges feeds with; equivocating peers are flagged (paginated)",
)
def list_peers(node: Node, by: Person, paging: Paging) -> PeersOut:
    peers = [peer_out(node, p) for p in node.peering.peers()]
    page = page_of(peers, paging)
    return PeersOut(
        **page.model_dump(exclude={"items"}),
        items=page.items,
        equivocating=[p.node_id for p in peers if p.stopped],
    )
