"""What delivery needs of the node (`Delivering`) and of its parts: its peers, its outbox, the
intake of pulled pages, and taking its own feed back after a restore."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Protocol

from federation.wire import FeedPage, NodeDescriptor, Push
from node.network.feeds import PeerFeed
from node.network.observing import Observer
from node.network.outbox import OwedPushes
from node.network.peers import Delivery, Peer
from node.network.take_back import TakeBack


class Peering(Protocol):
    def peers(self) -> list[Peer]: ...

    def peer_feed(self, feed_id: bytes) -> PeerFeed: ...

    def held_feed(self, feed_id: bytes) -> PeerFeed: ...

    def follow_move(self, feed_id: bytes, url: str, descriptor: NodeDescriptor) -> Peer: ...


class Owing(Protocol):
    def delivery(self, feed_id: bytes) -> Delivery: ...

    def pending_push(self, feed_id: bytes) -> Push | None: ...

    def push_from(self, feed_id: bytes, next_seq: int) -> Push | None: ...

    def claim_owed(self, feed_ids: Sequence[bytes]) -> OwedPushes: ...

    def claim_outbox(self, feed_id: bytes) -> bool: ...

    def release_outbox(self, feed_id: bytes) -> None: ...

    def release_outboxes(self, feed_ids: Sequence[bytes]) -> None: ...

    def acknowledge(self, feed_id: bytes, next_seq: int) -> None: ...

    def acknowledge_all(self, acknowledged: Mapping[bytes, int]) -> None: ...


class Taking(Protocol):
    def receive_pages(self, pages: Sequence[FeedPage]) -> tuple[int, int]: ...


class Delivering(Protocol):
    """What delivery needs of the node: its peers, its outbox, the intake of pulled pages, and
    taking its own feed back after a restore."""

    @property
    def peering(self) -> Peering: ...

    @property
    def outbox(self) -> Owing: ...

    @property
    def intake(self) -> Taking: ...

    @property
    def take_back(self) -> TakeBack: ...

    @property
    def observer(self) -> Observer: ...
