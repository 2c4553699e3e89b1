"""Delivery between one node and its peers: pushing its outbox, pulling from its peers.

A `Federator` keeps how delivery to each peer is going and does the work for one node; its
`run` drives it alone, while a server drives every node of its process from one loop
(node/network/deliveries.py), calling `push_round`, `pull_peer` and the rest. One pull from
one peer (catching up, following a move, a superseding rotation) is node/network/pulling.py.

The outbox is durable because it is derived: every own entry from a peer's delivery cursor on
is still owed to it, and the cursor moves only when the peer acknowledges. Failed pushes are
retried with exponential backoff and full jitter, for ever, and each failure is logged.
Pulls run at start and periodically, so a lost push never loses anything.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

import anyio

from federation.backoff import Backoff
from federation.client import FederationClient
from federation.feed import node_id
from node.logs import about_peer
from node.network.background import BackgroundWork, Stopped
from node.network.delivery_ports import Delivering
from node.network.leading import Leading
from node.network.peer_links import PeerContact, PeerLink, contact_of
from node.network.peers import JOINING, PEER, Peer
from node.network.pulling import PeerPuller
from node.network.pushing import PushRound
from node.network.take_back import take_back_from_peers
from node.network.waiting import woken_within

log = logging.getLogger("circle_node.delivery")

# Threads for delivery's store work (pushes to peers go out together, each a few reads).
DELIVERY_THREADS = 2
# Peers pulled at once (`pull_round`, and node/network/deliveries.py for every node of a process).
PULLS_AT_ONCE = 8
R = TypeVar("R")


@dataclass
class Federator:
    node: Delivering
    client: FederationClient
    pull_interval: float = 30.0
    poll_interval: float = 0.5
    backoff: Backoff = field(default_factory=Backoff)
    # A peer whose pages cannot be taken is pulled less and less often (full jitter, from one
    # pull interval up to an hour), while the others are pulled every round.
    pull_backoff: Backoff = field(default_factory=lambda: Backoff(base=30.0, cap=3600.0))
    clock: Callable[[], float] = time.monotonic
    wall: Callable[[], float] = time.time  # to tell people when, in `contact`
    rand: Callable[[], float] = random.random
    refresh_keys: Callable[[], None] = lambda: None
    # Told when a push arrived ahead of what is held (node/network/deliveries.py listens).
    on_pull_soon: Callable[[], None] = lambda: None
    links: dict[bytes, PeerLink] = field(default_factory=dict)
    wakeup: asyncio.Event = field(default_factory=asyncio.Event)
    pull_wakeup: asyncio.Event = field(default_factory=asyncio.Event)
    threads: anyio.CapacityLimiter = field(
        default_factory=lambda: anyio.CapacityLimiter(DELIVERY_THREADS)
    )
    # What the server waits for before it closes the store (node/network/background.py).
    work: BackgroundWork = field(default_factory=BackgroundWork)
    # Whether the last look at the node's peers found none to push to or pull from (none
    # followed, none joining): node/network/deliveries.py then looks at it only when told.
    peerless: bool = field(default=False, init=False)

    def pull_soon(self, feed_id: bytes) -> None:
        """A push arrived ahead of what is held from that peer: catch up now."""
        self.pull_wakeup.set()
        self.on_pull_soon()

    async def run(self) -> None:
        await self.take_back_first()
        await asyncio.gather(self.push_forever(), self.pull_forever())

    async def take_back_first(self, leader: Leading | None = None) -> None:
        """A node restored from a backup takes its own feed back from its peers before it
        pushes or pulls anything (node/network/take_back.py); it asks again every
        `pull_interval` until it has. Among the processes sharing a store (`leader`), only the
        one holding the lease does: the others sign nothing until the store says it is done
        (`TakeBack.taken_back_elsewhere`), and look again every `leader.interval`, or at once
        if they come to hold the lease."""
        take_back = self.node.take_back
        while take_back.pending:
            if leader is None or leader.held:
                if await self.take_back_round():
                    return
                await asyncio.sleep(self.pull_interval)
            elif take_back.taken_back_elsewhere():  # a file's presence: no store read
                return
            else:
                await leader.within(leader.interval)

    async def take_back_round(self) -> bool:
        """Ask the peers once for their copies of the own feed and take back what the store
        lacks; True once nothing is left to take back (or the node is stopping)."""
        if not self.node.take_back.pending:
            return True
        try:
            peers = await self._peers(PEER, JOINING)
            done = await take_back_from_peers(
                self.node.take_back, peers, self.client, self._in_thread
            )
        except Stopped:
            return True
        except Exception as error:  # a store outage or a bug: try again
            if not self.work.outage.failed("taking back", error):
                log.exception("taking back this node's own feed failed; trying again")
            return False
        self.work.outage.served("taking back")
        return done

    async def _in_thread(self, function: Callable[..., R], *args: Any) -> R:
        """Store work, in a thread of delivery's own (`threads`): a long catch-up never takes
        the threads that carry out requests (`serve --threads`), nor they its."""
        return await self.work.run(function, *args, limiter=self.threads)

    async def _all_peers(self) -> list[Peer]:
        peers = await self._in_thread(self.node.peering.peers)
        self.peerless = not any(p.status in (PEER, JOINING) and p.url for p in peers)
        return peers

    async def _peers(self, *statuses: str) -> list[Peer]:
        peers = await self._all_peers()
        wanted = statuses or (PEER,)
        return [p for p in peers if p.status in wanted and not p.stopped and p.url]

    # Pushing.

    async def push_forever(self) -> None:
        while True:
            try:
                await self.push_round()
            except Stopped:
                return
            except Exception as error:  # a store outage or a bug must not end delivery for all
                if not self.work.outage.failed("pushing", error):
                    log.exception("a push round failed; trying again")
            else:
                self.work.outage.served("pushing")
            await woken_within(self.wakeup, self.poll_interval)
            self.wakeup.clear()

    async def push_round(self) -> None:
        self.refresh_keys()
        now = self.clock()
        due = [p for p in await self._peers() if self.link(p.feed_id).not_before <= now]
        if due:
            await self._pusher.run(due)

    @property
    def _pusher(self) -> PushRound:
        return PushRound(
            self.node,
            self.client,
            self.link,
            self.clock,
            self.backoff,
            self.rand,
            self._in_thread,
        )

    def next_push_retry(self) -> float | None:
        """In how many seconds the first peer backing off is tried again; None if none is."""
        waits = [link.not_before for link in self.links.values() if link.failures]
        return max(0.0, min(waits) - self.clock()) if waits else None

    def link(self, feed_id: bytes) -> PeerLink:
        return self.links.setdefault(feed_id, PeerLink())

    def contact(self, feed_id: bytes) -> PeerContact:
        """What this process knows of reaching the peer: last contact, failures in a row."""
        return contact_of(self.link(feed_id), self.clock(), self.wall())

    # Pulling.

    async def pull_forever(self) -> None:
        while True:
            self.pull_wakeup.clear()
            try:
                await self.pull_round()
            except Stopped:
                return
            except Exception as error:  # as above: the next round tries again
                if not self.work.outage.failed("pulling", error):
                    log.exception("a pull round failed; trying again")
            else:
                self.work.outage.served("pulling")
            await woken_within(self.pull_wakeup, self.pull_interval)

    async def pull_round(self, limit: asyncio.Semaphore | None = None) -> None:
        """Catch up with every peer followed but those backing off, several at once (at most
        `limit`'s worth): a peer that does not answer holds up no other."""
        limit = limit or asyncio.Semaphore(PULLS_AT_ONCE)

        async def limited(pull: Callable[[Peer], Awaitable[None]], peer: Peer) -> None:
            # The pull is made once its turn comes: one made before, and cancelled while it
            # waited, would never be awaited.
            async with limit:
                await pull(peer)

        await asyncio.gather(*(limited(self.pull_peer, peer) for peer in await self.due_pulls()))
        for peer in await self.stopped_peers():
            await limited(self.pull_stopped, peer)

    async def due_pulls(self) -> list[Peer]:
        """The peers followed that are not backing off."""
        now = self.clock()
        peers = await self._peers(PEER, JOINING)
        return [p for p in peers if self.link(p.feed_id).pull_not_before <= now]

    async def pull_peer(self, peer: Peer) -> None:
        """Catch up with one peer; failing, back off from it alone (`pull_backoff`)."""
        link = self.link(peer.feed_id)
        # One peer whose entries cannot be taken (a store error, a bug) must not keep
        # this node from catching up with the others; it is tried again after a while.
        try:
            peer = await self.follow_move(peer)
            await self.catch_up(peer)
        except Stopped:
            raise
        except Exception as error:
            link.pull_failures += 1
            delay = self.pull_backoff.delay(link.pull_failures, self.rand)
            link.pull_not_before = self.clock() + delay
            if not self.work.outage.failed("pulling", error):
                log.exception(
                    "pulling from %s failed (attempt %d, trying again in %.1f s)",
                    node_id(peer.feed_id),
                    link.pull_failures,
                    delay,
                    extra=about_peer(node_id(peer.feed_id)),
                )
        else:
            link.pull_failures, link.pull_not_before = 0, 0.0
            self.work.outage.served("pulling")

    async def pull_stopped(self, peer: Peer) -> None:
        """From a peer stopped for a fork, only a superseding rotation (`take_superseding`)."""
        try:
            await self.take_superseding(peer)
        except Stopped:
            raise
        except Exception as error:
            if not self.work.outage.failed("pulling", error):
                log.exception(
                    "pulling from %s failed; trying again",
                    node_id(peer.feed_id),
                    extra=about_peer(node_id(peer.feed_id)),
                )

    async def stopped_peers(self) -> list[Peer]:
        peers = await self._all_peers()
        return [
            p
            for p in peers
            if p.stopped and p.status in (PEER, JOINING) and p.url and p.equivocation_seq
        ]

    # One pull (node/network/pulling.py).

    @property
    def _puller(self) -> PeerPuller:
        return PeerPuller(self.node, self.client, self.link, self.clock, self._in_thread)

    async def catch_up(self, peer: Peer, progress: Callable[[int, int], None] | None = None) -> int:
        """Pull the peer's feed from what is held until its head; returns entries taken
        (`PeerPuller.catch_up`: `progress` hears the seq held and the peer's head)."""
        return await self._puller.catch_up(peer, progress)

    async def follow_move(self, peer: Peer) -> Peer:
        """The peer at its new URL once it serves its feed there (`PeerPuller.follow_move`)."""
        return await self._puller.follow_move(peer)

    async def take_superseding(self, peer: Peer) -> int:
        """From a stopped feed, a superseding rotation only (`PeerPuller.take_superseding`)."""
        return await self._puller.take_superseding(peer)
