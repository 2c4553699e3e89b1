"""Helpers for tests of circles across nodes, in one process: move entries between nodes as
the outbox and the puller would (and, from node.demo.scripted, the consent process scripted)."""

from __future__ import annotations

import contextlib

from federation.verify import Rejected
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


__all__ = ["consent_to", "founder", "make_active", "select", "sync"]
