"""What taking another circle's entries needs of the node (`Receiving`), and the context of
one run of them (`RunContext`): the aggregates the run touches, each loaded once from its batch.
The handlers that use them are in node/app/inbound.py."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date, datetime
from typing import Any, Protocol
from uuid import UUID

from eventsourcing.domain import Aggregate

from domain.appeal import Appeal
from domain.circle import Circle
from domain.consent import ConsentProcess
from domain.decision import Decision
from domain.errors import DomainError
from domain.proposal import Proposal
from domain.register import Index, index_id
from domain.relationships import INTRODUCED, Relationship, relationship_id
from domain.rules import local_date
from domain.support import SupportRequest
from federation.feed import feed_id_from_node_id, node_id
from federation.wire import Entry, SignedEntry
from node.app.held_messages import HELD_MESSAGES_ID, HeldMessages
from node.app.peer_view import PeerView, RemotePerson, peer_view_id
from node.network.batch import Batch
from node.network.peers import Peer

RunEntry = tuple[Entry, bytes | None]  # an entry of a run, with its body if it came with it


class Erased(Protocol):
    """What to erase of another circle's person: bodies by hash, and their kept details."""

    @property
    def bodies(self) -> list[bytes]: ...

    @property
    def details(self) -> UUID: ...


class RemoteErasure(Protocol):
    def erase_remote_person(
        self, other: str, person: str, listed: Sequence[bytes], arriving: Sequence[RunEntry]
    ) -> Erased: ...


class Receiving(Protocol):
    """What taking another circle's entries needs of the node."""

    @property
    def erasure(self) -> RemoteErasure: ...

    @property
    def circle_id(self) -> UUID: ...

    @property
    def is_founded(self) -> bool: ...

    @property
    def node_id(self) -> str: ...

    clock: Callable[[], datetime]

    # Raises WontSign if an own entry that changes of these aggregates cause cannot be signed.
    check_outgoing: Callable[[Sequence[Aggregate]], None]

    def get_circle(self) -> Circle: ...

    def make_peer(self, feed_id: bytes) -> list[Aggregate]: ...

    def follow(self, inception: SignedEntry, url: str, name: str, batch: Batch) -> bytes | None: ...

    def release_held(self) -> None: ...


class RunContext:
    """One run of entries from one peer: the aggregates it touches, loaded once."""

    def __init__(
        self, node: Receiving, sender: Peer, batch: Batch, run: Sequence[RunEntry] = ()
    ) -> None:
        self.node = node
        self.sender = sender
        self.batch = batch
        self.run = run
        self.other = node_id(sender.feed_id)
        self.me = node.node_id
        self.now = node.clock()
        self.admitted = False  # this run admitted this node (an introduction of it)
        # Whether the node has a circle, asked once a run: no message of a peer founds one, and
        # an unfounded node's answer is a read of the store (for each of the run's entries).
        self.founded = node.is_founded

    @property
    def today(self) -> date:
        """The date in the circle's time zone, when the run began."""
        return local_date(self.circle().rules, self.now)

    def circle(self) -> Circle:
        return self.batch.get(self.node.circle_id, self.node.get_circle)

    def held(self) -> HeldMessages:
        return self.batch.get(HELD_MESSAGES_ID, HeldMessages)

    def index(self, kind: str) -> Index:
        return self.batch.get(index_id(kind), lambda: Index(kind=kind))

    def relationship(self, other: str | None = None, name: str = "") -> Relationship:
        other = other or self.other
        rel_id = relationship_id(self.node.circle_id, other)

        def meet() -> Relationship:
            rel = Relationship.meet(self.circle(), other, name, INTRODUCED)
            self.index("relationship").file(rel.id)
            return rel

        return self.batch.get(rel_id, meet)

    def view(self) -> PeerView:
        feed_id = feed_id_from_node_id(self.other)
        return self.batch.get(peer_view_id(feed_id), lambda: PeerView(feed_id=feed_id))

    def proposal(self, proposal_id: str) -> Proposal:
        proposal = self.batch.get(_uuid(proposal_id), lambda: _missing("proposal"))
        if not isinstance(proposal, Proposal):
            raise DomainError("That is not a proposal of this circle")
        return proposal

    def process(self, process_id: str) -> ConsentProcess:
        """A proposal or a hat selection of this circle (both have consent rounds)."""
        process = self.batch.get(_uuid(process_id), lambda: _missing("proposal or selection"))
        if not isinstance(process, ConsentProcess):
            raise DomainError("That is not a proposal or a hat selection of this circle")
        return process

    def support(self, request_id: str, create: Callable[[], Any] | None = None) -> SupportRequest:
        request = self.batch.get(_uuid(request_id), create or (lambda: _missing("request")))
        if not isinstance(request, SupportRequest):
            raise DomainError("That is not a request for support")
        return request

    def decision(self, decision_id: str) -> Decision:
        decision = self.batch.get(_uuid(decision_id), lambda: _missing("decision"))
        if not isinstance(decision, Decision):
            raise DomainError("That is not a decision of this circle")
        return decision

    def appeal(self, appeal_id: str) -> Appeal:
        appeal = self.batch.get(_uuid(appeal_id), lambda: _missing("appeal"))
        if not isinstance(appeal, Appeal):
            raise DomainError("That is not an appeal of this circle")
        return appeal

    def name(self, person: str, name: str) -> None:
        """Keep the name another circle gave for one of its people (erasable on request)."""
        if not name:
            return
        person_id = RemotePerson.create_id(self.other, person)
        details = self.batch.get(
            person_id, lambda: RemotePerson(other=self.other, person=person, name=name)
        )
        if details.name != name:
            details.rename(name)


def _uuid(value: str) -> Any:
    try:
        return UUID(value)
    except ValueError:
        raise DomainError("That names nothing here") from None


def _missing(what: str) -> Any:
    raise DomainError(f"No such {what} here")
