"""Erasure: a person who left asks for their personal data to go, here and on the co-ops that
hold copies; and what this node erases when another circle erases one of its people."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol
from uuid import UUID

from federation.feed import feed_id_from_node_id
from federation.verify import decode_entry, decode_signed_entry
from federation.wire import SignedEntry
from node.app.peer_view import RemotePerson
from node.app.work import UnitOfWork, Work
from node.network.messages import CIRCLE_SUMMARY, LINK_DELEGATE, LINK_LEADER_AGREED
from node.network.peers import Peer
from node.store.retry import retry_on_conflict as command

# Bodies this node publishes that can carry a person's name.
NAMING = frozenset({CIRCLE_SUMMARY, LINK_DELEGATE, LINK_LEADER_AGREED})


class Bodies(Protocol):
    """The store's bodies and entries, and deleting an aggregate's events for good."""

    def stored_bodies(self, digests: Sequence[bytes]) -> dict[bytes, tuple[bytes, list[bytes]]]: ...

    def erase_bodies(self, digests: Sequence[bytes]) -> int: ...

    def held_entries(self, feed_id: bytes) -> list[bytes]: ...

    def delete_aggregate(self, aggregate_id: UUID) -> None: ...


class OwnEntries(Protocol):
    """What erasure reads of the own feed."""

    @property
    def is_federated(self) -> bool: ...

    @property
    def feed_id(self) -> bytes: ...

    def own_entries(self, after: int, limit: int) -> list[SignedEntry]: ...


class KnownNodes(Protocol):
    def peers(self) -> list[Peer]: ...


class Erasure:
    """Erasing personal data while the record and the feeds stay whole and verifiable."""

    def __init__(self, work: Work, bodies: Bodies, own: OwnEntries, nodes: KnownNodes) -> None:
        self._work = work
        self._bodies = bodies
        self._own = own
        self._nodes = nodes

    @command
    def erase_person(self, by: str, person_id: str) -> int:
        """Erase the personal data of someone who left, here and, through a signed message,
        on the co-ops that hold copies. The record keeps their id; feeds still verify.
        Returns how many of this node's published bodies that named them were erased."""
        with UnitOfWork(self._work) as uow:
            named = self._bodies_naming(person_id)
            uow.circle().record_erasure(by, person_id, [digest.hex() for digest in named])
        self._bodies.erase_bodies(named)
        self._bodies.delete_aggregate(UUID(person_id))
        return len(named)

    def _bodies_naming(self, person_id: str) -> list[bytes]:
        """Hashes of the bodies this node published that carry someone's name."""
        if not self._own.is_federated:
            return []  # a node that is not federated published nothing
        wanted: list[bytes] = []
        for signed in self._own.own_entries(0, 2**31):
            entry = decode_entry(signed)
            if entry.type in NAMING and entry.body_hash:
                wanted.append(entry.body_hash)
        found = []
        for digest, (data, _) in self._bodies.stored_bodies(wanted).items():
            if person_id.encode() in data:
                found.append(digest)
        return found

    def erase_remote_person(self, other: str, person: str, bodies: list[bytes]) -> None:
        """Another circle erased one of its people on their request: erase what we hold. Only
        bodies that circle's own entries bind are erased, and none that another feed binds too
        (a body is stored once for every entry naming its hash)."""
        feed_id = feed_id_from_node_id(other)
        wanted = set(bodies) & self._bound_by(feed_id)
        if wanted:
            others = [self._own.feed_id] if self._own.is_federated else []
            others += [p.feed_id for p in self._nodes.peers() if p.feed_id != feed_id]
            for other_feed in others:
                wanted -= self._bound_by(other_feed)
        self._bodies.erase_bodies(sorted(wanted))
        self._bodies.delete_aggregate(RemotePerson.create_id(other, person))

    def _bound_by(self, feed_id: bytes) -> set[bytes]:
        """The body hashes the entries held of a feed bind."""
        return {
            entry.body_hash
            for entry in (
                decode_entry(decode_signed_entry(raw)) for raw in self._bodies.held_entries(feed_id)
            )
            if entry.body_hash
        }
