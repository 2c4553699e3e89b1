"""Pulling one peer's feed for a node: catching up from what the node holds to the peer's
head (pages fetched ahead while the ones already here are stored), following a peer that said
it moved, and taking a superseding rotation from a feed stopped for a fork.

The `Federator` (node/network/delivery.py) decides when and whom to pull, and backs off from a
peer whose pulls fail; a `PeerPuller` does one pull, reporting how it went on the peer's link.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

from federation.client import FederationClient, TransportError
from federation.feed import node_id
from federation.verify import Rejected
from federation.wire import MAX_PAGE_ENTRIES, FeedPage
from node.logs import about_peer
from node.network.delivery_ports import Delivering
from node.network.fetched_pages import FetchedPages
from node.network.peer_book import MoveRefused, NotAPeer
from node.network.peer_links import PeerLink
from node.network.peers import Peer

log = logging.getLogger("circle_node.delivery")
R = TypeVar("R")


class InThread(Protocol):
    """Runs store work in one of delivery's threads (`Federator._in_thread`)."""

    def __call__(self, function: Callable[..., R], /, *args: Any) -> Awaitable[R]: ...


@dataclass(frozen=True)
class PeerPuller:
    """What a pull needs: the node, the federation client, how exchanges with each peer are
    going (`link`, timed by `clock`), and delivery's threads for the store work."""

    node: Delivering
    client: FederationClient
    link: Callable[[bytes], PeerLink]
    clock: Callable[[], float]
    in_thread: InThread

    async def catch_up(self, peer: Peer, progress: Callable[[int, int], None] | None = None) -> int:
        """Pull the peer's feed from what is held until its head; returns entries taken.

        Pages are fetched ahead (up to a run's worth) while the ones already here are verified
        and stored: those are taken together, in one save, each verified on its own
        (`receive_pages`). `progress` hears (seq held, the peer's head) after each save.
        """
        held = await self.in_thread(lambda: self.node.peering.held_feed(peer.feed_id).next_seq)
        after = held - 1
        fetched = FetchedPages()
        fetch = asyncio.create_task(self._fetch(peer, after, fetched))
        taken = 0
        alone = False  # one page per save
        try:
            while True:
                run = await fetched.take(1 if alone else None)
                if not run:
                    return taken
                try:
                    new, used = await self.in_thread(self.node.intake.receive_pages, run)
                except Rejected as rejected:
                    log.warning(
                        "page from %s refused: %s",
                        node_id(peer.feed_id),
                        rejected,
                        extra=about_peer(node_id(peer.feed_id)),
                    )
                    return taken
                except Exception:
                    if len(run) == 1:
                        raise
                    # Taking them failed otherwise (PROTOCOL.md 11.2, step 8): page by page,
                    # the pages before the one that fails are stored, as if they came one by one.
                    fetched.give_back(run)
                    alone = True
                    continue
                fetched.give_back(run[used:])
                taken += new
                after += sum(len(page.entries) for page in run[:used])
                if progress is not None:
                    progress(after, run[used - 1].head)
                if new == 0:
                    return taken
        finally:
            if not fetch.done():
                fetch.cancel()

    async def _fetch(self, peer: Peer, after: int, fetched: FetchedPages) -> None:
        """Pull pages one after the other while there is room: to the end of the feed (the
        peer's head), an empty page, or a failed pull (logged)."""
        try:
            while True:
                await fetched.room()
                page = await self._pull(peer, after)
                if page is None or not page.entries:
                    break
                fetched.put(page)
                after += len(page.entries)
                if after >= page.head:
                    break
        except Exception as error:  # raised where the pages are taken
            fetched.end(error)
        else:
            fetched.end()

    async def _pull(self, peer: Peer, after: int) -> FeedPage | None:
        link = self.link(peer.feed_id)
        try:
            page = await self.client.pull(peer.url, after, MAX_PAGE_ENTRIES)
        except TransportError as error:
            link.unreached_pulls += 1
            self.node.observer.delivery_failed(peer.feed_id, "pull")
            link.last_pull_error = error.reason if error.status is None else str(error)
            log.warning(
                "pull from %s failed: %s",
                node_id(peer.feed_id),
                error,
                extra=about_peer(node_id(peer.feed_id)),
            )
            return None
        link.pulled_at, link.unreached_pulls, link.last_pull_error = self.clock(), 0, ""
        self.node.observer.contacted(peer.feed_id)
        if page.feed != peer.feed_id:
            log.warning(
                "pull from %s returned another feed",
                node_id(peer.feed_id),
                extra=about_peer(node_id(peer.feed_id)),
            )
            return None
        self.node.observer.behind(peer.feed_id, max(page.head - after - len(page.entries), 0))
        return page

    async def take_superseding(self, peer: Peer) -> int:
        """From a stopped feed only a superseding rotation is taken (PROTOCOL.md 6.1): pull the
        one entry at the fork's seq, and take it if it is one. Returns entries taken."""
        assert peer.equivocation_seq is not None
        try:
            page = await self.client.pull(peer.url, peer.equivocation_seq - 1, 1)
        except TransportError as error:
            log.warning(
                "pull from %s failed: %s",
                node_id(peer.feed_id),
                error,
                extra=about_peer(node_id(peer.feed_id)),
            )
            return 0
        if page.feed != peer.feed_id or not page.entries:
            return 0
        try:
            taken, _ = await self.in_thread(self.node.intake.receive_pages, [page])
        except Rejected:
            return 0  # no superseding rotation there (yet): the feed stays stopped
        return taken

    async def follow_move(self, peer: Peer) -> Peer:
        """A peer that said it moved (`Peer.moving_to`, a signed `node.moved`) is followed
        there once its new URL serves its feed up to the move; until then it is pushed to and
        pulled from where it was, and this is tried again at each pull round."""
        if not peer.moving_to:
            return peer
        try:
            descriptor = await self.client.descriptor(peer.moving_to)
            moved = await self.in_thread(
                self.node.peering.follow_move, peer.feed_id, peer.moving_to, descriptor
            )
        except (TransportError, Rejected, MoveRefused, NotAPeer) as error:
            log.warning(
                "%s said it moved to %s; not followed yet: %s",
                node_id(peer.feed_id),
                peer.moving_to,
                error,
                extra=about_peer(node_id(peer.feed_id)),
            )
            return peer
        log.info(
            "%s moved to %s: followed there",
            node_id(peer.feed_id),
            moved.url,
            extra=about_peer(node_id(peer.feed_id)),
        )
        return moved
