"""Delivery for every node a process serves, from one loop: pushes when a node appends, pulls
from every peer on a schedule, and the calendar. A node's store is read when it appends, when
one of its peers is due a push or a pull, and at a slow safety poll. A node without peers
(`Federator.peerless`) is not pulled, and polled one round in `peerless_every`; it is told of a
peer added as of an append (`PeerBook.add_peer`), and is then pulled at once.

Each node keeps its own `Federator` (node/network/delivery.py: claims, backoff,
acknowledgements, catching up, following moves), which `Deliveries` drives:

- Pushes: a node is pushed for when it is woken: by `wake` (its own appends, in this process),
  by a notification from another process appending to its store (PostgreSQL: `LISTEN`, one
  connection per database, node/store/append_notices.py; SQLite: the operating system telling
  that its `-wal` file was written, one watcher for every store, node/store/file_changes.py),
  when a peer backing off is due again,
  and by a safety poll (`safety_poll`) that finds what no one told of. At most one push round
  runs per node; a wake during it runs another after it.
- Pulls: every peer of every node is pulled about once per its node's `pull_interval` (spread
  by a quarter either side, so that many nodes pull at different times), several at once
  (`pulls_at_once`), each on its own: a peer that does not answer holds up no other, and one
  whose pages cannot be taken backs off alone.
- The calendar: each node's check (`calendar_check`), every `calendar_interval` (after a round
  the store failed, every `calendar_retry`).
- At start the nodes' first looks and calendar checks take turns (`start_spacing` apart,
  within `start_window`), on delivery's threads, so that the requests are answered at once.

Pulls, the calendar and a restored node's take-back run in one process at a time among those
sharing a store: the one holding the lease (node/store/leader_lease.py, node/network/leading.py),
which the others ask for now and then. Pushes run in every process, each peer's outbox claimed
by one at a time (`Federator.deliver`).
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import itertools
import logging
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import anyio

from node.logs import CIRCLE
from node.network.background import Stopped
from node.network.calendar_checks import CalendarCheck, check_round
from node.network.delivery import DELIVERY_THREADS, PULLS_AT_ONCE, Federator
from node.network.leading import Leading
from node.network.waiting import woken_within
from node.store.append_notices import NoticeSource, listen
from node.store.file_changes import watch
from node.store.leader_lease import Lease, SoleLeader

log = logging.getLogger("circle_node.delivery")


@dataclass
class _Member:
    """One node, as the loop drives it."""

    key: str
    federator: Federator
    notices: NoticeSource | None
    changed_file: Path | None
    calendar: CalendarCheck | None
    # Its tasks run in it: their log lines name the circle (node/logs.py).
    context: contextvars.Context
    ready: bool = False  # its own feed taken back (`Federator.take_back_first`)
    beginning: asyncio.Task[None] | None = None
    pushing: asyncio.Task[None] | None = None
    push_again: bool = False
    push_retry: asyncio.TimerHandle | None = None
    next_pull: float = 0.0  # on the loop's clock
    pull_now: bool = True
    listing: asyncio.Task[None] | None = None


@dataclass
class Deliveries:
    lease: Lease = field(default_factory=SoleLeader)
    # Seconds between looks at every node's outbox, for what no one told of.
    safety_poll: float = 60.0
    # A node without peers is looked at one safety poll in this many.
    peerless_every: int = 10
    # Seconds between attempts to take the lease (and checks that it is still held).
    lease_interval: float = 10.0
    pulls_at_once: int = PULLS_AT_ONCE
    calendar_interval: float = 3600.0
    calendar_retry: float = 10.0  # after a round the store failed
    # At start the nodes' first looks (and first calendar checks) are spread out, so that a
    # host of many circles answers its members at once: one after the other, `start_spacing`
    # seconds apart, over `start_window` seconds at most.
    start_spacing: float = 0.05
    start_window: float = 10.0
    # How the loop waits out those turns (a test's own sees them).
    pause: Callable[[float], Awaitable[Any]] = asyncio.sleep
    # Threads for the store work of every node's delivery and calendar (`Federator.threads`).
    threads: anyio.CapacityLimiter = field(
        default_factory=lambda: anyio.CapacityLimiter(DELIVERY_THREADS)
    )
    members: dict[str, _Member] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._loop: asyncio.AbstractEventLoop | None = None
        self._leader = Leading(self.lease, self.lease_interval, self._lead_taken)
        self._pull_wakeup = asyncio.Event()
        self._pulling: dict[tuple[str, bytes], asyncio.Task[None]] = {}
        self._tasks: list[asyncio.Task[Any]] = []
        self._listened: set[tuple[Any, ...]] = set()
        self._watching: asyncio.Task[None] | None = None

    # What the server calls.

    def add(
        self,
        key: str,
        federator: Federator,
        *,
        notices: NoticeSource | None = None,
        changed_file: Path | None = None,
        calendar_check: Callable[[], None] | None = None,
        circle: str | None = None,
    ) -> None:
        """Drive `federator`'s node under `key` (before `run`, or while it runs, from the loop):
        `notices` where other processes' appends to its store are heard, `changed_file` the file
        their commits to it write (SQLite's `-wal`), `calendar_check` its calendar's check (in
        delivery's `threads`), `circle` what its log lines are about (a host's slug for it)."""
        federator.threads = self.threads
        context = contextvars.copy_context()
        context.run(CIRCLE.set, circle)
        check = calendar_check and CalendarCheck(calendar_check, federator.work, context)
        member = _Member(key, federator, notices, changed_file, check, context)
        federator.on_pull_soon = lambda: self._pull_soon(member)
        self.members[key] = member
        if self._loop is not None:
            self._start(member)
            if changed_file is not None:
                self._watch()

    def remove(self, key: str) -> None:
        """Stop driving `key`'s node (from the loop): its pushes and pulls under way are
        cancelled; its store work already in a thread ends on its own."""
        member = self.members.pop(key, None)
        if member is None:
            return
        member.ready = False
        if member.push_retry is not None:
            member.push_retry.cancel()
        for task in (member.beginning, member.pushing, member.listing):
            if task is not None:
                task.cancel()
        for where, task in list(self._pulling.items()):
            if where[0] == key:
                task.cancel()
        if member.changed_file is not None and self._loop is not None:
            self._watch()

    def wake(self, key: str) -> None:
        """`key`'s node appended to its own feed: push for it now. From any thread."""
        loop = self._loop
        if loop is not None:
            with contextlib.suppress(RuntimeError):  # the loop has just closed: nothing to push
                loop.call_soon_threadsafe(self._push_soon, key)

    @property
    def leading(self) -> bool:
        """Whether this process holds the lease (and so pulls and keeps the calendar)."""
        return self._leader.held

    async def run(self) -> None:
        """Drive every node until cancelled; the lease is given up as it ends."""
        self._loop = asyncio.get_running_loop()
        self._spawn(self._leader.keep())
        self._spawn(self._poll_forever())
        self._spawn(self._pull_forever())
        self._spawn(self._calendar_forever())
        turn = self._start_turn()
        for index, member in enumerate(list(self.members.values())):
            self._start(member, index * turn)
        self._watch()
        try:
            await asyncio.Event().wait()
        finally:
            await self._stop()

    # Starting and stopping.

    def _spawn(
        self, work: Coroutine[Any, Any, Any], context: contextvars.Context | None = None
    ) -> asyncio.Task[Any]:
        task = asyncio.create_task(work, context=context)
        self._tasks.append(task)
        task.add_done_callback(self._forget)
        return task

    def _forget(self, task: asyncio.Task[Any]) -> None:
        with contextlib.suppress(ValueError):
            self._tasks.remove(task)

    def _start_turn(self) -> float:
        """Seconds between two nodes' first looks (or first calendar checks) at start."""
        return min(self.start_spacing, self.start_window / max(len(self.members), 1))

    def _start(self, member: _Member, delay: float = 0.0) -> None:
        member.beginning = self._spawn(self._begin(member, delay), member.context)
        source = member.notices
        if source is not None and source.database not in self._listened:
            self._listened.add(source.database)
            self._spawn(listen(source, self._heard, lambda: self._connected(source)))

    async def _begin(self, member: _Member, delay: float) -> None:
        if delay:
            await self.pause(delay)  # its turn at start
        # A node restored from a backup takes its own feed back before it pushes or pulls.
        await member.federator.take_back_first(self._leader)
        member.ready = True
        self._push_soon(member.key)
        self._pull_soon(member)

    async def _stop(self) -> None:
        for member in self.members.values():
            if member.push_retry is not None:
                member.push_retry.cancel()
        self._watching = None
        tasks = [*self._tasks, *self._pulling.values()]
        tasks += [t for m in self.members.values() for t in (m.pushing, m.listing) if t]
        for task in tasks:
            task.cancel()
        for task in tasks:
            try:
                await task
            except (asyncio.CancelledError, Stopped):
                pass
            except Exception:  # a bug in one task must not keep the others from stopping
                log.exception("delivery's background task failed as it stopped")
        self._listened.clear()
        await self._leader.give_up()
        self._loop = None

    # Pushing.

    def _push_soon(self, key: str) -> None:
        member = self.members.get(key)
        if member is None or not member.ready:
            return  # its first push follows taking its feed back
        if member.pushing is not None and not member.pushing.done():
            member.push_again = True
            return
        member.pushing = asyncio.create_task(self._push(member), context=member.context)

    async def _push(self, member: _Member) -> None:
        federator = member.federator
        peerless = federator.peerless
        member.push_again = True
        while member.push_again:
            member.push_again = False
            try:
                await federator.push_round()
            except Stopped:
                return
            except Exception as error:  # a store outage or a bug: the next wake or poll tries again
                federator.peerless = False  # unknown now: looked at as any node
                if not federator.work.outage.failed("pushing", error):
                    log.exception("a push round failed; trying again later")
            else:
                federator.work.outage.served("pushing")
        if peerless and not federator.peerless:
            self._pull_soon(member)  # it has a peer now: pulled at once, then on its schedule
        if member.push_retry is not None:
            member.push_retry.cancel()
            member.push_retry = None
        retry = federator.next_push_retry()
        if retry is not None:  # a peer backing off: pushed again when it is due
            loop = asyncio.get_running_loop()
            member.push_retry = loop.call_later(retry, self._push_soon, member.key)

    def _heard(self, scope: str) -> None:
        for member in self.members.values():
            if member.notices is not None and member.notices.scope == scope:
                self._push_soon(member.key)

    def _connected(self, source: NoticeSource) -> None:
        # Appends made while no one listened were not heard: look at every node there.
        for member in self.members.values():
            if member.notices is not None and member.notices.database == source.database:
                self._push_soon(member.key)

    def _watch(self) -> None:
        """Watch the changed files of the nodes driven now (again, when they change: one
        watcher for all; a commit in the moment between two watchers waits for the poll)."""
        if self._watching is not None:
            self._watching.cancel()
        files = {m.changed_file for m in self.members.values() if m.changed_file is not None}
        self._watching = self._spawn(watch(files, self._changed)) if files else None

    def _changed(self, file: Path) -> None:
        for member in self.members.values():
            if member.changed_file == file:
                self._push_soon(member.key)

    async def _poll_forever(self) -> None:
        # One node after the other, spread over the interval: many nodes make no burst. A node
        # without peers, one round in `peerless_every` (for a change no one told of).
        for rounds in itertools.count(1):
            every = rounds % max(self.peerless_every, 1) == 0
            keys = [k for k, m in self.members.items() if every or not m.federator.peerless]
            for key in keys or [""]:
                await asyncio.sleep(self.safety_poll / max(len(keys), 1))
                member = self.members.get(key)
                if member is not None and (every or not member.federator.peerless):
                    self._push_soon(key)

    # Pulling.

    def _pull_soon(self, member: _Member) -> None:
        member.pull_now = True
        self._pull_wakeup.set()

    async def _pull_forever(self) -> None:
        limit = asyncio.Semaphore(self.pulls_at_once)
        while True:
            await self._leader.wait()
            self._pull_wakeup.clear()
            loop = asyncio.get_running_loop()
            now = loop.time()
            for member in list(self.members.values()):
                busy = member.listing is not None and not member.listing.done()
                due = member.next_pull <= now and not member.federator.peerless
                if member.ready and not busy and (member.pull_now or due):
                    member.pull_now = False
                    # Within a quarter of the interval either side: many nodes spread out.
                    spread = 0.75 + 0.5 * member.federator.rand()
                    member.next_pull = now + member.federator.pull_interval * spread
                    member.listing = asyncio.create_task(
                        self._pull_node(member, limit), context=member.context
                    )
            # Until the next node is due (one whose listing is under way is started again once
            # it is over: `_pull_node` wakes this loop then, if it was asked for meanwhile).
            waits = [
                m.next_pull - now
                for m in self.members.values()
                if m.ready and not m.federator.peerless and (m.listing is None or m.listing.done())
            ]
            await woken_within(self._pull_wakeup, min(waits, default=3600))

    async def _pull_node(self, member: _Member, limit: asyncio.Semaphore) -> None:
        """Start a pull from each of the node's peers that is due and not being pulled."""
        federator = member.federator
        try:
            due = [(p, federator.pull_peer) for p in await federator.due_pulls()]
            due += [(p, federator.pull_stopped) for p in await federator.stopped_peers()]
        except Stopped:
            return
        except Exception as error:  # a store outage or a bug: the next round tries again
            if not federator.work.outage.failed("pulling", error):
                log.exception("listing the peers to pull from failed; trying again later")
            return
        finally:
            self._pull_wakeup.set()  # its next listing is scheduled (or asked for) again
        federator.work.outage.served("pulling")
        for peer, pull in due:
            where = (member.key, peer.feed_id)
            if where in self._pulling:
                continue  # still under way (a silent peer, waiting out its timeout)
            self._pulling[where] = asyncio.create_task(
                self._pull_one(where, pull(peer), limit), context=member.context
            )

    async def _pull_one(
        self, where: tuple[str, bytes], pull: Coroutine[Any, Any, None], limit: asyncio.Semaphore
    ) -> None:
        try:
            async with limit:
                await pull
        except Stopped:
            pass
        finally:
            pull.close()  # never started, when cancelled while waiting for its turn
            self._pulling.pop(where, None)

    # Leading, and the calendar.

    def _lead_taken(self) -> None:
        for member in self.members.values():
            if not member.federator.peerless:
                self._pull_soon(member)

    async def _calendar_forever(self) -> None:
        turn = self._start_turn()  # the first round's checks are spread out, as the first looks
        while True:
            await self._leader.wait()
            checks = [(m.key, m.calendar) for m in self.members.values() if m.calendar]
            failed = await check_round(
                checks, self.members.__contains__, self.threads, self.pause, turn
            )
            turn, wait = 0.0, self.calendar_interval
            await asyncio.sleep(min(self.calendar_retry, wait) if failed else wait)
