"""Feeds in the event store: the node's own feed and the feeds it holds of its peers.

The aggregates keep each feed's state (next seq, last hash, keys); the signed entries
themselves go to the recorder's entry table in the same save. Each save that appends to the
own feed records one event of its aggregate (whatever the number of entries), so two
concurrent appends, loading the same version, conflict instead of forking the feed; a peer
feed advances by runs of verified entries, and the entry table's (feed, seq) key stores each
entry once, whatever the races and redeliveries.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate, event

from domain.records import Copied
from federation import feed as feeds
from federation.feed import FeedState, KeyEpoch
from federation.keys import NodeKeys
from federation.wire import NODE_MOVED, SignedEntry
from node.store.topics import moved_from

OWN_FEED_ID = uuid5(NAMESPACE_URL, "circle-node:own-feed")


def peer_feed_id(feed_id: bytes) -> UUID:
    return uuid5(NAMESPACE_URL, f"circle-node:peer-feed:{feed_id.hex()}")


def peer_id(feed_id: bytes) -> UUID:
    return uuid5(NAMESPACE_URL, f"circle-node:peer:{feed_id.hex()}")


def delivery_id(feed_id: bytes) -> UUID:
    return uuid5(NAMESPACE_URL, f"circle-node:delivery:{feed_id.hex()}")


def dropped_entries_key(rotation_hash: bytes) -> bytes:
    """The key under which the entries a superseding rotation dropped are kept, as evidence,
    in the entry table (in place of their feed id; never a feed id, which is the hash of an
    inception entry)."""
    return hashlib.sha256(b"circle-node/superseded\x00" + rotation_hash).digest()


class OwnFeed(Copied, Aggregate):
    """This node's feed: everything it says to others, signed, in order."""

    # The URL the feed last said the node is served at (`node.moved`); none said yet: "".
    # (A class default: feeds stored before it was kept have none.)
    url = ""

    @staticmethod
    def create_id(**kwargs: object) -> UUID:
        return OWN_FEED_ID

    @classmethod
    def incept(cls, keys: NodeKeys, time_ms: int) -> tuple[OwnFeed, SignedEntry]:
        signed, state = feeds.incept(keys, time_ms)
        own = cls(feed_id=state.feed_id, key=state.key, next_digest=state.next_digest)
        return own, signed

    @event("Incepted")
    def __init__(self, feed_id: bytes, key: bytes, next_digest: bytes) -> None:
        self.feed_id = feed_id
        self.next_seq = 1
        self.last_hash = feed_id
        self.key = key
        self.next_digest = next_digest
        self.rotation_seqs: list[int] = []

    @property
    def state(self) -> FeedState:
        return FeedState(self.feed_id, self.next_seq, self.last_hash, self.key, self.next_digest)

    @property
    def head(self) -> int:
        return self.next_seq - 1

    def append(
        self,
        keys: NodeKeys,
        type: str,
        body: bytes | None,
        time_ms: int,
        audience: list[bytes] | None = None,
    ) -> SignedEntry:
        """Sign the next entry; the caller stores it with the save that records this."""
        (signed,) = self.append_all(keys, [(type, body, audience)], time_ms)
        return signed

    def append_all(
        self,
        keys: NodeKeys,
        items: Sequence[tuple[str, bytes | None, list[bytes] | None]],
        time_ms: int,
    ) -> list[SignedEntry]:
        """Sign the next entries, (type, body, audience) each, recorded by one event: a
        save that appends a thousand entries stores one event of the own feed, not a
        thousand (the entries themselves go to the entry table)."""
        state = self.state
        signed = []
        for type, body, audience in items:
            entry, state = feeds.append(state, keys, type, body, time_ms, audience)
            signed.append(entry)
        if signed:
            self._appended(state.next_seq - 1, state.last_hash)
        return signed

    @event("Appended")
    def _appended(self, seq: int, hash: bytes) -> None:
        self.next_seq = seq + 1
        self.last_hash = hash

    def move(self, keys: NodeKeys, url: str, body: bytes, time_ms: int) -> SignedEntry:
        """Sign a `node.moved` entry (its body names `url`) and keep the URL it says."""
        signed, state = feeds.append(self.state, keys, NODE_MOVED, body, time_ms)
        self._moved(state.next_seq - 1, state.last_hash, url)
        return signed

    @event("Moved")
    def _moved(self, seq: int, hash: bytes, url: str) -> None:
        self.next_seq = seq + 1
        self.last_hash = hash
        self.url = url

    def rotate(self, keys: NodeKeys, time_ms: int) -> tuple[SignedEntry, NodeKeys]:
        """Rotate to the pre-committed key; returns the entry and the keys to sign with now."""
        signed, state, new_keys = feeds.rotate(self.state, keys, time_ms)
        self._rotated(state.next_seq - 1, state.last_hash, state.key, state.next_digest)
        return signed, new_keys

    def supersede(
        self, keys: NodeKeys, after: int, after_hash: bytes, time_ms: int
    ) -> tuple[SignedEntry, NodeKeys]:
        """Sign a superseding rotation right after own entry `after` (whose hash is
        `after_hash`): the pre-committed next key, revealed, tells peers to drop whatever
        they hold of this feed after `after` (PROTOCOL.md 6.1). Returns the entry and the keys
        to sign with now; the caller moves the own entries after `after` apart."""
        if not 0 <= after <= self.head:
            raise ValueError(f"This feed's entries are 0 to {self.head}; {after} is not one")
        at = FeedState(self.feed_id, after + 1, after_hash, self.key, self.next_digest)
        signed, state, new_keys = feeds.rotate(at, keys, time_ms)
        self._superseded(after + 1, state.last_hash, state.key, state.next_digest)
        return signed, new_keys

    @event("Superseded")
    def _superseded(self, seq: int, hash: bytes, key: bytes, next_digest: bytes) -> None:
        self.next_seq = seq + 1
        self.last_hash = hash
        self.key = key
        self.next_digest = next_digest
        self.rotation_seqs = [*(kept for kept in self.rotation_seqs if kept < seq), seq]

    @event("Rotated")
    def _rotated(self, seq: int, hash: bytes, key: bytes, next_digest: bytes) -> None:
        self.next_seq = seq + 1
        self.last_hash = hash
        self.key = key
        self.next_digest = next_digest
        self.rotation_seqs.append(seq)

    def take_back(
        self,
        first_seq: int,
        after: FeedState,
        rotation_seqs: list[int],
        types: dict[str, int],
        peers: list[str],
        missing_bodies: int,
        erased_again: int = 0,
    ) -> None:
        """Hold again the entries this feed signed before a restore, verified against its
        state, as peers hold them (the caller stores them with the same save). `types`
        counts them by type, `peers` names the nodes they came from, `missing_bodies`
        counts the bodies no peer held and `erased_again` the people whose erasure among them
        is done again: what the logbook says of the restore."""
        self._took_back(
            first_seq,
            after.next_seq - 1,
            after.last_hash,
            after.key,
            after.next_digest,
            rotation_seqs,
            types,
            peers,
            missing_bodies,
            erased_again,
        )

    @event("TookBack")
    def _took_back(
        self,
        first_seq: int,
        last_seq: int,
        hash: bytes,
        key: bytes,
        next_digest: bytes,
        rotation_seqs: list[int],
        types: dict[str, int],
        peers: list[str],
        missing_bodies: int,
        erased_again: int = 0,
    ) -> None:
        self.next_seq = last_seq + 1
        self.last_hash = hash
        self.key = key
        self.next_digest = next_digest
        self.rotation_seqs.extend(rotation_seqs)


