"""Erasure: a person who left asks for their personal data to go, here and on the co-ops that
hold copies; and what this node erases when another circle erases one of its people.

Either way the erasure is part of one save (the command's, or the run's that brings the
`person.erased`): the bodies and the personal details are deleted in its transaction, after
what it stores, and only if it is stored (node/store/application.py, `save`)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Protocol
from uuid import UUID

from domain.appeal import Appeal
from domain.member_aims import member_aims_id
from federation.feed import feed_id_from_node_id
from federation.verify import decode_entry, decode_signed_entry
from federation.wire import Entry, SignedEntry
from node.app.appeals import appeals_of
from node.app.peer_view import RemotePerson
from node.app.work import UnitOfWork, Work
from node.network.messages import NAMING, names_person
from node.network.peers import Peer
from node.store.retry import retry_on_conflict as command


class Bodies(Protocol):
    """The store's bodies and the entries held of each feed."""

    def stored_data(self, digests: Sequence[bytes]) -> dict[bytes, bytes]: ...

    def held_entries(self, feed_id: bytes) -> list[bytes]: ...


class OwnEntries(Protocol):
    """What erasure reads of the own feed."""

    @property
    def is_federated(self) -> bool: ...

    @property
    def feed_id(self) -> bytes: ...

    def own_entries(self, after: int, limit: int) -> list[SignedEntry]: ...


class KnownNodes(Protocol):
    def peers(self) -> list[Peer]: ...


@dataclass(frozen=True)
class ToErase:
    """What to erase here when another circle erased one of its people: the bodies of its
    feed that named them, and the details kept of them (their name)."""

    bodies: list[bytes]
    details: UUID


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
            # Their appeals keep that someone appealed, not who or what they wrote.
            for appeal in list(appeals_of(person_id, self._work.all("appeal", Appeal))):
                uow.record(Appeal, appeal.id, "appeal").erase_appellant(person_id)
            # Their personal details and their aims and development goals.
            uow.erase(named, [UUID(person_id), member_aims_id(person_id)])
        return len(named)

    def _bodies_naming(self, person_id: str) -> list[bytes]:
        """Hashes of the bodies this node published that name someone."""
        if not self._own.is_federated:
            return []  # a node that is not federated published nothing
        entries = [decode_entry(signed) for signed in self._own.own_entries(0, 2**31)]
        return _naming(entries, {}, self._bodies.stored_data, person_id)

    def erase_remote_person(
        self,
        other: str,
        person: str,
        listed: Sequence[bytes],
        arriving: Sequence[tuple[Entry, bytes | None]] = (),
    ) -> ToErase:
        """Another circle erased one of its people on their request: what to erase of what we
        hold, or take with the request (`arriving`: the entries of the run, whose bodies are
        not stored yet). Only the listed bodies that the other circle's own entries bind, that
        no other feed binds too (a body is stored once for every entry naming its hash), and
        that name the person."""
        feed_id = feed_id_from_node_id(other)
        entries = [
            decode_entry(decode_signed_entry(raw)) for raw in self._bodies.held_entries(feed_id)
        ]
        entries += [entry for entry, _ in arriving]
        brought = {entry.body_hash: body for entry, body in arriving if body is not None}
        wanted = set(listed)
        theirs = [entry for entry in entries if entry.body_hash in wanted]
        if theirs:
            others = [self._own.feed_id] if self._own.is_federated else []
            others += [p.feed_id for p in self._nodes.peers() if p.feed_id != feed_id]
            bound_elsewhere = set().union(*(self._bound_by(f) for f in others))
            theirs = [entry for entry in theirs if entry.body_hash not in bound_elsewhere]
        bodies = _naming(theirs, brought, self._bodies.stored_data, person)
        return ToErase(bodies, RemotePerson.create_id(other, person))

    def _bound_by(self, feed_id: bytes) -> set[bytes]:
        """The body hashes the entries held of a feed bind."""
        return {
            entry.body_hash
            for entry in (
                decode_entry(decode_signed_entry(raw)) for raw in self._bodies.held_entries(feed_id)
            )
            if entry.body_hash
        }


def _naming(
    entries: Iterable[Entry],
    arriving: dict[bytes, bytes],
    stored: Callable[[Sequence[bytes]], dict[bytes, bytes]],
    person: str,
) -> list[bytes]:
    """The hashes of the bodies of `entries` that name `person` (`names_person`, by the
    entry's type), read from `arriving` or else from the store."""
    typed = {e.body_hash: e.type for e in entries if e.type in NAMING and e.body_hash}
    bodies = {**stored([h for h in typed if h not in arriving]), **arriving}
    return sorted(
        digest
        for digest, entry_type in typed.items()
        if digest in bodies and names_person(entry_type, bodies[digest], person)
    )
