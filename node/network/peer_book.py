"""The nodes this one knows: peers, nodes asking to join or asked, nodes introduced by others.

Knowing a node means holding its inception (which proves its id), following its feed
(`PeerFeed`), and a delivery cursor for what this node owes it (`Delivery`). A node that is
met for the first time is also met by the circle (`met`: a relationship, recorded in the
same save)."""

from __future__ import annotations

import copy
from collections.abc import Callable, Sequence
from typing import Protocol

import msgspec
from eventsourcing.application import AggregateNotFoundError
from eventsourcing.domain import Aggregate

from federation.feed import FeedState, KeyEpoch, KeyHistory, key_at
from federation.verify import (
    Equivocation,
    Reason,
    Rejected,
    RetiredKey,
    decode_entry,
    decode_signed_entry,
    verify_inception,
    verify_signature,
)
from federation.wire import (
    BODY_REF_DECODER,
    INCEPTION,
    MAX_PAGE_BYTES,
    MAX_PAGE_ENTRIES,
    PROTOCOL_VERSION,
    ROTATION,
    FeedPage,
    NodeDescriptor,
    SignedEntry,
    encode,
)
from node.network.batch import Batch
from node.network.feeds import PeerFeed, delivery_id, peer_feed_id, peer_id
from node.network.own_feed import MESSAGE_OVERHEAD
from node.network.peers import PEER, PEER_INDEX_ID, REMOVED, Delivery, Peer, PeerIndex
from node.store.application import NodeStore
from node.store.recorders import EntryRow
from node.store.retry import retry_on_conflict


class NotAPeer(Exception):
    """The request needs a known peer."""


class MoveRefused(Exception):
    """A peer's new URL does not (yet) serve its feed up to its move; the message says how."""


class Meeting(Protocol):
    """What meeting a node changes here besides the transport (the circle's relationship)."""

    def __call__(self, feed_id: bytes, name: str, how: str) -> list[Aggregate]: ...


class OwnId(Protocol):
    @property
    def feed_id(self) -> bytes: ...


