"""The circle's relationships with other circles, as commands and queries of the node.

Every step that binds the circle is a consent decision: a proposal of
the matching purpose, carried out here when it is consented (`carry_out_relation`), in the same
save as the message it causes. What other circles say arrives through `node.app.inbound`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any, TypeVar

from eventsourcing.application import AggregateNotFoundError
from eventsourcing.domain import Aggregate

from domain.circle import Circle
from domain.errors import InvalidRequest, NotFound, NotPermitted
from domain.hats import LEADER
from domain.membership import check_full_participant
from domain.proposal import Proposal
from domain.relationships import ADDED, APPLIED, Relationship, relationship_id
from domain.values import IN_FORCE, CoopLink, Purpose
from federation.feed import feed_id_from_node_id, node_id
from federation.wire import NodeDescriptor, Push
from node.app.peer_view import PeerView, RemotePerson, peer_view_id
from node.app.records import CircleRecords
from node.app.support import Support
from node.app.work import UnitOfWork
from node.network.own_feed import OwnFeedWriter
from node.network.peer_book import PeerBook
from node.network.peers import APPLICANT, JOINING, PEER
from node.store.application import NodeStore
from node.store.retry import retry_on_conflict

A = TypeVar("A", bound=Aggregate)
ASKED = "asked"  # this circle asked the other to let it join the network
RELATION_PURPOSES = frozenset(
    {
        Purpose.REQUEST_PEERING,
        Purpose.ACCEPT_PEERING,
        Purpose.END_PEERING,
        Purpose.ADMIT_TO_NETWORK,
        Purpose.APPLY_TO_COOP,
        Purpose.ADMIT_MEMBER,
        Purpose.PROPOSE_LEADER,
        Purpose.AGREE_LEADER,
        Purpose.ANSWER_CONSENT_REQUEST,
        Purpose.REQUEST_SUPPORT,
        Purpose.OFFER_SUPPORT,
        Purpose.ACCEPT_OFFER,
    }
)


def seat_of(other: str, role: str) -> str:
    """The participant id of another circle's delegate or leader seated in this circle."""
    return f"{other}/{role}"


def is_linked_seat(person_id: str) -> bool:
    """Whether a participant id is a linked circle's seat (`seat_of`), not a person."""
    return "/" in person_id


@dataclass(frozen=True)
class LinkedSeat:
    """A seat a linked circle's delegate or leader holds in this circle."""

    role: str
    circle: str  # the linked circle's name
    holder: str | None  # the holder's name, as their circle gave it; None while nobody holds it
    member: bool  # whether the linked circle is still part of this one (the seat stands)


