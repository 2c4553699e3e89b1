"""The one mail loop of a process (node/network/mailing.py): an idle circle's queue is not read;
a letter queued wakes its sender at once, and one that failed when its backoff is over. A real
SMTP server (aiosmtpd), a real served node.

Cast: the kitchen circle (tests/node/api/world.py); Dora, who applies and is admitted.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
from collections.abc import Callable
from email.message import EmailMessage
from typing import Any
from uuid import UUID, uuid4

import pytest
from fastapi.testclient import TestClient

from federation.backoff import Backoff
from node.app.node import CircleNode
from node.network.mail_sender import MailSender, SmtpServer
from node.network.mailing import Mailing
from tests.node.api.world import kitchen
from tests.node.test_mail import URL, Inbox, admit_dora, api_node, free_port, inbox, smtp_port

__all__ = ["api_node", "inbox", "smtp_port"]  # the fixtures, shared with test_mail.py


def counting_reads(node: CircleNode, monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """The times the node's mail queue is read for what is due."""
    reads: list[float] = []
    due: Callable[[], list[UUID]] = node.mail_queue.due

    def counted() -> list[UUID]:
        reads.append(time.monotonic())
        return due()

    monkeypatch.setattr(node.mail_queue, "due", counted)
    return reads


def served(node: CircleNode, port: int) -> TestClient:
    from node.http.server import ServerOptions, create_app

    options = ServerOptions(
        public_url=URL,
        smtp=SmtpServer("127.0.0.1", port, tls="none", timeout=5),
        mail_from="kitchen@example.org",
    )
    return TestClient(create_app(node, None, options))


def wait_for(condition: Callable[[], Any], seconds: float = 10.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.02)
    return bool(condition())


def test_an_idle_circle_s_queue_is_not_read(
    api_node: CircleNode, inbox: Inbox, smtp_port: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a node served with an SMTP server set, and nothing to send.
    kitchen(api_node)
    reads = counting_reads(api_node, monkeypatch)
    with served(api_node, smtp_port):
        # When it has looked once, as it started,
        assert wait_for(lambda: reads)
        # then over a while nothing more reads its queue (the safety poll is minutes away).
        time.sleep(1.0)
        assert len(reads) == 1
    assert inbox.messages == []


def test_a_letter_queued_wakes_the_sender_at_once(
    api_node: CircleNode, inbox: Inbox, smtp_port: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a node served with an SMTP server set, its first look over.
    circle = kitchen(api_node)
    reads = counting_reads(api_node, monkeypatch)
    with served(api_node, smtp_port):
        assert wait_for(lambda: reads)

        # When Dora is admitted (in another thread, as a request's command is),
        admitting = threading.Thread(target=admit_dora, args=(circle,))
        admitting.start()
        admitting.join()

        # then her mail arrives, long before any poll would have looked.
        assert wait_for(lambda: inbox.messages)
    assert [m["To"] for m in inbox.messages] == ["dora@example.org"]
    assert len(reads) == 2


class FailingLetters:
    """A queue of one letter that the SMTP server (none listening) never takes: what the sender
    asks of it, counted."""

    def __init__(self) -> None:
        self.reads = 0
        self.letter = uuid4()

    def due(self) -> list[UUID]:
        self.reads += 1
        return [self.letter]

    def claim(self, letter_id: UUID) -> EmailMessage | None:
        message = EmailMessage()
        message["From"], message["To"], message["Subject"] = "a@example.org", "b@example.org", "x"
        message.set_content("x")
        return message

    def sent(self, letter_id: UUID) -> None:
        raise AssertionError("no server took it")

    def failed(self, letter_id: UUID, error: str, retry_in: Callable[[int], float]) -> bool:
        retry_in(1)
        return True


def test_a_letter_that_failed_is_looked_at_again_when_its_backoff_is_over() -> None:
    # Given a sender whose letter fails, backing off a moment, and a safety poll an hour away,
    letters = FailingLetters()
    server = SmtpServer("127.0.0.1", free_port(), tls="none", timeout=5)
    sender = MailSender(letters, server, backoff=Backoff(base=0.05, cap=0.05), rand=lambda: 1.0)
    mailing = Mailing(server, safety_poll=3600)
    mailing.add("kitchen", sender)

    async def until_looked_twice() -> None:
        sending = asyncio.create_task(mailing.run())
        try:
            for _ in range(500):
                if letters.reads >= 2:
                    return
                await asyncio.sleep(0.02)
        finally:
            sending.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await sending

    # when it has tried once, then its queue is read again by itself, as the retry comes due.
    asyncio.run(until_looked_twice())
    assert letters.reads == 2
