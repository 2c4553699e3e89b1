"""Helpers for tests of circles across nodes, in one process: move entries between nodes as
the outbox and the puller would (and, from node.demo.scripted, the consent process scripted)."""

from __future__ import annotations

import contextlib

from domain.values import Purpose
from federation.feed import feed_id_from_node_id
from federation.verify import Rejected
from federation.wire import encode
from node.app.node import CircleNode
from node.demo.scripted import consent_to, founder, make_active, select
from node.network.peers import JOINING, PEER


def sync(nodes: dict[str, CircleNode], down: tuple[str, ...] = ()) -> int:
    """Push and pull between every pair of nodes that know each other until nothing moves;
    nodes named in `down` neither send nor receive. Returns how many entries moved."""
    up = {name: node for name, node in nodes.items() if name not in down}
    by_feed = {node.feed.feed_id: node for node in up.values()}
    total = 0
    for _ in range(20):
        moved = 0
        for node in up.values():
            for peer in node.peering.peers():
                other = by_feed.get(peer.feed_id)
                if other is None or peer.stopped:
                    continue
                if peer.status == PEER:
                    push = node.outbox.pending_push(other.feed.feed_id)
                    if push is not None:
                        try:
                            reply = other.intake.receive_push(push)
                        except Rejected:
                            reply = None
                        if reply is not None:
                            node.outbox.acknowledge(other.feed.feed_id, reply.next_seq)
                            moved += reply.accepted
                if peer.status in (PEER, JOINING):
                    held = node.peering.peer_feed(other.feed.feed_id).next_seq - 1
                    page = other.feed.page(held, 1000, node.feed.feed_id)
                    if page.entries:
                        with contextlib.suppress(Rejected):
                            moved += node.intake.receive_page(page)
        total += moved
        if moved == 0:
            return total
    raise AssertionError("entries kept moving between the nodes")


def make_member(nodes: dict[str, CircleNode], co_op: str, member: str) -> None:
    """`member` joins the network through `co_op`, applies to be part of it and is admitted
    (each step by consent), with everything moved between the two."""
    coop, circle = nodes[co_op], nodes[member]
    push = circle.relations.ask_to_join_network(
        coop.feed.descriptor(co_op, f"http://{co_op}"), f"http://{co_op}", f"http://{member}", "Hi"
    )
    coop.intake.receive_push(push)
    consent_to(coop, Purpose.ADMIT_TO_NETWORK, {"circle": circle.feed.node_id})
    sync(nodes)
    consent_to(circle, Purpose.APPLY_TO_COOP, {"circle": coop.feed.node_id})
    sync(nodes)
    consent_to(coop, Purpose.ADMIT_MEMBER, {"circle": circle.feed.node_id})
    sync(nodes)


def send(node: CircleNode, to: str, kind: str, body: bytes) -> None:
    """Append a message straight to a node's feed, as a faulty or hostile node might."""
    own = node.feed.own_feed()
    audience = [feed_id_from_node_id(to)]
    signed = own.append(node.feed.keys, kind, body, 1, audience)  # type: ignore[arg-type]
    node.save(
        own,
        entries=[(node.feed.feed_id, own.head, encode(signed))],
        bodies=[node.store.body_row(body, audience)],
    )


__all__ = ["consent_to", "founder", "make_active", "make_member", "select", "send", "sync"]
