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
    def record_equivocation(self, seq: int, held: bytes, conflicting: bytes) -> None:
        """The peer signed two entries at `seq`: keep both as proof and stop taking its feed."""
        self.stopped = True
        self.equivocation_seq = seq
        self.equivocation_held = held
        self.equivocation_conflicting = conflicting


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


# Stores written before the node was divided into rooms name these classes by their old path.
moved_from("node.peers", __name__)
