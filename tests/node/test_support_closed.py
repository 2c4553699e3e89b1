"""Every circle asked for support hears when the request closes (PROTOCOL.md 11.4,
`support.closed`): those that did not offer too, whether they were named or the whole network
was asked; their pages say it is closed.

Cast: the co-op, the kitchen and the garden, on three nodes in one process; the kitchen asks,
the garden offers, the co-op is asked and does not offer."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from domain.values import Purpose, SupportStatus
from federation.verify import decode_entry
from node.app.node import CircleNode
from node.app.persistence import open_node
from node.network.messages import SUPPORT_CLOSED, SupportClosed, decode_body
from node.settings import Settings
from tests.conftest import Clock
from tests.node.api.world import serve
from tests.node.circles import consent_to, founder, make_active, sync
from tests.node.test_circles_across_nodes import NAMES, join
from tests.web.test_sessions import Browserless


@pytest.fixture
def three(tmp_path: Path, clock: Clock) -> Iterator[dict[str, CircleNode]]:
    nodes = {}
    for key in ("coop", "kitchen", "garden"):
        node = open_node(Settings(data_dir=tmp_path / key), clock)
        node.circle.found_circle(
            name=NAMES[key], aim="Care", domain="Care", founder_name=f"{key} founder"
        )
        make_active(node)
        nodes[key] = node
    for newcomer in ("kitchen", "garden"):
        join(nodes, newcomer, "coop")
    sync(nodes)
    yield nodes
    for node in nodes.values():
        node.close()


def ask_offer_accept(nodes: dict[str, CircleNode], circles: list[str], text: str) -> str:
    """The kitchen asks `circles` for support; the garden offers and the kitchen accepts it.
    Returns the kitchen's request id."""
    kitchen, garden = nodes["kitchen"], nodes["garden"]
    consent_to(kitchen, Purpose.REQUEST_SUPPORT, {"kind": "people", "circles": circles}, text=text)
    sync(nodes)
    seen = next(r for r in garden.support.support_requests() if r.text == text)
    consent_to(
        garden,
        Purpose.OFFER_SUPPORT,
        {"circle": kitchen.feed.node_id, "request": str(seen.id)},
        text="Two of us can come",
    )
    sync(nodes)
    ours = next(r for r in kitchen.support.support_requests() if r.text == text)
    consent_to(
        kitchen, Purpose.ACCEPT_OFFER, {"request": str(ours.id), "offer": garden.feed.node_id}
    )
    return str(ours.id)


def status_at(node: CircleNode, text: str) -> str:
    return next(r for r in node.support.support_requests() if r.text == text).status


def test_a_circle_asked_that_did_not_offer_hears_the_request_closed(
    three: dict[str, CircleNode],
) -> None:
    coop, kitchen, garden = three["coop"], three["kitchen"], three["garden"]
    ref = {key: node.feed.node_id for key, node in three.items()}
    # Given: the kitchen asks the co-op and the garden for people; the garden offers.
    head = kitchen.feed.own_feed().head
    ours = ask_offer_accept(three, [ref["coop"], ref["garden"]], "Sunday visits")

    # When: the kitchen accepts the garden's offer.
    # Then: besides the outcome to the garden, one signed support.closed goes to both circles
    # it asked.
    closures = [
        signed
        for signed in kitchen.feed.own_entries(head, 100)
        if decode_entry(signed).type == SUPPORT_CLOSED
    ]
    (closure,) = closures
    audience = decode_entry(closure).audience
    assert sorted(audience) == sorted([coop.feed.feed_id, garden.feed.feed_id])
    sync(three)

    # Then: the co-op, which never offered, holds the request closed; the garden's accepted
    # offer stands; and after the delivery nothing reopens it.
    assert status_at(coop, "Sunday visits") == SupportStatus.CLOSED
    assert status_at(garden, "Sunday visits") == SupportStatus.ACCEPTED
    kitchen.support.record_support_delivery(founder(kitchen), ours, "Two visits covered")
    sync(three)
    assert status_at(coop, "Sunday visits") == SupportStatus.CLOSED
    assert status_at(garden, "Sunday visits") == SupportStatus.DELIVERED
    assert garden.relations.relationship(ref["kitchen"]).refusals == []
    assert coop.relations.relationship(ref["kitchen"]).refusals == []

    # And: the co-op's network page says the request is closed.
    client = serve(coop)
    visitor = Browserless(client.app)  # type: ignore[arg-type]
    token = coop.tokens.issue_token(founder(coop))[1]
    assert visitor.sign_in(token).status_code == 303
    page = visitor.client.get("/network").text
    assert "Closed: Kitchen circle accepted an offer; this request takes no more offers." in page


def test_a_request_to_the_whole_network_closes_for_every_circle(
    three: dict[str, CircleNode],
) -> None:
    coop, kitchen, garden = three["coop"], three["kitchen"], three["garden"]
    # Given: the kitchen asks the whole network; the garden offers and is accepted.
    head = kitchen.feed.own_feed().head
    ask_offer_accept(three, ["network"], "A night rota")

    # Then: the closure is public, like the request, and says whom it was to.
    (closure,) = [
        signed
        for signed in kitchen.feed.own_entries(head, 100)
        if decode_entry(signed).type == SUPPORT_CLOSED
    ]
    assert decode_entry(closure).audience == []
    body = kitchen.feed.body_for(decode_entry(closure).body_hash, None)
    assert body is not None and decode_body(SUPPORT_CLOSED, body) == SupportClosed(
        str(next(iter(kitchen.support.support_requests())).id), ["network"]
    )
    sync(three)

    # Then: the co-op, which saw it and did not offer, holds it closed.
    assert status_at(coop, "A night rota") == SupportStatus.CLOSED
    assert status_at(garden, "A night rota") == SupportStatus.ACCEPTED