class Relations:
    """The circle's relationships with other circles: queries, seat answers, and what
    consented relation proposals change."""

    def __init__(
        self,
        records: CircleRecords,
        store: NodeStore,
        peers: PeerBook,
        own: OwnFeedWriter,
        support: Support,
    ) -> None:
        self._records = records
        self._support = support
        self._store = store
        self._peers = peers
        self._own = own

    # Queries.

    def relationships(self) -> list[Relationship]:
        """The circle's relationships (as stored)."""
        return [
            self._records.get_record(Relationship, i, "relationship")
            for i in self._records.ids("relationship")
        ]

    def relationship(self, other: str) -> Relationship:
        if not self._records.is_founded:
            raise NotFound("This node has no circle yet")
        try:
            return self._records.get_record(
                Relationship, relationship_id(self._records.circle_id, other), "circle"
            )
        except NotFound:
            raise NotFound(f"This circle does not know the circle {other}") from None

    def policies_from_coops(self) -> list[dict[str, Any]]:
        """The policies in force of the co-ops this circle is part of that bind its circles."""
        policies = []
        for rel in self.relationships():
            if rel.coop != "member_of":
                continue
            view = self.peer_view(feed_id_from_node_id(rel.other))
            for decision in view.decisions.values() if view else ():
                if decision.get("binding") and decision["status"] in IN_FORCE:
                    policies.append({**decision, "circle": rel.other, "circle_name": rel.name})
        return policies

    def peer_view(self, feed_id: bytes) -> PeerView | None:
        try:
            return self._records.get_record(PeerView, peer_view_id(feed_id), "peer")
        except NotFound:
            return None

    def own_reference(self) -> str | None:
        """This circle's reference as other circles know it (its node id); None for a node
        without keys, which has no feed."""
        return self._own.node_id if self._own.is_federated else None

    def introduction_of(self, other: str) -> tuple[bytes, str]:
        """The signed inception (encoded) and the URL of a node, to introduce it to others."""
        feed_id = feed_id_from_node_id(other)
        (inception,) = self._store.feeds.select_entries(feed_id, -1, 1)
        peer = self._peers.peer(feed_id)
        return inception, peer.url if peer else ""

    def exchanging_with(self) -> list[tuple[str, str]]:
        """The nodes this one exchanges feeds with (peers, not stopped), as (node id, name)."""
        return [
            (node_id(peer.feed_id), peer.name)
            for peer in self._peers.peers()
            if peer.status == PEER and not peer.stopped and peer.url
        ]

    def remote_name(self, other: str, person: str) -> str:
        try:
            details = self._records.load(RemotePerson, RemotePerson.create_id(other, person))
        except AggregateNotFoundError:
            return "a former participant"
        return details.name

    def seat_name(self, seat: str) -> str:
        """Who sits in a linked seat now, as their circle named them."""
        held = self.seat(seat)
        if held is None:
            return seat
        return f"{held.holder or 'nobody yet'} ({held.role} of {held.circle})"

    def seat(self, seat: str) -> LinkedSeat | None:
        """A linked seat's role, its circle and its holder now; None for a circle not known."""
        other, role = seat.rsplit("/", 1)
        try:
            rel = self.relationship(other)
        except NotFound:
            return None
        person = rel.delegate if role == "delegate" else rel.leader
        holder = self.remote_name(other, person) if person else None
        return LinkedSeat(role, rel.name or other, holder, rel.coop == CoopLink.HAS_MEMBER)

    # Meeting other circles.

    def met(self, feed_id: bytes, name: str, how: str) -> list[Aggregate]:
        """A node became known: the circle records a relationship with it (once)."""
        if not self._records.is_founded:
            return []
        other = node_id(feed_id)
        if relationship_id(self._records.circle_id, other) in self._store.repository:
            return []
        circle = self._records.get_circle()
        index = self._records.index("relationship")
        how = {APPLICANT: APPLIED, JOINING: ASKED}.get(how, ADDED)
        rel = Relationship.meet(circle, other, name, how)
        index.file(rel.id)
        return [rel, index]

    def ask_to_join_network(
        self, descriptor: NodeDescriptor, url: str, own_url: str, message: str
    ) -> Push:
        """Ask the node at `url` to admit this circle to the network. Returns the push to send
        it (the circle's feed up to a join request addressed to it)."""
        if not self._records.is_founded:
            raise InvalidRequest("Found the circle before it asks to join the network")
        name = self._records.get_circle().name
        # Refused before the node is recorded as joining: a request too large to send.
        self._own.check_join(descriptor.feed, own_url, name, message)
        feed_id = self._peers.add_peer(descriptor, url, JOINING)
        return self._own.ask_to_join(feed_id, own_url, name, message)

    # Carrying out consented decisions about other circles.

    def is_relation(self, purpose: str) -> bool:
        """Whether a proposal of this purpose binds a relationship with another circle."""
        return purpose in RELATION_PURPOSES

    def check_relation_draft(self, purpose: str, subject: dict[str, Any]) -> None:
        """At drafting: the other circle, request or offer a proposal names must exist."""
        if purpose not in RELATION_PURPOSES:
            return
        # What the subject must name, and in what form, is checked by the domain when the
        # proposal is drafted; here only that what it names exists.
        other = subject.get("circle")
        if other:
            self.relationship(str(other))
        request = subject.get("request")
        if purpose == Purpose.ANSWER_CONSENT_REQUEST and other and request:
            round_number = subject.get("round", 1)
            if not isinstance(round_number, int) or isinstance(round_number, bool):
                raise InvalidRequest("The round answered is a number")
            self.relationship(str(other)).check_consent_request(str(request), round_number)
        if purpose in (Purpose.OFFER_SUPPORT, Purpose.ACCEPT_OFFER) and request:
            self._support.get_support_request(str(request))
        circles = subject.get("circles")
        if circles is not None:
            if not isinstance(circles, list) or not all(isinstance(c, str) for c in circles):
                raise InvalidRequest("Name the circles to ask as a list, or ask the network")
            for ref in circles:
                if ref != "network":
                    self.relationship(ref)

    def carry_out_relation(
        self, circle: Circle, proposal: Proposal, today: date
    ) -> list[Aggregate]:
        purpose, subject = proposal.purpose, proposal.subject
        if purpose in (Purpose.REQUEST_SUPPORT, Purpose.OFFER_SUPPORT, Purpose.ACCEPT_OFFER):
            return self._support.carry_out(circle, proposal)
        rel = self.relationship(str(subject["circle"]))
        changes: dict[str, Callable[[], object]] = {
            Purpose.REQUEST_PEERING: lambda: rel.request_peering(circle, proposal),
            Purpose.ACCEPT_PEERING: lambda: rel.accept_peering(circle, proposal),
            Purpose.END_PEERING: lambda: rel.end_peering(circle, proposal),
            Purpose.APPLY_TO_COOP: lambda: rel.apply_to_coop(circle, proposal),
            Purpose.ADMIT_MEMBER: lambda: rel.admit_member(circle, proposal),
            Purpose.PROPOSE_LEADER: lambda: rel.propose_leader(circle, proposal),
        }
        if purpose in changes:
            changes[purpose]()
            return [rel]
        if purpose == Purpose.ADMIT_TO_NETWORK:
            rel.admit_to_network(circle, proposal)
            return [rel, *self._peers.make_peer(feed_id_from_node_id(rel.other))]
        if purpose == Purpose.AGREE_LEADER:
            person = rel.agree_leader(circle, proposal)
            circle.put_on_hat(LEADER, person, today, today + timedelta(days=365), str(proposal.id))
            return [rel, circle]
        if purpose == Purpose.ANSWER_CONSENT_REQUEST:
            rel.answer_consent_request(
                str(subject["request"]),
                int(subject.get("round", 1)),
                bool(subject["consents"]),
                str(subject.get("argument") or ""),
            )
            return [rel]
        raise InvalidRequest(f"Nothing to carry out for {purpose}")

    def go_independent_from(self, circle: Circle, proposal: Proposal) -> list[Aggregate]:
        """Going its own way: the circle's status, and leaving the co-op it names (if any)."""
        circle.go_independent(proposal)
        other = proposal.subject.get("circle")
        if not other:
            return [circle]
        rel = self.relationship(str(other))
        rel.withdraw_from_coop(circle, proposal)
        return [circle, rel]

    # A step that is recorded, not decided: answering for a seat in the co-op.

    @retry_on_conflict
    def answer_seat(
        self, by: str, co_op: str, proposal: str, consents: bool, argument: str = ""
    ) -> None:
        """This circle's delegate or leader answers the co-op's consent round from here."""
        circle = self._records.get_circle()
        with UnitOfWork(self._records) as uow:
            rel = self.relationship(co_op)
            uow.add(rel)
            role = next((r for r in ("delegate", "leader") if circle.wears(by, r)), None)
            if role is None:
                raise NotPermitted("Only this circle's delegate or leader answers for its seat")
            check_full_participant(circle, by, "answer for a seat in the co-op")
            request = rel.seat_requests.get(f"{proposal}:{role}")
            if request is None:
                raise NotFound("The co-op has not asked this seat about that proposal")
            rel.answer_consent_request(proposal, request["round"], consents, argument, role, by)
