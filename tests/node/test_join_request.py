"""Asking to join the network: a request the push could not carry whole is refused before it is
signed, stored, or the node asked is recorded (PROTOCOL.md 9.7)."""

from __future__ import annotations

import pytest

from domain.errors import NotFound
from federation.verify import decode_entry, decode_push
from federation.wire import MAX_BODY_BYTES, MAX_PUSH_BYTES, JoinRequest, Push, encode
from node.app.node import CircleNode
from tests.node.test_federation_node import publish


def with_large_bodies(node: CircleNode, count: int) -> None:
    """Found the circle, then append `count` public entries with bodies of 256 KiB each."""
    publish(node, 0)
    for number in range(count):
        own = node.feed.own_feed()
        body = bytes([number]) * MAX_BODY_BYTES
        assert node.feed.keys is not None
        signed = own.append(node.feed.keys, "circle.profile", body, 1000 + number)
        node.save(
            own,
            entries=[(node.feed.feed_id, own.head, encode(signed))],
            bodies=[node.store.body_row(body, [])],
        )


def ask(asker: CircleNode, host: CircleNode) -> Push:
    return asker.relations.ask_to_join_network(
        host.feed.descriptor("Host", "http://host.invalid"),
        "http://host.invalid",
        "http://asker.invalid",
        "Hello",
    )


def test_a_request_the_push_cannot_carry_is_refused_before_anything_is_written(make) -> None:  # type: ignore[no-untyped-def]
    asker, host = make("asker"), make("host")
    with_large_bodies(asker, 8)  # the push cut to 2 MiB ends before the request
    head = asker.feed.own_feed().head
    with pytest.raises(ValueError, match="too large to send with a join request"):
        ask(asker, host)
    # Nothing signed or stored, and the node asked is neither a peer being joined nor met.
    assert asker.feed.own_feed().head == head
    assert len(asker.feed.own_entries(-1, 100)) == head + 1
    assert asker.peering.peer(host.feed.feed_id) is None
    with pytest.raises(NotFound):
        asker.relations.relationship(host.feed.node_id)
    # The writer alone refuses it too, before signing.
    with pytest.raises(ValueError, match="too large"):
        asker.feed.ask_to_join(host.feed.feed_id, "http://asker.invalid", "Asker", "Hello")
    assert asker.feed.own_feed().head == head


def test_a_request_the_push_can_carry_is_sent_whole(make) -> None:  # type: ignore[no-untyped-def]
    asker, host = make("asker"), make("host")
    with_large_bodies(asker, 7)
    push = ask(asker, host)
    raw = encode(push)
    assert len(raw) <= MAX_PUSH_BYTES
    decoded = decode_push(raw)
    request = decode_entry(decoded.entries[-1])
    assert request.type == "network.join_request" and request.seq == asker.feed.own_feed().head
    assert len(decoded.entries) == request.seq + 1  # the inception up to the request
    assert decoded.bodies[-1] == encode(
        JoinRequest(host.feed.feed_id, "http://asker.invalid", "Kitchen", "Hello")
    )
    joining = asker.peering.peer(host.feed.feed_id)
    assert joining is not None and joining.status == "joining"
