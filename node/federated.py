"""The federation side of the node application: its own feed, its peers' feeds, the outbox.

`FederatedApplication` knows nothing of the governance domain. Its subclass (`CircleNode`) says
which stored changes become entries of the node's feed (`outgoing`) and what a peer's entry
changes here (`effects`); this class makes both atomic: an entry is appended in the same save as
the change that causes it, and a peer's entry is stored in the same save as its effects.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypeVar
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError, Application
from eventsourcing.domain import Aggregate
from eventsourcing.utils import Environment

from federation.feed import FeedState, node_id
from federation.keys import NodeKeys
from federation.verify import (
    Accepted,
    Duplicate,
    Equivocation,
    Gap,
    Reason,
    Rejected,
    check_body,
    check_entry,
    decode_entry,
    decode_signed_entry,
    verify_inception,
    verify_page,
)
from federation.wire import (
    PROTOCOL_VERSION,
    Entry,
    FeedPage,
    NodeDescriptor,
    Push,
    PushReply,
    SignedEntry,
    body_hash,
)
from node.feeds import (
    OWN_FEED_ID,
    Body,
    OwnFeed,
    PeerFeed,
    body_id,
    delivery_id,
    peer_feed_id,
    peer_id,
)
from node.peers import APPLICANT, PEER, PEER_INDEX_ID, Delivery, Peer, PeerIndex
from node.retry import retry_on_conflict

A = TypeVar("A", bound=Aggregate)

PUSH_BATCH = 200
JOIN_REQUEST = "network.join_request"
MAX_JOIN_ENTRIES = 3


class IdentityError(Exception):
    """The node's keys and its feed disagree; it must not sign anything."""


class NotAPeer(Exception):
    """The request needs a known peer."""


@dataclass(frozen=True)
class Outgoing:
    """An entry a stored change causes: its type, body and audience (empty: public)."""

    type: str
    body: bytes | None
    audience: list[bytes]


class Batch:
    """The aggregates that taking a run of entries changes: each loaded once, saved together."""

    def __init__(self, app: Application[UUID]) -> None:
        self._app = app
        self._items: dict[UUID, Aggregate] = {}

    def get(self, aggregate_id: UUID, create: Callable[[], A]) -> A:
        """The batch's copy of an aggregate: loaded, or made by `create` if there is none."""
        if aggregate_id not in self._items:
            try:
                self._items[aggregate_id] = self._app.repository.get(aggregate_id)
            except AggregateNotFoundError:
                self._items[aggregate_id] = create()
        return self._items[aggregate_id]  # type: ignore[return-value]

    def add(self, aggregate: Aggregate) -> None:
        self._items.setdefault(aggregate.id, aggregate)

    def __contains__(self, aggregate_id: UUID) -> bool:
        return aggregate_id in self._items

    def aggregates(self) -> list[Aggregate]:
        return list(self._items.values())


