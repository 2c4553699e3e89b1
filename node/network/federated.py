"""The federation side of the node application: its own feed, its peers' feeds, the outbox.

`FederatedApplication` knows nothing of the governance domain. Its subclass (`CircleNode`) says
which stored changes become entries of the node's feed (`outgoing`) and what a peer's entry
changes here (`effects`); this class makes both atomic: an entry is appended in the same save as
the change that causes it, and a peer's entry is stored in the same save as its effects.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, TypeVar
from uuid import UUID

from eventsourcing import application
from eventsourcing.application import AggregateNotFoundError, Application, ProcessingEvent
from eventsourcing.domain import Aggregate
from eventsourcing.persistence import Mapper, PersistenceError
from eventsourcing.utils import Environment

from federation.feed import FeedState, node_id
from federation.keys import NodeKeys
from federation.pages import verify_page
from federation.verify import (
    Accepted,
    Duplicate,
    Equivocation,
    Gap,
    HashAt,
    Reason,
    Rejected,
    check_entry,
    decode_entry,
    decode_signed_entry,
    verify_inception,
)
from federation.wire import (
    BODY_REF_DECODER,
    DECODE_ERRORS,
    JOIN_REQUEST,
    JOIN_REQUEST_DECODER,
    MAX_PAGE_BYTES,
    MAX_PUSH_BYTES,
    PROTOCOL_VERSION,
    Entry,
    FeedPage,
    JoinRequest,
    NodeDescriptor,
    Push,
    PushReply,
    SignedEntry,
    body_hash,
    encode,
)
from node.network.feeds import (
    OWN_FEED_ID,
    OwnFeed,
    PeerFeed,
    delivery_id,
    peer_feed_id,
    peer_id,
)
from node.network.peers import APPLICANT, PEER, PEER_INDEX_ID, REMOVED, Delivery, Peer, PeerIndex
from node.store.event_mapping import TypedMapper
from node.store.kept import Kept
from node.store.recorders import (
    BodyRow,
    EntryRow,
    FeedRecorder,
    POPOFeedRecorder,
    SQLiteFeedRecorder,
)
from node.store.repository import Repository
from node.store.retry import retry_on_conflict

log = logging.getLogger("circle_node.store")

A = TypeVar("A", bound=Aggregate)
R = TypeVar("R")

PUSH_BATCH = 200
# An unknown node sends its feed from the inception up to its join request (its last entry).
MAX_JOIN_ENTRIES = 50
MESSAGE_OVERHEAD = 1024  # room for a page's or push's own framing


class IdentityError(Exception):
    """The node's keys and its feed disagree; it must not sign anything."""


class NotAPeer(Exception):
    """The request needs a known peer."""


@dataclass
class _Run:
    """Verified entries of one peer's feed, ready to store in one save: their rows, the rows of
    the bodies they bind, and the run the effects see (entries with their bodies)."""

    entries: list[EntryRow] = field(default_factory=list)
    bodies: list[BodyRow] = field(default_factory=list)
    run: list[tuple[Entry, bytes | None]] = field(default_factory=list)

    def cut(self, entries: int, bodies: int, run: int) -> None:
        """Drop what was added after these lengths (a page refused after being bound)."""
        del self.entries[entries:], self.bodies[bodies:], self.run[run:]


@dataclass(frozen=True)
class _Verified:
    """Consecutive pulled pages of a feed, verified: the feed's state after them, what to
    store, and how many of the pages given that is."""

    after: FeedState
    run: _Run
    pages: int


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
        # Entry rows to store with the batch (inceptions of nodes it starts following).
        self.entries: list[EntryRow] = []
        self.afterwards: list[Callable[[], None]] = []

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

    def after_save(self, action: Callable[[], None]) -> None:
        """Something to do once the batch is saved (e.g. an erasure of what it may bring)."""
        self.afterwards.append(action)

    def __contains__(self, aggregate_id: UUID) -> bool:
        return aggregate_id in self._items

    def aggregates(self) -> list[Aggregate]:
        return list(self._items.values())

    def checkpoint(self) -> Checkpoint:
        """Where the batch stands now, to roll back to if what follows is refused."""
        pending = {key: len(aggregate.pending_events) for key, aggregate in self._items.items()}
        return Checkpoint(pending, len(self.entries), len(self.afterwards))

    def rollback(self, mark: Checkpoint) -> None:
        """Undo everything done to the batch since `mark`: aggregates first got since are
        dropped, and those changed since are rebuilt as they were then (as stored, with the
        events that were pending then)."""
        for key in list(self._items):
            if key not in mark.pending:
                del self._items[key]
                continue
            events = self._items[key].pending_events
            if len(events) != mark.pending[key]:
                self._items[key] = self._rebuilt(key, events[: mark.pending[key]])
        del self.entries[mark.entries :]
        del self.afterwards[mark.afterwards :]

    def _rebuilt(self, aggregate_id: UUID, pending: list[Any]) -> Aggregate:
        try:
            aggregate: Any = self._app.repository.get(aggregate_id)
        except AggregateNotFoundError:
            aggregate = None  # made in this batch: its first pending event creates it
        for pending_event in pending:
            aggregate = pending_event.mutate(aggregate)
        # eventsourcing keeps an aggregate's events to save in `_pending_events`.
        aggregate._pending_events = list(pending)
        assert isinstance(aggregate, Aggregate)
        return aggregate


