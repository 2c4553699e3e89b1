"""Peers: the relationship with another node, and how far our feed has been delivered to it."""

from __future__ import annotations

from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate, event

from domain.records import Copied
from node.network.feeds import delivery_id, peer_id
from node.store.topics import moved_from

PEER = "peer"  # a node we exchange feeds with
APPLICANT = "applicant"  # an unknown node that asked to join; it may only send its request
JOINING = "joining"  # a node we asked to join: we follow its feed, and push once admitted
REMOVED = "removed"

PEER_INDEX_ID = uuid5(NAMESPACE_URL, "circle-node:peer-index")


class PeerIndex(Copied, Aggregate):
    """The feed ids of every node this one knows, in the order it met them."""

    @staticmethod
    def create_id(**kwargs: Any) -> UUID:
        return PEER_INDEX_ID

    @event("Opened")
    def __init__(self) -> None:
        self.feed_ids: list[bytes] = []

    def add(self, feed_id: bytes) -> None:
        if feed_id not in self.feed_ids:
            self._added(feed_id)

    @event("Added")
    def _added(self, feed_id: bytes) -> None:
        self.feed_ids.append(feed_id)


class Peer(Copied, Aggregate):
    # Evidence recorded by later versions (class defaults: records and snapshots made before
    # them read as holding none).
    equivocation_chain: bytes = b""
    retired_key_seq: int | None = None
    retired_key_held: bytes | None = None
    retired_key_conflicting: bytes | None = None
    superseded_seq: int | None = None
    superseded_rotation: bytes | None = None
    superseded_dropped: int = 0
    superseded_evidence: bytes | None = None

    @staticmethod
    def create_id(feed_id: bytes, **kwargs: object) -> UUID:
        return peer_id(feed_id)

    @event("PeerAdded")
    def __init__(self, feed_id: bytes, url: str, name: str, status: str) -> None:
        self.feed_id = feed_id
        self.url = url
        self.name = name
        self.status = status
        self.stopped = False
        # The proof of a fork: the seq, the entry we held and the conflicting one (both signed).
        self.equivocation_seq: int | None = None
        self.equivocation_held: bytes | None = None
        self.equivocation_conflicting: bytes | None = None

    # Where the peer said it moved (a signed `node.moved` at `moving_since`), until this node
    # follows it there: "" when it said nothing, or was followed. (Class defaults: peers stored
    # before these were kept have none.)
    moving_to = ""
    moving_since = 0

    @event("MoveAnnounced")
    def announce_move(self, url: str, seq: int) -> None:
        """The peer's feed says, at `seq`, that it is served at `url` from now on."""
        self.moving_to = url
        self.moving_since = seq

    @event("MoveFollowed")
    def follow_move(self) -> None:
        """`moving_to` serves the peer's feed up to the move: pushes and pulls go there now."""
        self.url = self.moving_to
        self.moving_to = ""

    @event("PeerUpdated")
    def update(self, url: str, name: str, status: str) -> None:
        self.url = url
        self.name = name
        self.status = status

    @event("EquivocationRecorded")
    def record_equivocation(
        self, seq: int, held: bytes, conflicting: bytes, held_chain: bytes = b""
    ) -> None:
        """The peer signed two entries at `seq`: keep both as proof and stop taking its feed.
        `held_chain`: when the held entry's own signature does not verify (it came inside a
        page), the held entries after it up to one whose signature does (an encoded list of
        signed entries), which prove the feed signed it."""
        self.stopped = True
        self.equivocation_seq = seq
        self.equivocation_held = held
        self.equivocation_conflicting = conflicting
        self.equivocation_chain = held_chain

    @event("RetiredKeyUsed")
    def record_retired_key(self, seq: int, held: bytes, conflicting: bytes) -> None:
        """Someone signed a different entry at `seq` with the key the peer used there and has
        retired since: that key leaked. Both entries are kept; the feed goes on."""
        self.retired_key_seq = seq
        self.retired_key_held = held
        self.retired_key_conflicting = conflicting

    @event("FeedSuperseded")
    def record_superseded(self, seq: int, rotation: bytes, dropped: int, evidence: bytes) -> None:
        """The peer's superseding rotation at `seq` was taken: the `dropped` entries held from
        `seq` on are kept apart (under the feed key `evidence`) and their effects stand; a
        fork at or after `seq` is resolved, and the feed is taken again."""
        if self.equivocation_seq is not None and self.equivocation_seq >= seq:
            self.stopped = False
        self.superseded_seq = seq
        self.superseded_rotation = rotation
        self.superseded_dropped = dropped
        self.superseded_evidence = evidence


class Delivery(Copied, Aggregate):
    """The durable outbox towards one peer: every entry from `next_seq` on is still owed."""

    @staticmethod
    def create_id(feed_id: bytes, **kwargs: object) -> UUID:
        return delivery_id(feed_id)

    @event("DeliveryStarted")
    def __init__(self, feed_id: bytes) -> None:
        self.feed_id = feed_id
        self.next_seq = 1

    def acknowledge(self, next_seq: int) -> bool:
        if next_seq <= self.next_seq:
            return False
        self._acknowledged(next_seq)
        return True

    @event("Acknowledged")
    def _acknowledged(self, next_seq: int) -> None:
        self.next_seq = next_seq

    def rewind(self, next_seq: int) -> bool:
        """Owe the peer every entry from `next_seq` on again (the own feed was superseded
        there: what was delivered after it is no longer the feed)."""
        if next_seq >= self.next_seq:
            return False
        self._rewound(next_seq)
        return True

    @event("Rewound")
    def _rewound(self, next_seq: int) -> None:
        self.next_seq = next_seq


# Stores written before the node was divided into rooms name these classes by their old path.
moved_from("node.peers", __name__)
