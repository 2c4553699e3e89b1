"""Messages that may not take effect yet are held, not lost (PROTOCOL.md 11.2, 10.5): those to
a node without a circle until it is founded, an applicant's until it is admitted, and the
introductions of a node this one asked to join until it admits this one. Following works
both ways, and never under another node's id.

Cast: the co-op (founded, active), the kitchen it admitted earlier, a hand-added peer of the
co-op's (the bakery), and a newcomer (the garden)."""

from __future__ import annotations

from collections.abc import Callable

from domain.values import CoopLink, Peering, Purpose
from federation.wire import encode
from node.app.node import CircleNode
from node.network import messages as m
from node.network.peers import PEER
from tests.node.circles import consent_to, make_active, sync

Make = Callable[[str], CircleNode]


def found(node: CircleNode, name: str) -> CircleNode:
    node.circle.found_circle(name=name, aim=f"{name}'s aim", domain="Care", founder_name="Ada")
    make_active(node)
    return node


def connect(a: CircleNode, b: CircleNode) -> None:
    a.peering.add_peer(
        b.feed.descriptor("b", f"http://{b.feed.node_id}"), f"http://{b.feed.node_id}"
    )
    b.peering.add_peer(
        a.feed.descriptor("a", f"http://{a.feed.node_id}"), f"http://{a.feed.node_id}"
    )


def ask_to_join(newcomer: CircleNode, host: CircleNode) -> None:
    url = f"http://{host.feed.node_id}"
    push = newcomer.relations.ask_to_join_network(
        host.feed.descriptor("host", url), url, f"http://{newcomer.feed.node_id}", "Hello"
    )
    host.intake.receive_push(push)


def introduce(by: CircleNode, node: CircleNode, audience: list[bytes] | None = None) -> None:
    """`by` writes an introduction of `node` (by hand, as a writer would)."""
    body = encode(
        m.Introduction(
            node.feed.node_id, f"http://{node.feed.node_id}", "N", encode(node.feed.inception())
        )
    )
    own = by.feed.own_feed()
    signed = own.append(by.feed.keys, m.INTRODUCTION, body, 1, audience or [])  # type: ignore[arg-type]
    by.save(
        own,
        entries=[(by.feed.feed_id, own.head, encode(signed))],
        bodies=[by.store.body_row(body, audience or [])],
    )


def nodes_of(*nodes: CircleNode) -> dict[str, CircleNode]:
    return {node.feed.node_id: node for node in nodes}


def test_messages_to_a_node_without_a_circle_take_effect_once_it_is_founded(make: Make) -> None:
    coop, garden, kitchen = found(make("coop"), "Co-op"), make("garden"), make("kitchen")
    connect(coop, garden)
    # Given: the co-op asks the garden, which has no circle yet, to peer, and introduces the
    # kitchen; the garden takes both.
    consent_to(coop, Purpose.REQUEST_PEERING, {"circle": garden.feed.node_id})
    introduce(coop, kitchen)
    assert sync(nodes_of(coop, garden)) > 0
    assert garden.peering.peer(kitchen.feed.feed_id) is None
    # When the garden founds its circle.
    found(garden, "Garden")
    # Then the request took effect, and the introduction is followed.
    assert garden.relations.relationship(coop.feed.node_id).peering == Peering.ASKED
    followed = garden.peering.peer(kitchen.feed.feed_id)
    assert followed is not None and followed.status == PEER
    assert garden.relations.relationship(kitchen.feed.node_id).how == "introduced"


def test_an_applicants_messages_take_effect_only_once_it_is_admitted(make: Make) -> None:
    coop, garden = found(make("coop"), "Co-op"), found(make("garden"), "Garden")
    # Given: the garden added the co-op by hand, consented to apply to it as a member circle,
    # then asked it to join the network (its join push carries the application).
    garden.peering.add_peer(coop.feed.descriptor("c", "http://coop"), "http://coop")
    consent_to(garden, Purpose.APPLY_TO_COOP, {"circle": coop.feed.node_id})
    ask_to_join(garden, coop)
    # Then the co-op holds the application, but it has no effect while the garden applies.
    assert coop.peering.peer(garden.feed.feed_id).status == "applicant"  # type: ignore[union-attr]
    assert coop.relations.relationship(garden.feed.node_id).coop == CoopLink.NONE
    # When the co-op's circle admits the garden to the network, it takes effect.
    consent_to(coop, Purpose.ADMIT_TO_NETWORK, {"circle": garden.feed.node_id})
    assert coop.relations.relationship(garden.feed.node_id).coop == CoopLink.APPLIED


def test_introductions_are_followed_once_admitted_and_both_ways(make: Make) -> None:
    coop, kitchen = found(make("coop"), "Co-op"), found(make("kitchen"), "Kitchen")
    bakery, garden = found(make("bakery"), "Bakery"), found(make("garden"), "Garden")
    everyone = nodes_of(coop, kitchen, bakery, garden)
    # Given: the co-op admitted the kitchen earlier, and its operator added the bakery by hand.
    ask_to_join(kitchen, coop)
    consent_to(coop, Purpose.ADMIT_TO_NETWORK, {"circle": kitchen.feed.node_id})
    connect(coop, bakery)
    sync(everyone)
    # When the garden asks the co-op to join, and pulls its feed while it waits.
    ask_to_join(garden, coop)
    sync(everyone)
    # Then it follows nobody the co-op introduced: it is not admitted yet.
    assert garden.peering.peer(kitchen.feed.feed_id) is None
    assert garden.peering.peer(bakery.feed.feed_id) is None
    # When the co-op admits it.
    consent_to(coop, Purpose.ADMIT_TO_NETWORK, {"circle": garden.feed.node_id})
    sync(everyone)
    # Then the garden follows the kitchen (introduced before) and the bakery (added by hand),
    # and each of them follows the garden: their entries reach it, and its reach them.
    for other in (kitchen, bakery):
        mine = garden.peering.peer(other.feed.feed_id)
        theirs = other.peering.peer(garden.feed.feed_id)
        assert mine is not None and mine.status == PEER, other.feed.node_id
        assert theirs is not None and theirs.status == PEER, other.feed.node_id
        assert (
            garden.peering.peer_feed(other.feed.feed_id).next_seq == other.feed.own_feed().next_seq
        )
        assert (
            other.peering.peer_feed(garden.feed.feed_id).next_seq == garden.feed.own_feed().next_seq
        )


def test_an_introduction_under_another_nodes_id_is_refused(make: Make) -> None:
    coop, garden = found(make("coop"), "Co-op"), found(make("garden"), "Garden")
    kitchen, bakery = make("kitchen"), make("bakery")
    connect(coop, garden)
    # The co-op introduces the kitchen's inception under the bakery's id.
    body = encode(
        m.Introduction(bakery.feed.node_id, "http://k", "K", encode(kitchen.feed.inception()))
    )
    own = coop.feed.own_feed()
    signed = own.append(coop.feed.keys, m.INTRODUCTION, body, 1, [])  # type: ignore[arg-type]
    coop.save(
        own,
        entries=[(coop.feed.feed_id, own.head, encode(signed))],
        bodies=[coop.store.body_row(body, [])],
    )
    sync(nodes_of(coop, garden))
    assert garden.peering.peer(kitchen.feed.feed_id) is None
    assert garden.peering.peer(bakery.feed.feed_id) is None
    refusals = garden.relations.relationship(coop.feed.node_id).refusals
    assert refusals == [
        f"{m.INTRODUCTION}: The introduction's inception is another node's than it names"
    ]
