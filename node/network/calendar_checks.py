"""One node's calendar check as the delivery loop runs it (node/network/deliveries.py): the
check itself is the server's (reviews come due, terms end: `_due_dates_check`,
node/http/background.py); here it runs in the node's context, so that its log lines name its
circle, through the node's background work, on delivery's threads (never the requests')."""

from __future__ import annotations

import asyncio
import contextvars
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import anyio

from node.logs import CIRCLE, in_circle
from node.network.background import BackgroundWork, Stopped

log = logging.getLogger("circle_node.delivery")


@dataclass(frozen=True)
class CalendarCheck:
    check: Callable[[], None]
    work: BackgroundWork
    context: contextvars.Context

    async def run(self, threads: anyio.CapacityLimiter) -> bool:
        """Check once; a failure is logged (a store outage once for all the background work),
        and the next round checks again. True when the store failed it (worth trying again
        soon, not at the next hourly round)."""
        work = self.work
        checking = work.run(self.check, limiter=threads)
        try:
            await asyncio.create_task(checking, context=self.context)
        except Stopped:
            return False  # the node was taken out, or the process is stopping
        except Exception as error:  # an outage (said once), or a bug: the checks go on
            if work.outage.failed("checking the calendar", error):
                return True
            with in_circle(self.context.get(CIRCLE)):
                log.exception("checking the calendar failed; trying again later")
        else:
            work.outage.served("checking the calendar")
        return False


async def check_round(
    checks: list[tuple[str, CalendarCheck]],
    still_here: Callable[[str], bool],
    threads: anyio.CapacityLimiter,
    pause: Callable[[float], Awaitable[Any]],
    turn: float,
) -> bool:
    """One round of the nodes' checks, `turn` seconds apart (the first round at start), each
    of a node `still_here`; True when the store failed any of them."""
    failed = False
    for index, (key, check) in enumerate(checks):
        if turn and index:
            await pause(turn)
        if still_here(key):  # not taken out meanwhile
            failed = await check.run(threads) or failed
    return failed
