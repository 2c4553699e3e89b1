"""The background work of the circles a process serves: delivery and the calendar for all of
them from one loop (node/network/deliveries.py), and their mail from another
(node/network/mailing.py). A single node's server runs it in its lifespan (node/http/server.py);
a host runs it once for every circle."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import time
from collections.abc import AsyncIterator, Callable, Sequence

import aiohttp
import anyio.to_thread
from eventsourcing.persistence import IntegrityError

from federation.client import FederationClient
from node.http.metrics import CircleMetrics
from node.http.served_circle import ServedCircle
from node.http.server_options import ServerOptions
from node.network.background import BackgroundWork
from node.network.deliveries import Deliveries
from node.network.delivery import Federator
from node.network.mail_sender import MailSender
from node.network.mailing import Mailing
from node.network.observing import Observer
from node.network.store_outage import StoreOutage
from node.store.leader_lease import Lease, SoleLeader

log = logging.getLogger("circle_node.server")


class _WakingObserver(Observer):
    """Reports to the metrics, wakes delivery as soon as an own entry is appended, and the mail
    sender as soon as a letter is queued (instead of at the next poll); `wake` and `mail` are
    called from whichever thread saved."""

    def __init__(
        self, metrics: CircleMetrics, wake: Callable[[], None], mail: Callable[[], None]
    ) -> None:
        self.metrics = metrics
        self.wake = wake
        self.mail = mail

    def appended(self, count: int) -> None:
        self.metrics.appended(count)
        self.wake()

    def mail_queued(self) -> None:
        self.mail()

    def received(self, peer: bytes, count: int) -> None:
        self.metrics.received(peer, count)

    def rejected(self, reason: str) -> None:
        self.metrics.rejected(reason)

    def delivery_failed(self, peer: bytes, direction: str) -> None:
        self.metrics.delivery_failed(peer, direction)

    def contacted(self, peer: bytes) -> None:
        self.metrics.contacted(peer)

    def behind(self, peer: bytes, entries: int) -> None:
        self.metrics.behind(peer, entries)

    def store_error(self, error: BaseException) -> None:
        self.metrics.store_error(error)


def _due_dates_check(circle: ServedCircle) -> Callable[[], None]:
    """Reviews come due, terms end, late processes lapse and late consent rounds close by the
    calendar, without anyone asking (`update_due_dates`, also `POST
    /api/decisions/update-due-dates`): a decision whose review came due is marked so, and a
    member circle's summary for its co-op says so. Dates fall due at midnight in the circle's
    time zone (its rules'): the first check after it (node/network/deliveries.py)."""

    node = circle.node

    def check() -> None:
        # The store down, full or read-only is raised, and said once for all the background
        # work (node/network/store_outage.py); conflicts that kept winning, here.
        try:
            if node.records.is_founded:
                node.decisions.update_due_dates()
                node.reminders.remind()  # deadlines within a day, reviews and terms coming due
        except IntegrityError as error:
            circle.metrics.store_error(error)
            log.warning("could not check due dates (trying again later): %s", error)

    return check


class Background:
    """The background work of the circles a process serves, while `run_background` lasts:
    `add` a circle to it, or `remove` one, from the event loop."""

    def __init__(
        self,
        deliveries: Deliveries,
        mailing: Mailing,
        session: aiohttp.ClientSession,
        options: ServerOptions,
    ) -> None:
        self.deliveries = deliveries
        self.mailing = mailing
        self._session = session
        self._options = options
        self._circles: dict[str, tuple[ServedCircle, BackgroundWork]] = {}
        # The store's state as every circle's background work sees it: an outage is said once.
        self._outage = StoreOutage()

    def add(self, circle: ServedCircle) -> None:
        key, options = circle.options.public_url, self._options
        # The circle's store work, counted in its metrics when it fails on the store.
        work = BackgroundWork(store_failed=circle.metrics.store_error)
        work.outage = self._outage
        federator = Federator(
            circle.node,
            FederationClient(self._session, _signer(circle) if circle.node.feed.keys else None),  # type: ignore[arg-type]
            pull_interval=options.pull_interval,
            refresh_keys=functools.partial(_refresh_keys, circle),
            work=work,
        )
        circle.federator = federator
        circle.deliveries = self.deliveries  # e.g. whether this process leads
        self.deliveries.add(
            key,
            federator,
            notices=circle.node.store.notice_source(),
            changed_file=circle.node.store.changed_file(),
            calendar_check=_due_dates_check(circle),
            circle=circle.slug or None,
        )
        circle.node.observer = _WakingObserver(
            circle.metrics,
            _waking(self.deliveries, key, circle),
            functools.partial(self.mailing.wake, key),
        )
        circle.node.mail_queue.public_url = circle.options.public_url
        circle.node.mail_queue.from_address = options.mail_from
        mail = MailSender(circle.node.mail_queue, options.smtp, work=work)
        circle.mail_sender = mail
        self.mailing.add(key, mail, circle=circle.slug or None)
        self._circles[key] = (circle, work)

    async def remove(self, circle: ServedCircle) -> None:
        """Stop the circle's background work, and wait (at most `stop_timeout`) for its store
        work under way: then its store may be closed."""
        key = circle.options.public_url
        self.deliveries.remove(key)
        self.mailing.remove(key)
        circle.node.observer = circle.metrics
        taken = self._circles.pop(key, None)
        if taken is not None:
            await self._stop([taken])

    async def stop(self) -> None:
        """Wait for every circle's store work (delivery and mail are stopped first:
        `run_background`)."""
        circles, self._circles = list(self._circles.values()), {}
        await self._stop(circles)

    async def _stop(self, circles: list[tuple[ServedCircle, BackgroundWork]]) -> None:
        for circle, _ in circles:
            circle.node.observer = circle.metrics
        # Their threads may still be reading or writing the store: the store is closed after
        # the server stops, so wait for them here (and take no more).
        deadline = time.monotonic() + self._options.stop_timeout
        over = True
        for _, work in circles:
            left = max(0.0, deadline - time.monotonic())
            over = await asyncio.to_thread(work.stop, left) and over
        if not over:
            log.warning(
                "background store work still under way after %.0f s; stopping anyway",
                self._options.stop_timeout,
            )


@contextlib.asynccontextmanager
async def run_background(
    circles: Sequence[ServedCircle], options: ServerOptions, lease: Lease | None = None
) -> AsyncIterator[Background]:
    """Run the background work of every circle while the context lasts: delivery and the
    calendar for all of them from one loop (node/network/deliveries.py), and their mail from
    another (node/network/mailing.py). `options` gives what is shared: the request threads
    and timeout, the intervals, the mail server; each circle keeps its public URL. `lease`: who
    pulls and keeps the calendar among the processes sharing the store (by default the first
    circle's store's own, node/store/leader_lease.py). On leaving, the background's store work
    is over (or `stop_timeout` has passed): the stores may be closed then."""
    anyio.to_thread.current_default_thread_limiter().total_tokens = options.threads
    if lease is None:
        lease = circles[0].node.store.leader_lease() if circles else SoleLeader()
    deliveries = Deliveries(
        lease=lease,
        safety_poll=options.poll_interval,
        lease_interval=options.lease_interval,
        pulls_at_once=options.pulls_at_once,
        calendar_interval=options.due_interval,
    )
    mailing = Mailing(options.smtp, safety_poll=options.mail_interval)
    timeout = aiohttp.ClientTimeout(total=options.request_timeout)
    async with aiohttp.ClientSession(timeout=timeout) as session:
        background = Background(deliveries, mailing, session, options)
        for circle in circles:
            background.add(circle)
        tasks = [asyncio.create_task(deliveries.run()), asyncio.create_task(mailing.run())]
        try:
            yield background
        finally:
            for task in tasks:
                task.cancel()
            for task in tasks:
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            await background.stop()


def _refresh_keys(circle: ServedCircle) -> None:
    if circle.keystore is not None:
        circle.node.feed.keys = circle.keystore.current()


def _signer(circle: ServedCircle) -> Callable[[], tuple[str, object]]:
    def signer() -> tuple[str, object]:
        _refresh_keys(circle)
        assert circle.node.feed.keys is not None
        return circle.node.feed.node_id, circle.node.feed.keys.current

    return signer


def _waking(deliveries: Deliveries, key: str, circle: ServedCircle) -> Callable[[], None]:
    """On an own append (in the thread that saved): push for it here. (The store tells the
    other processes on it itself, wherever it runs: `NodeStore.save`.)"""

    def wake() -> None:
        deliveries.wake(key)

    return wake