class PeerFeed(Copied, Aggregate):
    """What this node holds of a peer's feed: its state after the verified entries held.

    Each event records a contiguous run (a pulled page, or a push): catching up stores one
    small event per page, and the entries themselves in the entry table.
    """

    @staticmethod
    def create_id(feed_id: bytes, **kwargs: object) -> UUID:
        return peer_feed_id(feed_id)

    @event("Introduced")
    def __init__(self, feed_id: bytes, key: bytes, next_digest: bytes) -> None:
        self.feed_id = feed_id
        self.next_seq = 1
        self.last_hash = feed_id
        self.key = key
        self.next_digest = next_digest
        # The key events held, [seq, key, next digest] each: the inception's, then each
        # rotation's (plain lists: they are part of the snapshots).
        self.key_events: list[list[Any]] = [[0, key, next_digest]]

    @property
    def state(self) -> FeedState:
        return FeedState(self.feed_id, self.next_seq, self.last_hash, self.key, self.next_digest)

    def key_epochs(self) -> list[KeyEpoch] | None:
        """The key epochs of the feed as held, oldest first; None when they are not known
        (runs held, or snapshots taken, by versions that did not record them)."""
        events = self.__dict__.get("key_events")
        if not events or events[-1][1] != self.key:
            return None
        return [KeyEpoch(int(seq), bytes(key), bytes(digest)) for seq, key, digest in events]

    def hold(
        self,
        count: int,
        after: FeedState,
        rotations: Sequence[KeyEpoch] = (),
        first_seq: int | None = None,
    ) -> None:
        """Record that `count` entries from `first_seq` (by default the next one), verified,
        are held, leading to the state `after` (the caller stores the entries with the same
        save); `rotations` are the key events among them. A run that starts at a seq already
        held starts with a superseding rotation: what was held from there on is dropped."""
        start = self.next_seq if first_seq is None else first_seq
        self._held(
            start,
            count,
            after.last_hash,
            after.key,
            after.next_digest,
            tuple((epoch.seq, epoch.key, epoch.next_digest) for epoch in rotations),
        )

    @event("Held")
    def _held(
        self,
        first_seq: int,
        count: int,
        last_hash: bytes,
        key: bytes,
        next_digest: bytes,
        rotations: tuple[tuple[int, bytes, bytes], ...] = (),
    ) -> None:
        self.next_seq = first_seq + count
        self.last_hash = last_hash
        self.key = key
        self.next_digest = next_digest
        events = self.__dict__.get("key_events") or []
        kept = [event for event in events if int(event[0]) < first_seq]
        self.key_events = kept + [list(rotation) for rotation in rotations]


# Stores written before the node was divided into rooms name these classes by their old path.
moved_from("node.feeds", __name__)
