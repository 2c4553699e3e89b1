"""The one mail loop of a process (node/network/mailing.py): an idle circle's queue is not read;
a letter queued wakes its sender at once. A real SMTP server (aiosmtpd), a real served node.

Cast: the kitchen circle (tests/node/api/world.py); Dora, who applies and is admitted.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any
from uuid import UUID

import pytest
from fastapi.testclient import TestClient

from node.app.node import CircleNode
from node.network.mail_sender import SmtpServer
from tests.node.api.world import kitchen
from tests.node.test_mail import URL, Inbox, admit_dora, api_node, inbox, smtp_port

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
