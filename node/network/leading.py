"""Whether this process leads among those sharing a store, as the delivery loop sees it
(node/network/deliveries.py): the lease (node/store/leader_lease.py) asked for every
`interval`, and an event set while it is held, which the work that runs in one process per
store waits for (pulls, the calendar, a restored node's take-back)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

from node.network.waiting import woken_within
from node.store.leader_lease import Lease, SoleLeader

log = logging.getLogger("circle_node.delivery")


class Leading:
    """The lease as this process holds it: `keep` asks for it until cancelled, `taken` is
    called each time this process comes to lead."""

    def __init__(self, lease: Lease, interval: float, taken: Callable[[], None]) -> None:
        self.lease = lease
        self.interval = interval
        self._taken = taken
        self._held = asyncio.Event()

    @property
    def held(self) -> bool:
        return self._held.is_set()

    async def wait(self) -> None:
        """Until this process leads."""
        await self._held.wait()

    async def within(self, seconds: float) -> bool:
        """Wait until this process leads or `seconds` have passed; True if it leads."""
        return await woken_within(self._held, seconds)

    async def keep(self) -> None:
        """Take the lease, and check now and then that it is still held, until cancelled."""
        while True:
            held = await asyncio.to_thread(self.lease.try_take)
            if held and not self._held.is_set():
                log.info("this process leads: it pulls from peers and keeps the calendar")
                self._held.set()
                self._taken()
            elif not held and self._held.is_set():
                # Info: its connection failed (the store is down, said once elsewhere) or
                # another process took the lease over.
                log.info("this process no longer leads: another pulls and keeps the calendar")
                self._held.clear()
            if isinstance(self.lease, SoleLeader):
                return  # held for good
            await asyncio.sleep(self.interval)

    async def give_up(self) -> None:
        self._held.clear()
        await asyncio.to_thread(self.lease.release)
