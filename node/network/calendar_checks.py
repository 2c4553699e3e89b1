"""One node's calendar check as the delivery loop runs it (node/network/deliveries.py): the
check itself is the server's (reviews come due, terms end: `_due_dates_check`,
node/http/background.py); here it runs in the node's context, so that its log lines name its
circle, through the node's background work, on delivery's threads (never the requests')."""

from __future__ import annotations

import asyncio
import contextvars
import logging
from collections.abc import Callable
from dataclasses import dataclass

import anyio

from node.logs import CIRCLE, in_circle
from node.network.background import BackgroundWork, Stopped

log = logging.getLogger("circle_node.delivery")


@dataclass(frozen=True)
class CalendarCheck:
    check: Callable[[], None]
    work: BackgroundWork
    context: contextvars.Context

    async def run(self, threads: anyio.CapacityLimiter) -> None:
        """Check once; a failure is logged (a store outage once for all the background work),
        and the next round checks again."""
        work = self.work
        checking = work.run(self.check, limiter=threads)
        try:
            await asyncio.create_task(checking, context=self.context)
        except Stopped:
            return  # the node was taken out, or the process is stopping
        except Exception as error:  # an outage (said once), or a bug: the checks go on
            if not work.outage.failed("checking the calendar", error):
                with in_circle(self.context.get(CIRCLE)):
                    log.exception("checking the calendar failed; trying again later")
        else:
            work.outage.served("checking the calendar")
