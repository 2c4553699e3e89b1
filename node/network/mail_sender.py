"""The mail sender of one circle: letters from the store's queue to the SMTP server, on the
event loop.

A round (`look`) takes what is due from the durable queue, claims each (so that of several
workers on one store one sends it), sends it with aiosmtplib and records the outcome; a failure
is retried with exponential backoff and full jitter, and the sender keeps when (`next_retry`).
No request ever waits for it. The rounds of every circle a process serves are run from one loop
(node/network/mailing.py), when a letter is queued, when a retry comes due, and at a slow
safety poll.
"""

from __future__ import annotations

import heapq
import logging
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from email.message import EmailMessage
from typing import Any, Protocol, TypeVar
from uuid import UUID

import aiosmtplib
import anyio

from federation.backoff import Backoff
from node.network.background import BackgroundWork, Stopped

log = logging.getLogger("circle_node.mail")

R = TypeVar("R")


class Letters(Protocol):
    """What the sender needs of the queue (node/app/mail_queue.py, `MailQueue`)."""

    def due(self) -> list[UUID]: ...

    def claim(self, letter_id: UUID) -> EmailMessage | None: ...

    def sent(self, letter_id: UUID) -> None: ...

    def failed(self, letter_id: UUID, error: str, retry_in: Callable[[int], float]) -> bool: ...


@dataclass(frozen=True)
class SmtpServer:
    """Where mail goes: the node's SMTP settings (node/settings.py). `password` is never
    logged; `tls`: starttls, tls (implicit, port 465) or none."""

    host: str
    port: int = 587
    user: str | None = None
    password: str | None = field(default=None, repr=False)
    tls: str = "starttls"
    timeout: float = 30.0

    async def send(self, message: EmailMessage) -> None:
        await aiosmtplib.send(
            message,
            hostname=self.host,
            port=self.port,
            username=self.user,
            password=self.password,
            use_tls=self.tls == "tls",
            start_tls=self.tls == "starttls",
            timeout=self.timeout,
        )


@dataclass
class MailSender:
    letters: Letters
    server: SmtpServer | None
    # From a few seconds to an hour between attempts (up to the queue's MAX_ATTEMPTS).
    backoff: Backoff = field(default_factory=lambda: Backoff(base=10.0, cap=3600.0))
    rand: Callable[[], float] = random.random
    work: BackgroundWork = field(default_factory=BackgroundWork)
    threads: anyio.CapacityLimiter = field(default_factory=lambda: anyio.CapacityLimiter(1))
    # When the letters that failed here are due again (`time.monotonic`), soonest first.
    retries: list[float] = field(default_factory=list)

    @property
    def next_retry(self) -> float | None:
        """When the soonest retry known here is due (`time.monotonic`), if any."""
        return self.retries[0] if self.retries else None

    def retries_due(self, now: float) -> bool:
        """Whether a retry is due by `now`; those that are are forgotten (the round that
        follows sends them)."""
        due = False
        while self.retries and self.retries[0] <= now:
            heapq.heappop(self.retries)
            due = True
        return due

    async def look(self) -> None:
        """A round, its failure logged (a store outage once, node/network/store_outage.py);
        raises `Stopped` once the circle's work is stopped."""
        if self.server is None:
            return
        try:
            await self.send_round()
        except Stopped:
            raise
        except Exception as error:  # a store outage or a bug must not end sending for good
            if not self.work.outage.failed("sending mail", error):
                log.exception("a round of sending mail failed; trying again")
        else:
            self.work.outage.served("sending mail")

    async def _in_thread(self, function: Callable[..., R], *args: Any) -> R:
        return await self.work.run(function, *args, limiter=self.threads)

    async def send_round(self) -> int:
        """Send every letter due now; returns how many were sent."""
        assert self.server is not None
        sent = 0
        for letter_id in await self._in_thread(self.letters.due):
            try:
                message = await self._in_thread(self.letters.claim, letter_id)
            except Exception:  # one letter that cannot be claimed must not hold up the rest
                log.exception("mail %s could not be claimed; the others go on", letter_id)
                continue
            if message is None:
                continue  # another worker has it, or it was dropped
            try:
                await self.server.send(message)
            except (aiosmtplib.SMTPException, OSError) as error:
                reason = failure_reason(error)
                again = await self._in_thread(self.letters.failed, letter_id, reason, self._delay)
                if again:
                    log.warning("mail %s not sent (trying again later): %s", letter_id, reason)
                else:
                    log.error("mail %s given up: %s", letter_id, reason)
                continue
            await self._in_thread(self.letters.sent, letter_id)
            sent += 1
        return sent

    def _delay(self, attempt: int) -> float:
        # Called in the store's thread as the failure is recorded: the loop reads `retries`
        # only between rounds, so that heap is not shared while it changes.
        delay = self.backoff.delay(attempt, self.rand)
        # A little after the letter's own time (the store's clock), so that it is due then.
        heapq.heappush(self.retries, time.monotonic() + delay + RETRY_MARGIN)
        return delay


# Seconds between a letter's retry time and the look that sends it.
RETRY_MARGIN = 1.0


def failure_reason(error: BaseException) -> str:
    """What is kept and logged of a failed sending: the exception's type and the SMTP code (or
    the system's error number), never the server's text, which often names the recipient's
    address, and that must not outlive their erasure in the queue or reach the log."""
    kind = type(error).__name__
    code = getattr(error, "code", None)
    if isinstance(code, int):
        return f"{kind} (SMTP {code})"
    number = getattr(error, "errno", None)
    return f"{kind} (errno {number})" if isinstance(number, int) else kind
