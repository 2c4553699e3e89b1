"""The outbox: what this node owes each peer, derived from the peer's delivery cursor.

Every own entry from a peer's cursor on is still owed to it; the cursor moves only when the
peer acknowledges. Where several workers share a store, each peer's delivery is claimed by one
of them at a time (node/store/application.py).

A push round to many peers reads their cursors in one go (`claim_owed`: the delivery cursors
are kept in memory and brought up to date from the store, node/store/kept.py), the own feed's
entries and bodies once for all the peers that stand at the same seq, and saves their
acknowledgements together (`acknowledge_all`)."""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
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

    def runs(
        self, after: int, limit: int, readers: Sequence[bytes], max_bytes: int
    ) -> dict[bytes, tuple[list[SignedEntry], list[bytes]]]: ...


@dataclass(frozen=True)
class OwedPushes:
    """What `claim_owed` found: the peers owed something whose outboxes this process claimed
    (to be released), the first push to each, the cursor it was made from, and the seq the
    own feed was to append next."""

    claimed: list[bytes] = field(default_factory=list)
    pushes: dict[bytes, Push] = field(default_factory=dict)
    cursors: dict[bytes, int] = field(default_factory=dict)
    next_seq: int = 0


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
        return self.push_from(feed_id, self.delivery(feed_id).next_seq, limit)

    def push_from(self, feed_id: bytes, next_seq: int, limit: int = PUSH_BATCH) -> Push | None:
        """The entries from `next_seq` on, with the bodies the peer may read; None when none."""
        entries, bodies = self._own.run(next_seq - 1, limit, feed_id, MAX_PUSH_BYTES)
        if not entries:
            return None
        return Push(self._own.feed_id, entries, bodies)

    def claim_owed(self, feed_ids: Sequence[bytes], limit: int = PUSH_BATCH) -> OwedPushes:
        """Claim the outboxes of the peers owed something (those another worker has are left
        out), and make the first push to each: the own feed read once per seq they stand at."""
        next_seq = self._own.own_feed().next_seq
        cursors = self._cursors(feed_ids, listing="deliveries")  # every peer due, read whole
        owed = [f for f, seq in cursors.items() if seq < next_seq]
        claimed: list[bytes] = []
        try:
            for feed_id in owed:
                if self.claim_outbox(feed_id):
                    claimed.append(feed_id)
            if not claimed:
                return OwedPushes(next_seq=next_seq)
            return self._owed(claimed, limit, next_seq)
        except BaseException:  # none of the claims outlives a failed read
            self.release_outboxes(claimed)
            raise

    def _owed(self, claimed: list[bytes], limit: int, next_seq: int) -> OwedPushes:
        # Read again once claimed: another worker may have delivered meanwhile.
        cursors = self._cursors(claimed)
        standing: dict[int, list[bytes]] = {}
        for feed_id, seq in cursors.items():
            standing.setdefault(seq, []).append(feed_id)
        pushes = {}
        for seq, readers in standing.items():
            runs = self._own.runs(seq - 1, limit, readers, MAX_PUSH_BYTES)
            for reader, (entries, bodies) in runs.items():
                if entries:
                    pushes[reader] = Push(self._own.feed_id, entries, bodies)
        return OwedPushes(claimed, pushes, cursors, next_seq)

    def _cursors(self, feed_ids: Sequence[bytes], listing: str | None = None) -> dict[bytes, int]:
        """Each peer's cursor (a peer without one is left out), in one read of the store;
        `listing` names a read of every peer's (node/store/kept.py `peek_all`)."""
        ids = [delivery_id(feed_id) for feed_id in feed_ids]
        deliveries: list[Delivery] = self._store.kept.peek_all(ids, listing)
        return {delivery.feed_id: delivery.next_seq for delivery in deliveries}

    def claim_outbox(self, feed_id: bytes) -> bool:
        """Claim delivery to a peer for this process (False while another worker has it)."""
        return self._store.claim_outbox(feed_id)

    def release_outbox(self, feed_id: bytes) -> None:
        self._store.release_outbox(feed_id)

    def release_outboxes(self, feed_ids: Sequence[bytes]) -> None:
        for feed_id in feed_ids:
            self.release_outbox(feed_id)

    @retry_on_conflict
    def acknowledge(self, feed_id: bytes, next_seq: int) -> None:
        delivery = self.delivery(feed_id)
        if delivery.acknowledge(min(next_seq, self._own.own_feed().next_seq)):
            self._store.save(delivery)

    @retry_on_conflict
    def acknowledge_all(self, acknowledged: Mapping[bytes, int]) -> None:
        """Move the cursors of the peers that acknowledged (feed id: the seq each expects
        next), in one save."""
        next_seq = self._own.own_feed().next_seq
        kept = self._store.kept.peek_all([delivery_id(f) for f in acknowledged])
        changed = []
        for shared in kept:
            delivery: Delivery = copy.deepcopy(shared)  # the kept one is never changed
            if delivery.acknowledge(min(acknowledged[delivery.feed_id], next_seq)):
                changed.append(delivery)
        if changed:
            self._store.save(*changed)
            for delivery in changed:
                self._store.kept.adopt(delivery)
