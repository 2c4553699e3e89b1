"""Mail for every circle a process serves, from one loop: a circle's queue is read when a letter
is queued there, when a letter that failed is due again, and at a slow safety poll; an idle
circle's queue is not read otherwise.

Each circle keeps its own `MailSender` (node/network/mail_sender.py: claims, backoff), which
`Mailing` drives:

- A letter queued in this process wakes its circle's sender at once (`wake`, from the node's
  observer, node/http/background.py). Each worker sharing a store sends the letters it queued;
  a letter another worker queued and did not send (it stopped before its claim lapsed) is found
  by the safety poll.
- A letter that failed is tried again when its backoff is over (`MailSender.next_retry`).
- The safety poll (`safety_poll`, spread by a quarter either side so that many circles read at
  different times) finds whatever no one told of.

Without an SMTP server nothing is read or sent, and the queue keeps what it has (said once in
the log). The circles' rounds run one after the other: they go through one SMTP server.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import logging
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from node.logs import CIRCLE
from node.network.background import Stopped
from node.network.mail_sender import MailSender, SmtpServer
from node.network.waiting import woken_within

log = logging.getLogger("circle_node.mail")


@dataclass
class _Member:
    """One circle's sender, as the loop drives it."""

    key: str
    sender: MailSender
    # Its rounds run in it: their log lines name the circle (node/logs.py).
    context: contextvars.Context
    woken: bool = True  # looked at as it is added: what was queued before the process started
    next_look: float = 0.0  # `time.monotonic`
    sending: asyncio.Task[None] | None = None


@dataclass
class Mailing:
    server: SmtpServer | None
    # Seconds between looks at each circle's queue, for what no one told of.
    safety_poll: float = 300.0
    rand: Callable[[], float] = random.random
    members: dict[str, _Member] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._loop: asyncio.AbstractEventLoop | None = None
        self._wakeup = asyncio.Event()

    def add(self, key: str, sender: MailSender, *, circle: str | None = None) -> None:
        """Send `sender`'s circle's mail under `key` (before `run`, or while it runs, from the
        loop); `circle` is what its log lines are about (a host's slug for it)."""
        context = contextvars.copy_context()
        context.run(CIRCLE.set, circle)
        self.members[key] = _Member(key, sender, context)
        self._wakeup.set()

    def remove(self, key: str) -> None:
        """Stop sending `key`'s circle's mail (from the loop): its round under way is
        cancelled; its store work already in a thread ends on its own."""
        member = self.members.pop(key, None)
        if member is not None and member.sending is not None:
            member.sending.cancel()

    def wake(self, key: str) -> None:
        """A letter was queued in `key`'s circle: look at its queue now. From any thread."""
        loop = self._loop
        if loop is not None:
            with contextlib.suppress(RuntimeError):  # the loop has just closed: nothing to send
                loop.call_soon_threadsafe(self._wake, key)

    def _wake(self, key: str) -> None:
        member = self.members.get(key)
        if member is not None:
            member.woken = True
            self._wakeup.set()

    async def run(self) -> None:
        """Send every circle's mail until cancelled."""
        if self.server is None:
            log.info("no SMTP server is set (smtp_host, smtp_from): mail stays queued, unsent")
            return
        self._loop = asyncio.get_running_loop()
        try:
            while True:
                self._wakeup.clear()
                for member in list(self.members.values()):
                    if self._due(member, time.monotonic()):
                        await self._look(member)
                await woken_within(self._wakeup, self._until_next())
        finally:
            self._loop = None

    def _due(self, member: _Member, now: float) -> bool:
        if member.key not in self.members:
            return False  # removed during another's round
        retry_due = member.sender.retries_due(now)
        if not (member.woken or retry_due or member.next_look <= now):
            return False
        member.woken = False
        # Within a quarter of the interval either side: many circles spread out.
        member.next_look = now + self.safety_poll * (0.75 + 0.5 * self.rand())
        return True

    async def _look(self, member: _Member) -> None:
        member.sending = asyncio.create_task(member.sender.look(), context=member.context)
        try:
            await member.sending
        except (Stopped, asyncio.CancelledError):
            # That circle was taken out (or its work stopped); the process stopping cancels
            # this loop itself, which goes on being cancelled.
            task = asyncio.current_task()
            if task is not None and task.cancelling():
                raise
        finally:
            member.sending = None

    def _until_next(self) -> float:
        """Seconds until the next look is due: a circle woken, a retry, a safety poll."""
        if any(member.woken for member in self.members.values()):
            return 0.0
        times = [member.next_look for member in self.members.values()]
        times += [r for m in self.members.values() if (r := m.sender.next_retry) is not None]
        return max(0.0, min(times, default=time.monotonic() + self.safety_poll) - time.monotonic())
