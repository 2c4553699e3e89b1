"""Member circle: an everyday decision in a circle that is part of a co-op, as its record grows.

A member circle keeps its co-op's copy of its logbook summary up to date: every change of a
decision publishes the summary again, and the summary lists the policies in force and the
reviews due, read from all the circle's decisions (node/publishing.py). So the cost of a
decision grows with the number the circle has taken. Measured: milliseconds per
`take_everyday_decision` while the circle goes from COUNT - STEP to COUNT decisions. Baseline,
same run: the same command in a circle that is part of no co-op, at the same count.

The two nodes (a co-op and its member circle) run in this process; their messages are carried
as the outbox and the puller would carry them.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

from bench.circles import HAT_AREA
from bench.report import Report, Row
from domain.values import CoopLink, Purpose
from node.application import CircleNode
from node.persistence import open_node
from node.scripted import consent_to, founder, make_active, select
from node.settings import Settings


def _carry(nodes: list[CircleNode]) -> None:
    """Push every entry owed between the nodes until nothing moves."""
    by_feed = {node.feed_id: node for node in nodes}
    moved = True
    while moved:
        moved = False
        for node in nodes:
            for peer in node.peers():
                other = by_feed.get(peer.feed_id)
                push = node.pending_push(peer.feed_id) if other is not None else None
                if other is not None and push is not None:
                    reply = other.receive_push(push)
                    node.acknowledge(peer.feed_id, reply.next_seq)
                    moved |= reply.accepted > 0


def _circle(folder: Path, name: str) -> CircleNode:
    node = open_node(Settings(data_dir=folder / name))
    node.found_circle(name=name, aim="Care", domain="Care", founder_name="Ada")
    make_active(node)
    return node


def _member_of_a_coop(folder: Path) -> tuple[CircleNode, CircleNode]:
    coop, kitchen = _circle(folder, "coop"), _circle(folder, "kitchen")
    push = kitchen.ask_to_join_network(
        coop.descriptor("coop", "http://coop"), "http://coop", "http://kitchen", "May we join?"
    )
    coop.receive_push(push)
    consent_to(coop, Purpose.ADMIT_TO_NETWORK, {"circle": kitchen.node_id})
    _carry([coop, kitchen])
    consent_to(kitchen, Purpose.APPLY_TO_COOP, {"circle": coop.node_id})
    _carry([coop, kitchen])
    consent_to(coop, Purpose.ADMIT_MEMBER, {"circle": kitchen.node_id})
    _carry([coop, kitchen])
    assert kitchen.relationship(coop.node_id).coop == CoopLink.MEMBER_OF
    return coop, kitchen


def _ms_per_decision(node: CircleNode, count: int, step: int) -> float:
    """Take `count` decisions; ms each over the last `step`."""
    hat = node.define_hat(founder(node), "Cook", "Cooks", [], [HAT_AREA])
    select(node, hat, founder(node))
    by = founder(node)
    for number in range(count - step):
        node.take_everyday_decision(by, hat, HAT_AREA, f"Rota {number}", "Cover Sundays")
    start = time.perf_counter()
    for number in range(count - step, count):
        node.take_everyday_decision(by, hat, HAT_AREA, f"Rota {number}", "Cover Sundays")
    return (time.perf_counter() - start) / step * 1000


def run(report: Report, count: int) -> None:
    step = max(1, count // 10)
    print(f"member circle: {count:,} everyday decisions, the last {step:,} timed")
    with tempfile.TemporaryDirectory(prefix="bench-member-") as tmp:
        folder = Path(tmp)
        coop, kitchen = _member_of_a_coop(folder)
        try:
            member = _ms_per_decision(kitchen, count, step)
        finally:
            coop.close()
            kitchen.close()
        alone = _circle(folder, "alone")
        try:
            baseline = _ms_per_decision(alone, count, step)
        finally:
            alone.close()
    report.add(
        Row(
            scenario="member circle",
            figure=f"ms per everyday decision at {count:,} decisions, a member of a co-op",
            value=member,
            baseline_name="the same in a circle of no co-op",
            baseline=baseline,
            target="(report: grows with the decisions taken)",
            met=None,
            note=f"mean of the last {step:,} of {count:,}",
        )
    )
