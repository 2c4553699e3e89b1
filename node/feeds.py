"""Feeds in the event store: the node's own feed, the feeds it holds of its peers, and bodies.

The own feed's aggregate version is its entry's seq + 1, and so is a peer feed's: the store's
unique (aggregate, version) key is what makes a fork of the own feed impossible and what stores
each peer entry exactly once, whatever the races and redeliveries.
"""

from __future__ import annotations

from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate, event

from federation import feed as feeds
from federation.feed import FeedState
from federation.keys import NodeKeys
from federation.verify import decode_entry
from federation.wire import ROTATION, SignedEntry, encode

OWN_FEED_ID = uuid5(NAMESPACE_URL, "circle-node:own-feed")


def peer_feed_id(feed_id: bytes) -> UUID:
    return uuid5(NAMESPACE_URL, f"circle-node:peer-feed:{feed_id.hex()}")


def peer_id(feed_id: bytes) -> UUID:
    return uuid5(NAMESPACE_URL, f"circle-node:peer:{feed_id.hex()}")


def delivery_id(feed_id: bytes) -> UUID:
    return uuid5(NAMESPACE_URL, f"circle-node:delivery:{feed_id.hex()}")


def body_id(digest: bytes) -> UUID:
    return uuid5(NAMESPACE_URL, f"circle-node:body:{digest.hex()}")


class OwnFeed(Aggregate):
    """This node's feed: everything it says to others, signed, in order."""

    @staticmethod
    def create_id(**kwargs: object) -> UUID:
        return OWN_FEED_ID

    @classmethod
    def incept(cls, keys: NodeKeys, time_ms: int) -> OwnFeed:
        signed, state = feeds.incept(keys, time_ms)
        return cls(
            signed=encode(signed),
            feed_id=state.feed_id,
            key=state.key,
            next_digest=state.next_digest,
        )

    @event("Incepted")
    def __init__(self, signed: bytes, feed_id: bytes, key: bytes, next_digest: bytes) -> None:
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
        signed, state = feeds.append(self.state, keys, type, body, time_ms, audience)
        self._appended(state.next_seq - 1, encode(signed), state.last_hash)
        return signed

    @event("Appended")
    def _appended(self, seq: int, signed: bytes, hash: bytes) -> None:
        self.next_seq = seq + 1
        self.last_hash = hash

    def rotate(self, keys: NodeKeys, time_ms: int) -> NodeKeys:
        """Rotate to the pre-committed key; returns the keys to sign with from now on."""
        signed, state, new_keys = feeds.rotate(self.state, keys, time_ms)
        self._rotated(
            state.next_seq - 1, encode(signed), state.last_hash, state.key, state.next_digest
        )
        return new_keys

    @event("Rotated")
    def _rotated(
        self, seq: int, signed: bytes, hash: bytes, key: bytes, next_digest: bytes
    ) -> None:
        self.next_seq = seq + 1
        self.last_hash = hash
        self.key = key
        self.next_digest = next_digest
        self.rotation_seqs.append(seq)


class PeerFeed(Aggregate):
    """What this node holds of a peer's feed: verified entries only, each once."""

    @staticmethod
    def create_id(feed_id: bytes, **kwargs: object) -> UUID:
        return peer_feed_id(feed_id)

    @event("Introduced")
    def __init__(self, feed_id: bytes, inception: bytes, key: bytes, next_digest: bytes) -> None:
        self.feed_id = feed_id
        self.next_seq = 1
        self.last_hash = feed_id
        self.key = key
        self.next_digest = next_digest

    @property
    def state(self) -> FeedState:
        return FeedState(self.feed_id, self.next_seq, self.last_hash, self.key, self.next_digest)

    def hold(self, signed: SignedEntry) -> None:
        """Record a verified entry (the caller verified it against `state`)."""
        entry = decode_entry(signed)
        keys = entry.keys if entry.type == ROTATION else None
        self._received(
            entry.seq,
            encode(signed),
            signed.hash,
            keys.current if keys else None,
            keys.next_digest if keys else None,
        )

    @event("Received")
    def _received(
        self, seq: int, signed: bytes, hash: bytes, key: bytes | None, next_digest: bytes | None
    ) -> None:
        self.next_seq = seq + 1
        self.last_hash = hash
        if key is not None and next_digest is not None:
            self.key = key
            self.next_digest = next_digest


class Body(Aggregate):
    """A body, stored apart from its entry and named by its hash: it can be withheld or erased."""

    @staticmethod
    def create_id(digest: bytes, **kwargs: object) -> UUID:
        return body_id(digest)

    @event("Stored")
    def __init__(self, digest: bytes, data: bytes, audience: list[bytes]) -> None:
        self.digest = digest
        self.data = data
        self.audience = audience
