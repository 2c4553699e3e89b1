"""One push round of a node: everything owed to each of its peers due a push, sent to them
together, and their acknowledgements saved.

The round's store work is done for all its peers at once, not peer by peer: their cursors are
read and their outboxes claimed in one call (`Outbox.claim_owed`, which reads the own feed once
for all the peers standing at the same seq), and the acknowledgements are saved together
(`Acknowledgements`): those that come while a save is under way go in the next one. Each
peer's delivery pushes what was owed when the round began (what is appended meanwhile wakes the
next round) until it is up to date or fails; its outbox is released to other workers
(PostgreSQL's claims) when it ends, once its acknowledgements are saved, not when the slowest
peer's ends. Once a save of acknowledgements failed, nothing more is pushed in the round. An
acknowledgement not saved when the process dies leaves the cursor where it was: those entries
are pushed again and taken as duplicates (at least once, as ever).

The `Federator` (node/network/delivery.py) decides when a round runs and which peers are due;
how each push went is kept on the peer's link (backoff after a failure, or after a push the
peer took nothing of).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass

from federation.backoff import Backoff
from federation.client import FederationClient, TransportError
from federation.feed import node_id
from federation.wire import Push
from node.logs import about_peer
from node.network.delivery_ports import Delivering
from node.network.peer_links import PeerLink
from node.network.peers import Peer
from node.network.pulling import InThread

log = logging.getLogger("circle_node.delivery")


class Acknowledgements:
    """Acknowledgements of a round, saved as they come: one save at a time, each taking all
    that came while the one before it was under way (`add`); `saved` waits until all that came
    are saved, and raises what a save raised. Once a save failed, none is saved any more
    (`failed`): the cursors stay where they were."""

    def __init__(self, save: Callable[[dict[bytes, int]], None], in_thread: InThread) -> None:
        self._save = save
        self._in_thread = in_thread
        self._waiting: dict[bytes, int] = {}
        self._saving: asyncio.Task[None] | None = None
        self._error: Exception | None = None

    @property
    def failed(self) -> bool:
        return self._error is not None

    def add(self, feed_id: bytes, next_seq: int) -> None:
        self._waiting[feed_id] = max(next_seq, self._waiting.get(feed_id, 0))
        if self._saving is None and self._error is None:
            self._saving = asyncio.create_task(self._save_waiting())

    async def _save_waiting(self) -> None:
        try:
            while self._waiting and self._error is None:
                batch, self._waiting = self._waiting, {}
                try:
                    await self._in_thread(self._save, batch)
                except BaseException:
                    for feed_id, next_seq in batch.items():  # still to be saved
                        self._waiting[feed_id] = max(next_seq, self._waiting.get(feed_id, 0))
                    raise
        except Exception as error:  # raised by `saved`
            self._error = error
        finally:
            self._saving = None

    async def saved(self) -> None:
        """Wait until every acknowledgement added so far is saved (a waiter cancelled does
        not cancel the save the others wait for)."""
        while self._saving is not None:
            await asyncio.shield(self._saving)
        if self._error is not None:
            raise self._error


@dataclass(frozen=True)
class PushRound:
    """What a round needs: the node, the federation client, each peer's link (timed by
    `clock`; `backoff` and `rand` for the wait after a failure), and delivery's threads."""

    node: Delivering
    client: FederationClient
    link: Callable[[bytes], PeerLink]
    clock: Callable[[], float]
    backoff: Backoff
    rand: Callable[[], float]
    in_thread: InThread

    async def run(self, due: list[Peer]) -> None:
        """Push everything owed to each of `due`, batch by batch, until it is up to date or
        fails. Several workers on one store take turns: only the one that claims a peer's
        outbox pushes to it, from the cursor as the last one left it (so each entry is pushed
        once). Each peer's claim is released when its delivery ends and its acknowledgements
        are saved; the round raises the first error of its peers' deliveries once they have
        all ended."""
        outbox = self.node.outbox
        owed = await self.in_thread(outbox.claim_owed, [peer.feed_id for peer in due])
        if not owed.claimed:
            return
        acknowledgements = Acknowledgements(outbox.acknowledge_all, self.in_thread)
        pushing = [peer for peer in due if peer.feed_id in owed.pushes]
        idle = [f for f in owed.claimed if f not in owed.pushes]  # caught up meanwhile
        releasing_idle = [self.in_thread(outbox.release_outboxes, idle)] if idle else []
        outcomes = await asyncio.gather(
            *releasing_idle,
            *(
                self._deliver_then_release(
                    peer,
                    owed.pushes[peer.feed_id],
                    owed.cursors[peer.feed_id],
                    owed.next_seq,
                    acknowledgements,
                )
                for peer in pushing
            ),
            return_exceptions=True,
        )
        errors = [outcome for outcome in outcomes if isinstance(outcome, BaseException)]
        for error in errors[1:]:
            if error is not errors[0]:
                log.warning("another delivery of the push round failed too", exc_info=error)
        if errors:
            raise errors[0]

    async def _deliver_then_release(
        self,
        peer: Peer,
        push: Push,
        cursor: int,
        next_seq: int,
        acknowledgements: Acknowledgements,
    ) -> None:
        """Deliver to one peer, then release its outbox once its acknowledgements are saved
        (at least once: a claim never goes before the cursor it leaves is durable)."""
        try:
            await self._deliver(peer, push, cursor, next_seq, acknowledgements)
        finally:
            try:
                await acknowledgements.saved()
            finally:
                await self.in_thread(self.node.outbox.release_outboxes, [peer.feed_id])

    async def _deliver(
        self,
        peer: Peer,
        push: Push | None,
        cursor: int,
        next_seq: int,
        acknowledgements: Acknowledgements,
    ) -> None:
        """Push to one peer from `cursor` on (`push` the first batch), while the own feed's
        `next_seq` was what it was when the round began (later entries: the next round), until
        a push fails or an acknowledgement could not be saved (what it pushes could not be
        acknowledged)."""
        link = self.link(peer.feed_id)
        while push is not None and not acknowledgements.failed:
            try:
                reply = await self.client.push(peer.url, push)
            except TransportError as error:
                self._failed(peer, link, error.reason if error.status is None else str(error))
                return
            acknowledgements.add(peer.feed_id, reply.next_seq)
            if reply.next_seq <= cursor:
                # No progress: back off like a failure (the peer pulls what it misses).
                self._failed(peer, link, f"no progress: {reply.reason or 'nothing taken'}")
                return
            cursor = reply.next_seq
            link.failures = 0
            link.last_error = reply.reason
            link.delivered_at = self.clock()
            self.node.observer.contacted(peer.feed_id)
            if reply.reason:
                log.warning(
                    "peer %s refused part of a push: %s",
                    node_id(peer.feed_id),
                    reply.reason,
                    extra=about_peer(node_id(peer.feed_id)),
                )
            push = None
            if cursor < next_seq:  # more than one push's worth was owed
                push = await self.in_thread(self.node.outbox.push_from, peer.feed_id, cursor)

    def _failed(self, peer: Peer, link: PeerLink, error: str) -> None:
        link.failures += 1
        self.node.observer.delivery_failed(peer.feed_id, "push")
        link.last_error = error
        delay = self.backoff.delay(link.failures, self.rand)
        link.not_before = self.clock() + delay
        log.warning(
            "push to %s failed (attempt %d, retrying in %.1f s): %s",
            node_id(peer.feed_id),
            link.failures,
            delay,
            error,
            extra=about_peer(node_id(peer.feed_id)),
        )
