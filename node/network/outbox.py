"""The outbox: what this node owes each peer, derived from the peer's delivery cursor.

Every own entry from a peer's cursor on is still owed to it; the cursor moves only when the
peer acknowledges. Where several workers share a store, each peer's delivery is claimed by one
of them at a time (node/store/application.py)."""

from __future__ import annotations

from typing import Protocol

from federation.wire import MAX_PUSH_BYTES, Push, SignedEntry
from node.network.feeds import OwnFeed, delivery_id
from node.network.peers import Delivery
from node.store.application import NodeStore
from node.store.retry import retry_on_conflict

PUSH_BATCH = 200


class OwnFeedRuns(Protocol):
    """What the outbox reads of the own feed."""

    @property
    def feed_id(self) -> bytes: ...

    def own_feed(self) -> OwnFeed: ...

    def run(
        self, after: int, limit: int, reader: bytes | None, max_bytes: int
    ) -> tuple[list[SignedEntry], list[bytes]]: ...


class Outbox:
    """Delivery cursors, the pushes they call for, and claims on them."""

    def __init__(self, store: NodeStore, own: OwnFeedRuns) -> None:
        self._store = store
        self._own = own

    def delivery(self, feed_id: bytes) -> Delivery:
        delivery: Delivery = self._store.load(Delivery, delivery_id(feed_id))
        return delivery

    def pending_push(self, feed_id: bytes, limit: int = PUSH_BATCH) -> Push | None:
        """The next entries owed to a peer, with the bodies it may read; None when none."""
        delivery = self.delivery(feed_id)
        entries, bodies = self._own.run(delivery.next_seq - 1, limit, feed_id, MAX_PUSH_BYTES)
        if not entries:
            return None
        return Push(self._own.feed_id, entries, bodies)

    def claim_outbox(self, feed_id: bytes) -> bool:
        """Claim delivery to a peer for this process (False while another worker has it)."""
        return self._store.claim_outbox(feed_id)

    def release_outbox(self, feed_id: bytes) -> None:
        self._store.release_outbox(feed_id)

    @retry_on_conflict
    def acknowledge(self, feed_id: bytes, next_seq: int) -> None:
        delivery = self.delivery(feed_id)
        if delivery.acknowledge(min(next_seq, self._own.own_feed().next_seq)):
            self._store.save(delivery)