@dataclass(frozen=True)
class Checkpoint:
    """A batch as it stood: its aggregates' counts of pending events, and its lists' lengths."""

    pending: dict[UUID, int]
    entries: int
    afterwards: int


class Observer:
    """What the federation reports as it works (metrics); by default, nothing."""

    def appended(self, count: int) -> None:
        """Entries appended to the own feed."""

    def received(self, peer: bytes, count: int) -> None:
        """Entries of a peer's feed verified and stored."""

    def rejected(self, reason: str) -> None:
        """An entry, page or push refused, by its machine-readable reason."""


def counting_refusals(method: Callable[..., R]) -> Callable[..., R]:
    """Report a refusal of a whole push or page to the observer before it is raised."""

    @functools.wraps(method)
    def counted(self: FederatedApplication, *args: Any, **kwargs: Any) -> R:
        try:
            return method(self, *args, **kwargs)
        except Rejected as rejected:
            self.observer.rejected(str(rejected.reason))
            raise

    return counted


def millis(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


class FederatedApplication(Application[UUID]):
    """An eventsourcing application with a signed feed of its own and the feeds of its peers."""

    KNOWN_TYPES: frozenset[str] = frozenset({JOIN_REQUEST})
    # Aggregates never kept in memory (see node/store/kept.py): those an erasure deletes.
    NEVER_KEPT: tuple[type, ...] = ()
    # A load replays the events since the last snapshot: each run taken from a peer is one
    # event of its PeerFeed, each push delivered one of its Delivery, each save that appends
    # one of the OwnFeed, so those are short. At most one snapshot per aggregate and save.
    snapshotting_intervals = {
        OwnFeed: 100,
        PeerFeed: 50,
        Peer: 50,
        Delivery: 20,
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
        self.observer = Observer()
        self._feed_id: bytes | None = None
        super().__init__(env)
        # The own feed (and, for the subclass, the circle and credentials) kept in memory.
        self.kept = Kept(self.repository, never=self.NEVER_KEPT)
        if keys is not None:
            self._ensure_inception(keys)

    def construct_repository(self) -> application.Repository[UUID]:
        # The library's Repository (no aggregate cache: node/store/kept.py keeps what is used
        # often), replaying events without its runtime Protocol check per event.
        return Repository(event_store=self.events, snapshot_store=self.snapshots)

    def construct_mapper(self) -> Mapper[UUID]:
        # Events in MessagePack typed by their classes, JSON where that would not round-trip.
        return self.factory.mapper(transcoder=self.construct_transcoder(), mapper_class=TypedMapper)

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

    def met(self, feed_id: bytes, name: str, how: str) -> list[Aggregate]:
        """What meeting a node changes here besides the transport (nothing by default)."""
        return []

    def effects(self, peer: bytes, run: list[tuple[Entry, bytes | None]], batch: Batch) -> None:
        """Apply what a run of verified entries of `peer` (with the bodies that came with them)
        changes here, to aggregates got from `batch`."""

    def load(self, cls: type[A], aggregate_id: UUID) -> A:
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
            own, inception = OwnFeed.incept(keys, millis(self.clock()))
            super().save(own, entries=[(own.feed_id, 0, encode(inception))])
        if own.key != keys.current_public:
            raise IdentityError(
                "The node's key file does not hold the key its feed is signed with; "
                "restore the right node.keys from a backup"
            )

    def own_feed(self) -> OwnFeed:
        own: Aggregate = self.kept.copy(OWN_FEED_ID)
        if not isinstance(own, OwnFeed):
            raise AggregateNotFoundError(OWN_FEED_ID)
        return own

    @property
    def reads_are_local(self) -> bool:
        """Whether the store is read in this process, in microseconds (SQLite, memory), not
        across a network (PostgreSQL)."""
        return isinstance(self.recorder, SQLiteFeedRecorder | POPOFeedRecorder)

    @property
    def feed_id(self) -> bytes:
        # A feed's id is the hash of its inception: it never changes once there is one.
        if self._feed_id is None:
            self._feed_id = self.own_feed().feed_id
        return self._feed_id

    @property
    def is_federated(self) -> bool:
        """Whether the node has keys: a feed of its own, and peers."""
        return self.keys is not None

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
                bodies = list(kwargs.pop("bodies", []))
                entries = list(kwargs.pop("entries", []))
                first = own.next_seq
                signed = own.append_all(
                    self.keys, [(i.type, i.body, i.audience) for i in outgoing], now
                )
                for seq, (item, entry) in enumerate(zip(outgoing, signed, strict=True), first):
                    entries.append((own.feed_id, seq, encode(entry)))
                    if item.body:
                        bodies.append(self._body_row(item.body, item.audience))
                objs = (*objs, own)
                kwargs.update(bodies=bodies, entries=entries)
                recordings = self._save_collected(*objs, **kwargs)
                self.kept.adopt(own)  # this save's own copy: no one changes it again
                self.observer.appended(len(outgoing))
                return recordings
        return self._save_collected(*objs, **kwargs)

    def _save_collected(self, *objs: Any, **kwargs: Any) -> Any:
        """The library's `Application.save`, but collecting the aggregates' events without
        its runtime check against a typing Protocol (about 20 µs per aggregate on Python
        3.11: a fifth of the time of a batched save)."""
        processing_event: ProcessingEvent[UUID] = ProcessingEvent()
        for obj in objs:
            if isinstance(obj, Aggregate):
                processing_event.events.extend(obj.collect_events())
                processing_event.aggregates[obj.id] = obj
            elif obj is not None:
                processing_event.collect_events(obj)  # a domain event of its own
        processing_event.saved_kwargs.update(kwargs)
        recordings = self._record(processing_event)
        self._take_snapshots(processing_event)
        self._notify(recordings)
        return recordings

    def _take_snapshots(self, processing_event: Any) -> None:
        """Snapshots are taken after the save is stored: failing to store one (the store went
        away, the disk filled) must not fail a change that is already stored. The aggregate
        is replayed from its events until the next snapshot."""
        if not (self.snapshots and self.snapshotting_intervals):
            return
        # At most one snapshot per aggregate and save, taken from the aggregate as saved (not
        # reloaded): a batch of a thousand entries crosses ten multiples of the own feed's
        # interval, and the library would replay it ten times.
        due: dict[UUID, Aggregate] = {}
        for saved in processing_event.events:
            aggregate = processing_event.aggregates.get(saved.originator_id)
            interval = self.snapshotting_intervals.get(type(aggregate))
            if interval and saved.originator_version % interval == 0:
                due[saved.originator_id] = aggregate
        for aggregate in due.values():
            try:
                self._store_snapshot(aggregate)
            except PersistenceError as error:
                log.warning("could not store a snapshot (the change itself is stored): %s", error)

    def _store_snapshot(self, aggregate: Aggregate) -> None:
        """A snapshot of the aggregate as it is (which must be as stored)."""
        assert self.snapshots is not None and not aggregate.pending_events
        snapshot_class: Any = getattr(type(aggregate), "Snapshot", type(self).snapshot_class)
        self.snapshots.put([snapshot_class.take(aggregate)])

    # Bodies, kept in the recorder's body table (encrypted like events when the store is).

    @property
    def _feeds(self) -> FeedRecorder:
        return self.recorder  # type: ignore[return-value]

    def _body_row(
        self, body: bytes, audience: Sequence[bytes], digest: bytes | None = None
    ) -> BodyRow:
        cipher = self.mapper.cipher
        data = cipher.encrypt(body) if cipher is not None else body
        return (digest or body_hash(body), data, b"".join(audience))

    def stored_bodies(self, digests: Sequence[bytes]) -> dict[bytes, tuple[bytes, list[bytes]]]:
        """Stored bodies by hash: (data, audience)."""
        cipher = self.mapper.cipher
        found = {}
        for digest, data, audience in self._feeds.select_bodies(digests).values():
            plain = cipher.decrypt(data) if cipher is not None else data
            found[digest] = (plain, [audience[i : i + 32] for i in range(0, len(audience), 32)])
        return found

    def _stored_data(self, digests: Sequence[bytes]) -> dict[bytes, bytes]:
        """Stored bodies by hash, without their audiences."""
        cipher = self.mapper.cipher
        rows = self._feeds.select_bodies(digests).values()
        if cipher is None:
            return {digest: data for digest, data, _ in rows}
        return {digest: cipher.decrypt(data) for digest, data, _ in rows}

    def erase_bodies(self, digests: Sequence[bytes]) -> int:
        """Delete bodies (their entries stay, and still verify); returns how many were held."""
        return self._feeds.delete_bodies(digests)

    def held_entries(self, feed_id: bytes) -> list[bytes]:
        """Every entry held of a feed (encoded signed entries), oldest first."""
        return list(self._feeds.select_entries(feed_id, 0, 2**31))

    def delete_aggregate(self, aggregate_id: UUID) -> None:
        """Delete an aggregate's events for good (erasure), and what the store kept of them."""
        self.kept.forget(aggregate_id)
        self._feeds.delete_events(aggregate_id)
        self._feeds.compact()

    def rotate_key(self, stage: Callable[[NodeKeys], None]) -> NodeKeys:
        """Rotate to the pre-committed key. `stage` stores the new keys before the rotation
        entry is saved (so that a crash never leaves a feed signed by keys nobody has)."""
        if self.keys is None:
            raise IdentityError("This node has no keys")
        own = self.own_feed()
        signed, new_keys = own.rotate(self.keys, millis(self.clock()))
        stage(new_keys)
        super().save(own, entries=[(own.feed_id, own.head, encode(signed))])
        self.keys = new_keys
        return new_keys

    def own_entries(self, after: int, limit: int) -> list[SignedEntry]:
        """Own entries with seq > `after`, oldest first (the inception is seq 0)."""
        return [
            decode_signed_entry(raw)
            for raw in self._feeds.select_entries(self.feed_id, after, limit)
        ]

    def inception(self) -> SignedEntry:
        (raw,) = self._feeds.select_entries(self.feed_id, -1, 1)
        return decode_signed_entry(raw)

    def descriptor(self, name: str, url: str) -> NodeDescriptor:
        own = self.own_feed()
        return NodeDescriptor(PROTOCOL_VERSION, own.feed_id, self.inception(), own.head, name, url)

    def page(self, after: int, limit: int, reader: bytes | None) -> FeedPage:
        """Own entries after `after`, with the bodies `reader` (a feed id, or anyone) may read,
        within the page's byte limit."""
        entries, bodies = self._run(after, limit, reader, MAX_PAGE_BYTES)
        own: OwnFeed = self.kept.peek(OWN_FEED_ID)  # read only: no copy
        return FeedPage(self.feed_id, entries, bodies, own.head)

    def _run(
        self, after: int, limit: int, reader: bytes | None, max_bytes: int
    ) -> tuple[list[SignedEntry], list[bytes]]:
        """Own entries after `after` with the bodies `reader` may read, cut short before the
        encoded message would pass `max_bytes` (always at least one entry)."""
        entries = self.own_entries(after, limit)
        wanted: list[bytes | None] = []
        for signed in entries:
            # Own entries, checked when signed: only what names the body is decoded.
            entry = BODY_REF_DECODER.decode(signed.entry)
            readable = entry.body_hash and (not entry.audience or reader in entry.audience)
            wanted.append(entry.body_hash if readable else None)
        stored = self._stored_data([digest for digest in wanted if digest])
        budget = max_bytes - MESSAGE_OVERHEAD
        kept: list[SignedEntry] = []
        bodies: list[bytes] = []
        for signed, digest in zip(entries, wanted, strict=True):
            body = stored.get(digest) if digest else None
            size = len(signed.entry) + len(signed.signature) + 16 + (len(body) + 8 if body else 0)
            if kept and size > budget:
                break
            budget -= size
            kept.append(signed)
            if body is not None:
                bodies.append(body)
        return kept, bodies

    def body_for(self, digest: bytes, reader: bytes | None) -> bytes | None:
        """A stored body if `reader` may read it; None if unknown, PermissionError if not theirs."""
        stored = self.stored_bodies([digest]).get(digest)
        if stored is None:
            return None
        data, audience = stored
        if audience and reader not in audience:
            raise PermissionError("This body is for its audience only")
        return data

    # Peers.

    def _peer(self, feed_id: bytes) -> Peer | None:
        try:
            return self.load(Peer, peer_id(feed_id))
        except AggregateNotFoundError:
            return None

    def peer(self, feed_id: bytes) -> Peer | None:
        return self._peer(feed_id)

    def peer_feed(self, feed_id: bytes) -> PeerFeed:
        return self.load(PeerFeed, peer_feed_id(feed_id))

    @retry_on_conflict
    def add_peer(self, descriptor: NodeDescriptor, url: str, status: str = PEER) -> bytes:
        """Know a node as a peer, from the descriptor it serves (its inception proves its id).
        With status JOINING, its feed is followed but nothing is pushed to it until it admits
        this node."""
        if descriptor.version != PROTOCOL_VERSION:
            raise Rejected(Reason.UNKNOWN_VERSION, f"protocol version {descriptor.version}")
        state = verify_inception(descriptor.inception, descriptor.feed)
        if state.feed_id == self.feed_id:
            raise ValueError("A node cannot peer with itself")
        peer = self._peer(state.feed_id)
        changed: list[Aggregate] = []
        rows: list[EntryRow] = []
        if peer is None:
            changed.append(
                Peer(feed_id=state.feed_id, url=url, name=descriptor.name, status=status)
            )
            changed.append(self._introduce(state))
            rows.append((state.feed_id, 0, encode(descriptor.inception)))
            changed.append(Delivery(feed_id=state.feed_id))
            changed.extend(self._indexed(state.feed_id))
            changed.extend(self.met(state.feed_id, descriptor.name, status))
        else:
            peer.update(url, descriptor.name, status if peer.status != PEER else PEER)
            changed.append(peer)
            if delivery_id(state.feed_id) not in self.repository:
                changed.append(Delivery(feed_id=state.feed_id))
        super().save(*changed, entries=rows)
        return state.feed_id

    def _introduce(self, state: FeedState) -> PeerFeed:
        return PeerFeed(feed_id=state.feed_id, key=state.key, next_digest=state.next_digest)

    def peers(self) -> list[Peer]:
        try:
            index = self.load(PeerIndex, PEER_INDEX_ID)
        except AggregateNotFoundError:
            return []
        return [peer for feed_id in index.feed_ids if (peer := self._peer(feed_id)) is not None]

    def _indexed(self, feed_id: bytes) -> list[Aggregate]:
        """The peer index with `feed_id` added (to save with the new peer)."""
        try:
            index = self.load(PeerIndex, PEER_INDEX_ID)
        except AggregateNotFoundError:
            index = PeerIndex()
        index.add(feed_id)
        return [index]

    def _held_entry(self, feed: PeerFeed, seq: int) -> SignedEntry | None:
        if not 0 <= seq < feed.next_seq:
            return None
        (raw,) = self._feeds.select_entries(feed.feed_id, seq - 1, 1)
        return decode_signed_entry(raw)

    def _hash_at(self, feed: PeerFeed) -> Callable[[int], bytes | None]:
        def hash_at(seq: int) -> bytes | None:
            if seq == 0:
                return feed.feed_id
            held = self._held_entry(feed, seq)
            return held.hash if held is not None else None

        return hash_at

    def _record_equivocation(self, peer: Peer, feed: PeerFeed, proof: Equivocation) -> None:
        held = self._held_entry(feed, proof.fork_seq)
        peer.record_equivocation(
            proof.fork_seq, encode(held) if held else b"", encode(proof.conflicting)
        )
        super().save(peer)

    @counting_refusals
    @retry_on_conflict
    def receive_push(self, push: Push) -> PushReply:
        """Take entries a node pushed: verified one by one, each stored once with its effects.

        The reply says how many were new, the seq expected next, and why it stopped early."""
        if push.feed == self.feed_id:
            raise Rejected(Reason.WRONG_FEED, "that is this node's own feed")
        peer = self._peer(push.feed)
        if peer is None:
            return self._receive_join_request(push)
        if peer.status == REMOVED:
            raise Rejected(Reason.UNKNOWN_NODE, "this node no longer exchanges feeds with yours")
        if peer.stopped:
            raise Rejected(Reason.FEED_STOPPED, "this feed equivocated; nothing more is taken")
        feed = self.peer_feed(push.feed)
        state = feed.state
        hash_at = self._hash_at(feed)
        sizes = {body_hash(body): len(body) for body in push.bodies}
        taken: list[tuple[SignedEntry, Entry]] = []
        reason = ""
        for signed in push.entries:
            try:
                verdict = check_entry(state, signed, self.KNOWN_TYPES, hash_at)
            except Equivocation as proof:
                self._record_equivocation(peer, feed, proof)
                reason = proof.reason
                break
            except Rejected as rejected:
                reason = rejected.reason
                break
            if isinstance(verdict, Duplicate):
                continue
            if isinstance(verdict, Gap):
                reason = Reason.GAP
                break
            assert isinstance(verdict, Accepted)
            if peer.status == APPLICANT:
                reason = Reason.UNKNOWN_NODE  # nothing more until the circle admits it
                break
            entry = verdict.entry
            if entry.body_hash in sizes and sizes[entry.body_hash] != entry.body_size:
                reason = Reason.BODY_MISMATCH
                break
            taken.append((signed, entry))
            state = verdict.state
        if taken:
            self._take(peer.feed_id, feed, taken, state, push.bodies)
        if reason:
            self.observer.rejected(str(reason))
        return PushReply(len(taken), state.next_seq, str(reason))

    def _take(
        self,
        feed_id: bytes,
        feed: PeerFeed,
        taken: list[tuple[SignedEntry, Entry]],
        after: FeedState,
        bodies: Sequence[bytes],
        *also: Aggregate,
        extra_entries: Sequence[EntryRow] = (),
    ) -> None:
        """Store verified entries with their bodies and effects, in one save."""
        run = _Run()
        self._bind(run, feed_id, taken, bodies)
        self._store(feed_id, feed, run, after, *also, extra_entries=extra_entries)

    def _bind(
        self,
        run: _Run,
        feed_id: bytes,
        taken: list[tuple[SignedEntry, Entry]],
        bodies: Sequence[bytes],
    ) -> None:
        """Add verified entries to `run`, with the bodies that came with them: a body is taken
        only if one of these entries names its hash (a body whose size differs refuses them)."""
        by_hash = {body_hash(body): body for body in bodies} if bodies else {}
        cipher = self.mapper.cipher
        entry_rows, body_rows, effects_run = run.entries, run.bodies, run.run
        for signed, entry in taken:
            entry_rows.append((feed_id, entry.seq, encode(signed)))
            body = by_hash.get(entry.body_hash) if entry.body_hash else None
            if body is not None:
                if len(body) != entry.body_size:
                    raise Rejected(Reason.BODY_MISMATCH, "body size differs", entry.seq)
                data = cipher.encrypt(body) if cipher is not None else body
                body_rows.append((entry.body_hash, data, b"".join(entry.audience)))
            effects_run.append((entry, body))

    def _store(
        self,
        feed_id: bytes,
        feed: PeerFeed,
        run: _Run,
        after: FeedState,
        *also: Aggregate,
        extra_entries: Sequence[EntryRow] = (),
    ) -> None:
        """Store a run of verified entries (`_bind`) with their effects, in one save."""
        batch = Batch(self)
        for aggregate in also:
            batch.add(aggregate)  # effects see (and change) these, not fresh copies
        self.effects(feed_id, run.run, batch)
        feed.hold(len(run.run), after)
        entries = [*extra_entries, *run.entries, *batch.entries]
        self.save(feed, *batch.aggregates(), bodies=run.bodies, entries=entries)
        for action in batch.afterwards:
            action()
        self.observer.received(feed_id, len(run.run))

    def _receive_join_request(self, push: Push) -> PushReply:
        """An unknown node may only ask to join: it sends its feed from the inception up to a
        join request addressed to this node (the last entry), with the request's body."""
        entries = push.entries
        if not entries or len(entries) > MAX_JOIN_ENTRIES:
            raise Rejected(
                Reason.UNKNOWN_NODE,
                f"an unknown node sends its feed up to its join request ({MAX_JOIN_ENTRIES} "
                "entries at most)",
            )
        if decode_entry(entries[0]).seq != 0:
            raise Rejected(Reason.UNKNOWN_NODE, "this node does not know yours; ask to join first")
        state = verify_inception(entries[0], push.feed)
        rest = entries[1:]
        if not rest or decode_entry(rest[-1]).type != JOIN_REQUEST:
            raise Rejected(Reason.UNKNOWN_NODE, "an unknown node may only ask to join")
        after, new_entries = verify_page(state, rest, self.KNOWN_TYPES, lambda seq: None)
        request = new_entries[-1]
        body = {body_hash(b): b for b in push.bodies}.get(request.body_hash)
        if body is None:
            raise Rejected(Reason.MALFORMED, "a join request comes with its body")
        try:
            asked = JOIN_REQUEST_DECODER.decode(body)
        except DECODE_ERRORS:
            raise Rejected(Reason.MALFORMED, "a join request's body is not one") from None
        if asked.to != self.feed_id or request.audience != [self.feed_id]:
            raise Rejected(Reason.UNKNOWN_NODE, "that join request is addressed to another node")
        feed = self._introduce(state)
        peer = Peer(feed_id=push.feed, url=asked.url, name=asked.name, status=APPLICANT)
        taken = list(zip(rest, new_entries, strict=True))
        self._take(
            push.feed,
            feed,
            taken,
            after,
            push.bodies,
            peer,
            *self._indexed(push.feed),
            *self.met(push.feed, asked.name, APPLICANT),
            extra_entries=[(push.feed, 0, encode(entries[0]))],
        )
        return PushReply(len(new_entries), after.next_seq)

    @counting_refusals
    @retry_on_conflict
    def receive_page(self, page: FeedPage) -> int:
        """Take a pulled page: verified by its chain and last signature, stored in one save."""
        return self._receive_pages([page])[0]

    @counting_refusals
    @retry_on_conflict
    def receive_pages(self, pages: Sequence[FeedPage]) -> tuple[int, int]:
        """Take consecutive pulled pages of one feed in one save (catch-up: one commit, not one
        per page). Returns (entries taken, pages taken). Each page is verified on its own, by
        its chain and last signature, from where the page before it ends, and binds only its own
        bodies: as if each were taken alone, in turn. A refusal of the first page is raised and
        nothing is stored; a later page that is refused (or names another feed) ends the run
        before it: the pages before it are stored, and taking it alone raises the refusal."""
        return self._receive_pages(pages)

    def _receive_pages(self, pages: Sequence[FeedPage]) -> tuple[int, int]:
        feed_id = pages[0].feed
        peer = self._peer(feed_id)
        if peer is None:
            raise NotAPeer("Pull only from peers")
        if peer.stopped:
            raise Rejected(Reason.FEED_STOPPED, "this feed equivocated; nothing more is taken")
        feed = self.peer_feed(feed_id)
        try:
            verified = self._verified(feed.state, pages, self._hash_at(feed))
        except Equivocation as proof:
            self._record_equivocation(peer, feed, proof)
            raise
        if verified.run.run:
            self._store(feed_id, feed, verified.run, verified.after)
        return len(verified.run.run), verified.pages

    def _verified(
        self, state: FeedState, pages: Sequence[FeedPage], stored_hash_at: HashAt
    ) -> _Verified:
        """Verify consecutive pages from `state` (`receive_pages`): a refusal of the first page
        is raised, a later refusal ends the run before that page."""
        held, run = state.next_seq, _Run()

        def hash_at(seq: int) -> bytes | None:
            # The entries of the pages before this one are held too (in this save, not stored).
            if seq < held:
                return stored_hash_at(seq)
            index = seq - held
            if index >= len(run.entries):
                return None
            return decode_signed_entry(run.entries[index][2]).hash

        used = 0
        for page in pages:
            if page.feed != state.feed_id:
                if not used:
                    raise Rejected(Reason.WRONG_FEED, "a page of another feed")
                break
            lengths = len(run.entries), len(run.bodies), len(run.run)
            try:
                after, entries = verify_page(state, page.entries, self.KNOWN_TYPES, hash_at)
                new = page.entries[len(page.entries) - len(entries) :]
                self._bind(run, state.feed_id, list(zip(new, entries, strict=True)), page.bodies)
            except Rejected:
                if not used:
                    raise
                run.cut(*lengths)
                break
            state = after
            used += 1
            if not entries:
                break  # nothing new: catch-up stops here
        return _Verified(state, run, used)

    @retry_on_conflict
    def remove_peer(self, feed_id: bytes) -> bool:
        """Stop exchanging feeds with a peer; returns False if it is not one."""
        peer = self._peer(feed_id)
        if peer is None or peer.status == REMOVED:
            return False
        peer.update(peer.url, peer.name, REMOVED)
        super().save(peer)
        return True

    def make_peer(self, feed_id: bytes) -> list[Aggregate]:
        """The transport side of admitting a node, or of being admitted: from now on feeds
        flow both ways. Returns the aggregates to save with the decision that causes it."""
        peer = self._peer(feed_id)
        if peer is None:
            raise NotAPeer("This node does not know that node")
        changed: list[Aggregate] = []
        if peer.status != PEER:
            peer.update(peer.url, peer.name, PEER)
            changed.append(peer)
        if delivery_id(feed_id) not in self.repository:
            changed.append(Delivery(feed_id=feed_id))
        return changed

    def follow(self, inception: SignedEntry, url: str, name: str, batch: Batch) -> bytes | None:
        """Follow a node another one introduced (its inception proves its id); returns its feed
        id, or None if it is this node or already known."""
        state = verify_inception(inception)
        if state.feed_id == self.feed_id or self._peer(state.feed_id) is not None:
            return None
        if peer_id(state.feed_id) in batch:
            return None
        batch.add(Peer(feed_id=state.feed_id, url=url, name=name, status=PEER))
        batch.add(self._introduce(state))
        batch.add(Delivery(feed_id=state.feed_id))
        batch.entries.append((state.feed_id, 0, encode(inception)))
        index = batch.get(PEER_INDEX_ID, PeerIndex)
        index.add(state.feed_id)
        return state.feed_id

    # Asking to join.

    def ask_to_join(self, to: bytes, url: str, name: str, message: str) -> Push:
        """Append a join request addressed to node `to`; returns the push that carries it (this
        node's feed from the inception up to the request, with the request's body)."""
        if self.keys is None:
            raise IdentityError("This node has no keys")
        if to == self.feed_id:
            raise ValueError("A node does not ask itself to join")
        body = encode(JoinRequest(to, url, name, message))
        own = self.own_feed()
        if own.next_seq + 1 > MAX_JOIN_ENTRIES:  # seq 0 .. the request, all sent
            raise ValueError(
                f"This node's feed is longer than {MAX_JOIN_ENTRIES} entries; ask a node that "
                "knows it to introduce it instead"
            )
        signed = own.append(self.keys, JOIN_REQUEST, body, millis(self.clock()), [to])
        super().save(
            own,
            entries=[(own.feed_id, own.head, encode(signed))],
            bodies=[self._body_row(body, [to])],
        )
        entries, bodies = self._run(-1, MAX_JOIN_ENTRIES, to, MAX_PUSH_BYTES)
        if entries[-1] != signed:
            raise ValueError(
                "This node's feed is too large to send with a join request; ask a node that "
                "knows it to introduce it instead"
            )
        return Push(self.feed_id, entries, bodies)

    # The outbox.

    def delivery(self, feed_id: bytes) -> Delivery:
        return self.load(Delivery, delivery_id(feed_id))

    def pending_push(self, feed_id: bytes, limit: int = PUSH_BATCH) -> Push | None:
        """The next entries owed to a peer, with the bodies it may read; None when none."""
        delivery = self.delivery(feed_id)
        entries, bodies = self._run(delivery.next_seq - 1, limit, feed_id, MAX_PUSH_BYTES)
        if not entries:
            return None
        return Push(self.feed_id, entries, bodies)

    def claim_outbox(self, feed_id: bytes) -> bool:
        """Claim delivery to a peer for this process: False while another worker on the same
        store delivers to it (so that each entry is pushed once). On PostgreSQL, a lock that
        ends with the worker's connection, however the worker ends; other stores are served by
        one process, which always has the claim."""
        claim = getattr(self.recorder, "claim_outbox", None)
        return True if claim is None else bool(claim(feed_id))

    def release_outbox(self, feed_id: bytes) -> None:
        release = getattr(self.recorder, "release_outbox", None)
        if release is not None:
            release(feed_id)

    def close(self) -> None:
        drop_claims = getattr(self.recorder, "drop_claims", None)
        if drop_claims is not None:
            drop_claims()
        super().close()

    @retry_on_conflict
    def acknowledge(self, feed_id: bytes, next_seq: int) -> None:
        delivery = self.delivery(feed_id)
        if delivery.acknowledge(min(next_seq, self.own_feed().next_seq)):
            super().save(delivery)