class PeerBook:
    """Peers and the feeds followed, for the intake, the outbox and the circle's relations."""

    def __init__(self, store: NodeStore, own: OwnId, met: Meeting) -> None:
        self._store = store
        self._own = own
        self._met = met

    # A peer and its feed are read through the store's kept aggregates (node/store/kept.py):
    # each use reads only the events after the kept version, and the caller gets a copy of
    # its own, as from a load.

    def peer(self, feed_id: bytes) -> Peer | None:
        try:
            peer: Peer = self._store.kept.copy(peer_id(feed_id))
        except AggregateNotFoundError:
            return None
        return peer

    def peer_feed(self, feed_id: bytes) -> PeerFeed:
        feed: PeerFeed = self._store.kept.copy(peer_feed_id(feed_id))
        return feed

    def peer_and_feed(self, feed_id: bytes) -> tuple[Peer | None, PeerFeed | None]:
        """The peer and its feed (None for either the store does not hold), copies of their
        own, in one read of the store (a catch-up reads both at each of its saves)."""
        ids = [peer_id(feed_id), peer_feed_id(feed_id)]
        found = {aggregate.id: aggregate for aggregate in self._store.kept.peek_all(ids)}
        peer, feed = (found.get(aggregate_id) for aggregate_id in ids)
        return copy.deepcopy(peer), copy.deepcopy(feed)

    def held_feed(self, feed_id: bytes) -> PeerFeed:
        """What is held of a peer's feed (its seq, its key), shared: read it, never change it
        (kept in memory, brought up to date from the store: node/store/kept.py)."""
        feed: PeerFeed = self._store.kept.peek(peer_feed_id(feed_id))
        return feed

    @retry_on_conflict
    def add_peer(self, descriptor: NodeDescriptor, url: str, status: str = PEER) -> bytes:
        """Know a node as a peer, from the descriptor it serves (its inception proves its id).
        With status JOINING, its feed is followed but nothing is pushed to it until it admits
        this node."""
        if descriptor.version != PROTOCOL_VERSION:
            raise Rejected(Reason.UNKNOWN_VERSION, f"protocol version {descriptor.version}")
        state = verify_inception(descriptor.inception, descriptor.feed)
        if state.feed_id == self._own.feed_id:
            raise ValueError("A node cannot peer with itself")
        peer = self.peer(state.feed_id)
        changed: list[Aggregate] = []
        rows: list[EntryRow] = []
        if peer is None:
            changed.append(
                Peer(feed_id=state.feed_id, url=url, name=descriptor.name, status=status)
            )
            changed.append(introduce(state))
            rows.append((state.feed_id, 0, encode(descriptor.inception)))
            changed.append(Delivery(feed_id=state.feed_id))
            changed.extend(self.indexed(state.feed_id))
            changed.extend(self._met(state.feed_id, descriptor.name, status))
        else:
            peer.update(url, descriptor.name, status if peer.status != PEER else PEER)
            changed.append(peer)
            if delivery_id(state.feed_id) not in self._store.repository:
                changed.append(Delivery(feed_id=state.feed_id))
        self._store.save(*changed, entries=rows)
        # The processes serving the store do not look at a node without peers until told of a
        # change (node/network/deliveries.py): tell them, as an append does (PostgreSQL; on
        # SQLite they hear the commit from the store's file).
        self._store.announce_appended()
        return state.feed_id

    def met(self, feed_id: bytes, name: str, how: str) -> list[Aggregate]:
        """What meeting a node changes here besides the transport (to save with it)."""
        return self._met(feed_id, name, how)

    def peers(self) -> list[Peer]:
        """Every peer, shared: read them, never change them (kept in memory and brought up to
        date from the store in one read for all: node/store/kept.py)."""
        try:
            index: PeerIndex = self._store.kept.peek(PEER_INDEX_ID)
        except AggregateNotFoundError:
            return []
        ids = [peer_id(feed_id) for feed_id in index.feed_ids]
        peers: list[Peer] = self._store.kept.peek_all(ids, listing="peers")
        return peers

    def indexed(self, feed_id: bytes) -> list[Aggregate]:
        """The peer index with `feed_id` added (to save with the new peer)."""
        try:
            index: PeerIndex = self._store.load(PeerIndex, PEER_INDEX_ID)
        except AggregateNotFoundError:
            index = PeerIndex()
        index.add(feed_id)
        return [index]

    def held_entry(self, feed: PeerFeed, seq: int) -> SignedEntry | None:
        if not 0 <= seq < feed.next_seq:
            return None
        (raw,) = self._store.feeds.select_entries(feed.feed_id, seq - 1, 1)
        return decode_signed_entry(raw)

    def held_copy(self, feed_id: bytes, after: int, limit: int) -> FeedPage | None:
        """What this node holds of a feed, for that feed's own node taking it back after a
        restore: entries after `after` with the bodies of them held here that the reader may
        have (`_yours`), within a page's byte limit; None if not held."""
        try:
            feed = self.peer_feed(feed_id)
        except AggregateNotFoundError:
            return None
        raws = self._store.feeds.select_entries(feed_id, after, limit)
        signed = [decode_signed_entry(raw) for raw in raws]
        named = [digest for s in signed if (digest := BODY_REF_DECODER.decode(s.entry).body_hash)]
        stored = self._yours(feed_id, self._store.stored_bodies(named))
        budget = MAX_PAGE_BYTES - MESSAGE_OVERHEAD
        entries: list[SignedEntry] = []
        bodies: list[bytes] = []
        for item in signed:
            digest = BODY_REF_DECODER.decode(item.entry).body_hash
            body = stored.get(digest) if digest else None
            size = len(item.entry) + len(item.signature) + 16 + (len(body) + 8 if body else 0)
            if entries and size > budget:
                break
            budget -= size
            entries.append(item)
            if body is not None:
                bodies.append(body)
        return FeedPage(feed_id, entries, bodies, feed.next_seq - 1)

    def _yours(
        self, feed_id: bytes, stored: dict[bytes, tuple[bytes, list[bytes]]]
    ) -> dict[bytes, bytes]:
        """Of bodies the reader's own entries name, those it may have back: public ones, those
        addressed to it, and those addressed to others that no other feed held here binds.
        Bodies are stored once per hash, so an entry naming a hash proves nothing of who wrote
        the body: a body that another feed (this node's own included) binds too stays with
        its audience, or anyone could name another's hash in its feed and read it back."""
        yours = {
            d: data for d, (data, audience) in stored.items() if not audience or feed_id in audience
        }
        private = set(stored) - set(yours)
        if private:
            others = [self._own.feed_id, *(p.feed_id for p in self.peers() if p.feed_id != feed_id)]
            for other in others:
                for raw in self._store.held_entries(other):
                    private.discard(
                        BODY_REF_DECODER.decode(decode_signed_entry(raw).entry).body_hash
                    )
                if not private:
                    break
            yours.update({digest: stored[digest][0] for digest in private})
        return yours

    def hash_at(self, feed: PeerFeed) -> Callable[[int], bytes | None]:
        def hash_at(seq: int) -> bytes | None:
            if seq == 0:
                return feed.feed_id
            held = self.held_entry(feed, seq)
            return held.hash if held is not None else None

        return hash_at

    def key_history(self, feed: PeerFeed) -> KeyHistory:
        """The feed's key epochs as held, for an entry that conflicts with a held one: as the
        feed records them, or read from the held entries where it does not (older stores)."""

        def history() -> Sequence[KeyEpoch]:
            epochs = feed.key_epochs()
            return epochs if epochs is not None else self._read_key_epochs(feed)

        return history

    def _read_key_epochs(self, feed: PeerFeed) -> list[KeyEpoch]:
        epochs: list[KeyEpoch] = []
        after = -1
        while after < feed.next_seq - 1:
            rows = self._store.feeds.select_entries(feed.feed_id, after, MAX_PAGE_ENTRIES)
            if not rows:
                break
            for raw in rows:
                entry = decode_entry(decode_signed_entry(raw))
                if entry.type in (INCEPTION, ROTATION) and entry.keys is not None:
                    epochs.append(KeyEpoch(entry.seq, entry.keys.current, entry.keys.next_digest))
                after = entry.seq
        return epochs

    def record_equivocation(self, peer: Peer, feed: PeerFeed, proof: Equivocation) -> None:
        """Stop the feed, keeping the proof: both signed entries, the held one with what
        proves its signature (`_held_proof`)."""
        held, chain = self._held_proof(feed, proof.fork_seq)
        peer.record_equivocation(
            proof.fork_seq, encode(held) if held else b"", encode(proof.conflicting), chain
        )
        self._store.save(peer)

    def record_retired_key(self, peer: Peer, feed: PeerFeed, proof: RetiredKey) -> bool:
        """Keep the evidence that a key the peer retired signed a conflicting entry (the first
        such entry only: a thief can sign any number); the feed goes on. Returns whether it
        was recorded now."""
        if peer.retired_key_seq is not None:
            return False
        held = self.held_entry(feed, proof.fork_seq)
        peer.record_retired_key(
            proof.fork_seq, encode(held) if held else b"", encode(proof.conflicting)
        )
        self._store.save(peer)
        return True

    def _held_proof(self, feed: PeerFeed, seq: int) -> tuple[SignedEntry | None, bytes]:
        """The held half of a proof at `seq`, self-contained: the entry held there, and, if its
        own signature does not verify (entries inside a page are authenticated by the chain),
        the held entries after it up to the first whose signature does, encoded as a list."""
        held = self.held_entry(feed, seq)
        if held is None or self._signature_holds(feed, held):
            return held, b""
        chain: list[SignedEntry] = []
        for raw in self._store.feeds.select_entries(feed.feed_id, seq, MAX_PAGE_ENTRIES):
            signed = decode_signed_entry(raw)
            chain.append(signed)
            if self._signature_holds(feed, signed):
                break
        return held, msgspec.msgpack.encode(chain)

    def _signature_holds(self, feed: PeerFeed, signed: SignedEntry) -> bool:
        entry = decode_entry(signed)
        if entry.keys is not None:  # a key event is signed by the key it names
            key = entry.keys.current
        else:
            key = key_at(feed.state, self.key_history(feed)(), entry.seq)
        try:
            verify_signature(key, signed, entry.seq)
        except Rejected:
            return False
        return True

    @retry_on_conflict
    def remove_peer(self, feed_id: bytes) -> bool:
        """Stop exchanging feeds with a peer; returns False if it is not one."""
        peer = self.peer(feed_id)
        if peer is None or peer.status == REMOVED:
            return False
        peer.update(peer.url, peer.name, REMOVED)
        self._store.save(peer)
        return True

    @retry_on_conflict
    def follow_move(self, feed_id: bytes, url: str, descriptor: NodeDescriptor) -> Peer:
        """The peer said it moved to `url` (`Peer.moving_to`), and `descriptor` is what `url`
        serves: follow it there if the descriptor proves the same feed (its inception) with a
        head at or past the move. MoveRefused says why not."""
        peer = self.peer(feed_id)
        if peer is None or not peer.moving_to:
            raise NotAPeer("This node knows no move of that node")
        if peer.moving_to != url:
            raise MoveRefused(f"it has said since that it moved to {peer.moving_to}")
        if descriptor.version != PROTOCOL_VERSION:
            raise MoveRefused(f"it serves protocol version {descriptor.version}")
        try:
            state = verify_inception(descriptor.inception, descriptor.feed)
        except Rejected as rejected:
            raise MoveRefused(f"its descriptor does not verify: {rejected}") from None
        if state.feed_id != feed_id:
            raise MoveRefused("it serves another node's feed")
        if descriptor.head < peer.moving_since:
            raise MoveRefused(
                f"its feed ends at {descriptor.head}, before the move (entry {peer.moving_since})"
            )
        peer.follow_move()
        self._store.save(peer)
        return peer

    def make_peer(self, feed_id: bytes) -> list[Aggregate]:
        """The transport side of admitting a node, or of being admitted: from now on feeds
        flow both ways. Returns the aggregates to save with the decision that causes it."""
        peer = self.peer(feed_id)
        if peer is None:
            raise NotAPeer("This node does not know that node")
        changed: list[Aggregate] = []
        if peer.status != PEER:
            peer.update(peer.url, peer.name, PEER)
            changed.append(peer)
        if delivery_id(feed_id) not in self._store.repository:
            changed.append(Delivery(feed_id=feed_id))
        return changed

    def follow(self, inception: SignedEntry, url: str, name: str, batch: Batch) -> bytes | None:
        """Follow a node another one introduced (its inception proves its id); returns its feed
        id, or None if it is this node or already known."""
        state = verify_inception(inception)
        if state.feed_id == self._own.feed_id or self.peer(state.feed_id) is not None:
            return None
        if peer_id(state.feed_id) in batch:
            return None
        batch.add(Peer(feed_id=state.feed_id, url=url, name=name, status=PEER))
        batch.add(introduce(state))
        batch.add(Delivery(feed_id=state.feed_id))
        batch.entries.append((state.feed_id, 0, encode(inception)))
        index = batch.get(PEER_INDEX_ID, PeerIndex)
        index.add(state.feed_id)
        return state.feed_id


def introduce(state: FeedState) -> PeerFeed:
    """The feed of a node met, from its verified inception."""
    return PeerFeed(feed_id=state.feed_id, key=state.key, next_digest=state.next_digest)