def millis(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


class FederatedApplication(Application[UUID]):
    """An eventsourcing application with a signed feed of its own and the feeds of its peers."""

    KNOWN_TYPES: frozenset[str] = frozenset({JOIN_REQUEST})
    snapshotting_intervals = {
        OwnFeed: 100,
        PeerFeed: 500,
        Peer: 50,
        Delivery: 100,
        PeerIndex: 100,
    }

    def __init__(
        self,
        env: Any = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        keys: NodeKeys | None = None,
    ) -> None:
        self.clock = clock
        self.keys = keys
        super().__init__(env)
        if keys is not None:
            self._ensure_inception(keys)

    def construct_env(self, name: str, env: Any = None) -> Environment:
        # The node's settings are the only source of configuration: os.environ is not merged
        # in behind them (eventsourcing would otherwise read PERSISTENCE_MODULE etc. from it).
        merged = dict(type(self).env)
        if type(self).snapshotting_intervals:
            merged["IS_SNAPSHOTTING_ENABLED"] = "y"
        merged.update(env or {})
        return Environment(name, merged)

    # Hooks for the subclass.

    def outgoing(self, aggregates: Sequence[Aggregate]) -> list[Outgoing]:
        """The entries the pending events of `aggregates` cause (none by default)."""
        return []

    def effects(self, peer: bytes, entry: Entry, body: bytes | None, batch: Batch) -> None:
        """Apply what a verified entry of `peer` changes here, to aggregates got from `batch`."""

    def _load(self, cls: type[A], aggregate_id: UUID) -> A:
        """Load an aggregate of a known class (AggregateNotFoundError if there is none)."""
        aggregate: Aggregate = self.repository.get(aggregate_id)
        if not isinstance(aggregate, cls):
            raise AggregateNotFoundError(aggregate_id)
        return aggregate

    # The own feed.

    def _ensure_inception(self, keys: NodeKeys) -> None:
        try:
            own = self.own_feed()
        except AggregateNotFoundError:
            own = OwnFeed.incept(keys, millis(self.clock()))
            super().save(own)
        if own.key != keys.current_public:
            raise IdentityError(
                "The node's key file does not hold the key its feed is signed with; "
                "restore the right node.keys from a backup"
            )

    def own_feed(self) -> OwnFeed:
        return self._load(OwnFeed, OWN_FEED_ID)

    @property
    def feed_id(self) -> bytes:
        return self.own_feed().feed_id

    @property
    def node_id(self) -> str:
        return node_id(self.feed_id)

    def save(self, *objs: Any, **kwargs: Any) -> Any:
        """Save, appending to the own feed the entries the changes cause, in the same save."""
        if self.keys is not None:
            aggregates = [obj for obj in objs if isinstance(obj, Aggregate)]
            outgoing = self.outgoing(aggregates)
            if outgoing:
                own = self.own_feed()
                now = millis(self.clock())
                extra: list[Aggregate] = [own]
                for item in outgoing:
                    own.append(self.keys, item.type, item.body, now, item.audience)
                    if item.body:
                        extra.extend(self._new_body(item.body, item.audience))
                objs = (*objs, *extra)
        return super().save(*objs, **kwargs)

    def _new_body(self, body: bytes, audience: list[bytes]) -> list[Aggregate]:
        digest = body_hash(body)
        if body_id(digest) in self.repository:
            return []
        return [Body(digest=digest, data=body, audience=audience)]

    def rotate_key(self, stage: Callable[[NodeKeys], None]) -> NodeKeys:
        """Rotate to the pre-committed key. `stage` stores the new keys before the rotation
        entry is saved (so that a crash never leaves a feed signed by keys nobody has)."""
        if self.keys is None:
            raise IdentityError("This node has no keys")
        own = self.own_feed()
        new_keys = own.rotate(self.keys, millis(self.clock()))
        stage(new_keys)
        super().save(own)
        self.keys = new_keys
        return new_keys

    def own_entries(self, after: int, limit: int) -> list[SignedEntry]:
        """Own entries with seq > `after`, oldest first (the inception is seq 0)."""
        events = self.events.get(OWN_FEED_ID, gt=after + 1, limit=limit)
        return [decode_signed_entry(event.signed) for event in events]  # type: ignore[attr-defined]

    def inception(self) -> SignedEntry:
        (first,) = self.events.get(OWN_FEED_ID, lte=1)
        return decode_signed_entry(first.signed)  # type: ignore[attr-defined]

    def descriptor(self, name: str, url: str) -> NodeDescriptor:
        own = self.own_feed()
        return NodeDescriptor(PROTOCOL_VERSION, own.feed_id, self.inception(), own.head, name, url)

    def page(self, after: int, limit: int, reader: bytes | None) -> FeedPage:
        """Own entries after `after`, with the bodies `reader` (a feed id, or anyone) may read."""
        entries = self.own_entries(after, limit)
        bodies = self._bodies_for(entries, reader)
        return FeedPage(self.feed_id, entries, bodies, self.own_feed().head)

    def _bodies_for(self, entries: Iterable[SignedEntry], reader: bytes | None) -> list[bytes]:
        bodies = []
        for signed in entries:
            entry = decode_entry(signed)
            if entry.body_hash and (not entry.audience or reader in entry.audience):
                body = self._body(entry.body_hash)
                if body is not None:
                    bodies.append(body.data)
        return bodies

    def _body(self, digest: bytes) -> Body | None:
        try:
            return self._load(Body, body_id(digest))
        except AggregateNotFoundError:
            return None

    def body_for(self, digest: bytes, reader: bytes | None) -> bytes | None:
        """A stored body if `reader` may read it; None if unknown, PermissionError if not theirs."""
        body = self._body(digest)
        if body is None:
            return None
        if body.audience and reader not in body.audience:
            raise PermissionError("This body is for its audience only")
        return body.data

    # Peers.

    def _peer(self, feed_id: bytes) -> Peer | None:
        try:
            return self._load(Peer, peer_id(feed_id))
        except AggregateNotFoundError:
            return None

    def peer(self, feed_id: bytes) -> Peer | None:
        return self._peer(feed_id)

    def peer_feed(self, feed_id: bytes) -> PeerFeed:
        return self._load(PeerFeed, peer_feed_id(feed_id))

    @retry_on_conflict
    def add_peer(self, descriptor: NodeDescriptor, url: str) -> bytes:
        """Know a node as a peer, from the descriptor it serves (its inception proves its id)."""
        state = verify_inception(descriptor.inception, descriptor.feed)
        if state.feed_id == self.feed_id:
            raise ValueError("A node cannot peer with itself")
        peer = self._peer(state.feed_id)
        changed: list[Aggregate] = []
        if peer is None:
            changed.append(Peer(feed_id=state.feed_id, url=url, name=descriptor.name, status=PEER))
            changed.append(self._introduce(state, descriptor.inception))
            changed.append(Delivery(feed_id=state.feed_id))
            changed.extend(self._indexed(state.feed_id))
        else:
            peer.update(url, descriptor.name, PEER)
            changed.append(peer)
            if delivery_id(state.feed_id) not in self.repository:
                changed.append(Delivery(feed_id=state.feed_id))
        super().save(*changed)
        return state.feed_id

    def _introduce(self, state: FeedState, inception: SignedEntry) -> PeerFeed:
        return PeerFeed(
            feed_id=state.feed_id,
            inception=inception.entry + inception.signature,
            key=state.key,
            next_digest=state.next_digest,
        )

    def peers(self) -> list[Peer]:
        try:
            index = self._load(PeerIndex, PEER_INDEX_ID)
        except AggregateNotFoundError:
            return []
        return [peer for feed_id in index.feed_ids if (peer := self._peer(feed_id)) is not None]

    def _indexed(self, feed_id: bytes) -> list[Aggregate]:
        """The peer index with `feed_id` added (to save with the new peer)."""
        try:
            index = self._load(PeerIndex, PEER_INDEX_ID)
        except AggregateNotFoundError:
            index = PeerIndex()
        index.add(feed_id)
        return [index]

    def _hash_at(self, feed_id: bytes) -> Callable[[int], bytes | None]:
        aggregate_id = peer_feed_id(feed_id)

        def hash_at(seq: int) -> bytes | None:
            if seq == 0:
                return feed_id
            events = list(self.events.get(aggregate_id, gt=seq, lte=seq + 1))
            return events[0].hash if events else None  # type: ignore[attr-defined]

        return hash_at

    def _held_entry(self, feed_id: bytes, seq: int) -> bytes:
        events = list(self.events.get(peer_feed_id(feed_id), gt=seq, lte=seq + 1))
        return events[0].signed if events else b""  # type: ignore[attr-defined]

    def _record_equivocation(self, peer: Peer, proof: Equivocation) -> None:
        from federation.wire import encode

        held = self._held_entry(peer.feed_id, proof.fork_seq)
        peer.record_equivocation(proof.fork_seq, held, encode(proof.conflicting))
        super().save(peer)

    @retry_on_conflict
    def receive_push(self, push: Push) -> PushReply:
        """Take entries a node pushed: verified one by one, each stored once with its effects."""
        peer = self._peer(push.feed)
        if peer is None:
            return self._receive_join_request(push)
        if peer.stopped:
            raise Rejected(Reason.FEED_STOPPED, "this feed equivocated; nothing more is taken")
        feed = self.peer_feed(push.feed)
        state = feed.state
        bodies = {body_hash(body): body for body in push.bodies}
        hash_at = self._hash_at(push.feed)
        batch = Batch(self)
        accepted = 0
        reason = ""
        for signed in push.entries:
            try:
                verdict = check_entry(state, signed, self.KNOWN_TYPES, hash_at)
            except Equivocation as proof:
                self._record_equivocation(peer, proof)
                reason = proof.reason
                break
            except Rejected as rejected:
                reason = rejected.reason
                break
            if isinstance(verdict, Duplicate):
                continue
            if isinstance(verdict, Gap):
                reason = "gap"
                break
            assert isinstance(verdict, Accepted)
            feed.hold(signed)
            state = verdict.state
            self._take_body_and_effects(push.feed, verdict.entry, bodies, batch)
            accepted += 1
        if accepted:
            super().save(feed, *batch.aggregates())
        return PushReply(accepted, state.next_seq, str(reason))

    def _take_body_and_effects(
        self, feed_id: bytes, entry: Entry, bodies: dict[bytes, bytes], batch: Batch
    ) -> None:
        body = bodies.get(entry.body_hash) if entry.body_hash else None
        if body is not None:
            check_body(entry, body)
            if body_id(entry.body_hash) not in batch:
                for new in self._new_body(body, list(entry.audience)):
                    batch.add(new)
        self.effects(feed_id, entry, body, batch)

    def _receive_join_request(self, push: Push) -> PushReply:
        """An unknown node may only introduce itself and ask to join."""
        entries = push.entries
        if not entries or len(entries) > MAX_JOIN_ENTRIES:
            raise Rejected(
                Reason.UNKNOWN_NODE, "an unknown node sends its inception and a join request"
            )
        if decode_entry(entries[0]).seq != 0:
            raise Rejected(Reason.UNKNOWN_NODE, "this node does not know yours; ask to join first")
        state = verify_inception(entries[0], push.feed)
        rest = entries[1:]
        for signed in rest:
            if decode_entry(signed).type != JOIN_REQUEST:
                raise Rejected(Reason.UNKNOWN_NODE, "an unknown node may only ask to join")
        new_state, new_entries = verify_page(state, rest, {JOIN_REQUEST}, lambda seq: None)
        if not new_entries:
            raise Rejected(Reason.UNKNOWN_NODE, "an unknown node sends a join request")
        feed = self._introduce(state, entries[0])
        bodies = {body_hash(body): body for body in push.bodies}
        batch = Batch(self)
        for signed, entry in zip(rest, new_entries, strict=True):
            feed.hold(signed)
            self._take_body_and_effects(push.feed, entry, bodies, batch)
        peer = Peer(feed_id=push.feed, url="", name="", status=APPLICANT)
        super().save(peer, feed, *batch.aggregates(), *self._indexed(push.feed))
        return PushReply(len(new_entries), new_state.next_seq)

    @retry_on_conflict
    def receive_page(self, page: FeedPage) -> int:
        """Take a pulled page: verified by its chain and last signature, stored in one save."""
        peer = self._peer(page.feed)
        if peer is None:
            raise NotAPeer("Pull only from peers")
        if peer.stopped:
            raise Rejected(Reason.FEED_STOPPED, "this feed equivocated; nothing more is taken")
        feed = self.peer_feed(page.feed)
        try:
            _, entries = verify_page(
                feed.state, page.entries, self.KNOWN_TYPES, self._hash_at(page.feed)
            )
        except Equivocation as proof:
            self._record_equivocation(peer, proof)
            raise
        if not entries:
            return 0
        bodies = {body_hash(body): body for body in page.bodies}
        batch = Batch(self)
        first_new = entries[0].seq
        for signed in page.entries:
            if decode_entry(signed).seq >= first_new:
                feed.hold(signed)
        for entry in entries:
            self._take_body_and_effects(page.feed, entry, bodies, batch)
        super().save(feed, *batch.aggregates())
        return len(entries)

    # The outbox.

    def delivery(self, feed_id: bytes) -> Delivery:
        return self._load(Delivery, delivery_id(feed_id))

    def pending_push(self, feed_id: bytes, limit: int = PUSH_BATCH) -> Push | None:
        """The next entries owed to a peer, with the bodies it may read; None when none."""
        delivery = self.delivery(feed_id)
        entries = self.own_entries(delivery.next_seq - 1, limit)
        if not entries:
            return None
        return Push(self.feed_id, entries, self._bodies_for(entries, feed_id))

    @retry_on_conflict
    def acknowledge(self, feed_id: bytes, next_seq: int) -> None:
        delivery = self.delivery(feed_id)
        if delivery.acknowledge(min(next_seq, self.own_feed().next_seq)):
            super().save(delivery)
