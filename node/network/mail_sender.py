"""The mail sender: letters from the store's queue to the SMTP server, on the event loop.

Beside delivery (node/network/delivery.py) and like it: a background task of the server that
takes what is due from the durable queue, claims each (so that of several workers on one store
one sends it), sends it with aiosmtplib and records the outcome; a failure is retried with
exponential backoff and full jitter. No request ever waits for it. Without SMTP settings it
sends nothing and the queue keeps what it has (said once in the log).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
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
    poll_interval: float = 30.0
    # From a few seconds to an hour between attempts (up to the queue's MAX_ATTEMPTS).
    backoff: Backoff = field(default_factory=lambda: Backoff(base=10.0, cap=3600.0))
    rand: Callable[[], float] = random.random
    wakeup: asyncio.Event = field(default_factory=asyncio.Event)
    work: BackgroundWork = field(default_factory=BackgroundWork)
    threads: anyio.CapacityLimiter = field(default_factory=lambda: anyio.CapacityLimiter(1))

    async def run(self) -> None:
        if self.server is None:
            log.info("no SMTP server is set (smtp_host, smtp_from): mail stays queued, unsent")
            return
        while True:
            try:
                await self.send_round()
            except Stopped:
                return
            except Exception as error:  # a store outage or a bug must not end sending for good
                if not self.work.outage.failed("sending mail", error):
                    log.exception("a round of sending mail failed; trying again")
            else:
                self.work.outage.served("sending mail")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.wakeup.wait(), self.poll_interval)
            self.wakeup.clear()

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
        return self.backoff.delay(attempt, self.rand)


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
