"""The peers table says how reaching each peer is going: the last contact, entries not yet
delivered, failures in a row and the last error, and that a peer cannot be reached now
(over HTTP, no browser; delivery driven by hand against a peer that is down)."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Coroutine, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from domain.values import Purpose
from federation.backoff import Backoff
from federation.client import TransportError
from federation.wire import FeedPage, Push, PushReply
from node.app.node import CircleNode
from node.app.persistence import open_node
from node.demo.scripted import consent_to
from node.network.delivery import Federator
from node.settings import Settings
from tests.conftest import Clock
from tests.node.api.world import Circle, kitchen
from tests.web.test_sessions import Browserless


class Bakery:
    """The bakery's node, reached in process, or down like a dead peer."""

    def __init__(self, node: CircleNode) -> None:
        self.node = node
        self.up = True

    async def push(self, url: str, push: Push) -> PushReply:
        if not self.up:
            raise TransportError("Cannot connect")
        return self.node.intake.receive_push(push)

    async def pull(self, url: str, after: int, limit: int) -> FeedPage:
        if not self.up:
            raise TransportError("Cannot connect")
        return self.node.feed.page(after, limit, None)


def run(work: Coroutine[Any, Any, None]) -> None:
    """Run delivery's coroutine in a loop of its own (the browser tests' may be running)."""
    with ThreadPoolExecutor(1) as thread:
        thread.submit(asyncio.run, work).result()


class Monotonic:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def kitchen_and_bakery(tmp_path: Path, clock: Clock) -> Iterator[tuple[Circle, CircleNode]]:
    node = open_node(Settings(data_dir=tmp_path / "kitchen"), clock)
    bakery = open_node(Settings(data_dir=tmp_path / "bakery"), clock)
    bakery.circle.found_circle(name="Bakery", aim="Bread", domain="Bread", founder_name="Bo")
    yield kitchen(node), bakery
    node.close()
    bakery.close()


def peer_row(page: str) -> str:
    table = page.split('id="peers"')[1].split("</table>")[0]
    row = next(r for r in table.split("<tr")[2:] if "Bakery" in r)
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", row))


def test_a_peer_that_cannot_be_reached_is_shown_so(
    kitchen_and_bakery: tuple[Circle, CircleNode], clock: Clock
) -> None:
    c, bakery = kitchen_and_bakery
    node = c.node
    # Given: the kitchen peers with the bakery, and delivery runs beside its pages.
    node.peering.add_peer(bakery.feed.descriptor("Bakery", "http://bakery"), "http://bakery")
    bakery.peering.add_peer(node.feed.descriptor("Kitchen", "http://kitchen"), "http://kitchen")
    network, monotonic = Bakery(bakery), Monotonic()
    federator = Federator(
        node,
        network,  # type: ignore[arg-type]
        clock=monotonic,
        wall=lambda: clock().timestamp(),
        rand=lambda: 1.0,
        backoff=Backoff(base=60, cap=3600),
    )
    c.client.app.circle.federator = federator  # type: ignore[attr-defined]
    ada = Browserless(c.client.app)  # type: ignore[arg-type]
    assert ada.sign_in(c.tokens["ada"]).status_code == 303

    # When: a push and a pull reach the bakery at 09:00.
    run(federator.push_round())
    run(federator.pull_round())

    # Then: the peers table gives that last contact, everything delivered.
    row = peer_row(ada.client.get("/network").text)
    assert "2026-03-01 09:00 UTC" in row and "up to date" in row, row
    assert "cannot be reached" not in row

    # When: the bakery goes down, the kitchen records a decision at 09:30 (owed to the
    # bakery), and two pushes and a pull fail.
    network.up = False
    clock.advance(minutes=30)
    monotonic.now += 30 * 60
    take_a_decision(c)
    run(federator.push_round())
    clock.advance(hours=1)
    monotonic.now += 3600
    run(federator.push_round())  # at 10:30, backing off for two minutes (its base: 60 s)
    run(federator.pull_round())

    # Then: the table says it cannot be reached, since when it was last reached, what is not
    # delivered yet, the failures in a row, when the next push is tried, and the error.
    row = peer_row(ada.client.get("/network").text)
    assert "peer, cannot be reached now" in row, row
    assert "2026-03-01 09:00 UTC" in row
    assert "1 entry not delivered yet" in row
    assert "2 pushes failed in a row; next try 2026-03-01 10:32 UTC" in row, row
    assert "1 pull failed in a row" in row
    assert "last error: Cannot connect" in row


def take_a_decision(c: Circle) -> None:
    consent_to(c.node, Purpose.ADOPT_POLICY, {})


def test_without_delivery_in_this_process_the_page_says_it_does_not_know(
    kitchen_and_bakery: tuple[Circle, CircleNode],
) -> None:
    c, bakery = kitchen_and_bakery
    # Given: a peer, and pages served where delivery does not run.
    c.node.peering.add_peer(bakery.feed.descriptor("Bakery", "http://bakery"), "http://bakery")
    ada = Browserless(c.client.app)  # type: ignore[arg-type]
    assert ada.sign_in(c.tokens["ada"]).status_code == 303
    # Then: the table says what it does not know rather than calling it reachable.
    row = peer_row(ada.client.get("/network").text)
    assert "not known here" in row and "entries not delivered yet" in row, row
