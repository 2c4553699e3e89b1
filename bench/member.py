"""Member circle: decisions in a circle that is part of a co-op, as its record grows.

A member circle keeps its co-op's copy of its logbook summary up to date: a change that can
change the summary publishes it again, and the summary lists the policies in force and the
reviews due, read from all the circle's decisions (node/app/publishing.py). A new everyday decision
cannot change it (no policy, its review ahead), so it costs what it costs in a lone circle; a
policy adopted does, and its cost grows with the number of decisions the circle has taken.

Measured: milliseconds per `take_everyday_decision` while the circle goes from COUNT - STEP to
COUNT decisions (baseline, same run: the same command in a circle that is part of no co-op, at
the same count); and milliseconds per policy adopted through a whole consent process (draft to
decision) at COUNT decisions (baseline: the same at the circle's start).

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
from node.app.node import CircleNode
from node.app.persistence import open_node
from node.demo.scripted import consent_to, founder, make_active, select
from node.settings import Settings

POLICIES = 5


def _carry(nodes: list[CircleNode]) -> None:
    """Push every entry owed between the nodes until nothing moves."""
    by_feed = {node.feed.feed_id: node for node in nodes}
    moved = True
    while moved:
        moved = False
        for node in nodes:
            for peer in node.peering.peers():
                other = by_feed.get(peer.feed_id)
                push = node.outbox.pending_push(peer.feed_id) if other is not None else None
                if other is not None and push is not None:
                    reply = other.intake.receive_push(push)
                    node.outbox.acknowledge(peer.feed_id, reply.next_seq)
                    moved |= reply.accepted > 0


def _circle(folder: Path, name: str) -> CircleNode:
    node = open_node(Settings(data_dir=folder / name))
    node.circle.found_circle(name=name, aim="Care", domain="Care", founder_name="Ada")
    make_active(node)
    return node


def _member_of_a_coop(folder: Path) -> tuple[CircleNode, CircleNode]:
    coop, kitchen = _circle(folder, "coop"), _circle(folder, "kitchen")
    push = kitchen.relations.ask_to_join_network(
        coop.feed.descriptor("coop", "http://coop"), "http://coop", "http://kitchen", "May we join?"
    )
    coop.intake.receive_push(push)
    consent_to(coop, Purpose.ADMIT_TO_NETWORK, {"circle": kitchen.feed.node_id})
    _carry([coop, kitchen])
    consent_to(kitchen, Purpose.APPLY_TO_COOP, {"circle": coop.feed.node_id})
    _carry([coop, kitchen])
    consent_to(coop, Purpose.ADMIT_MEMBER, {"circle": kitchen.feed.node_id})
    _carry([coop, kitchen])
    assert kitchen.relations.relationship(coop.feed.node_id).coop == CoopLink.MEMBER_OF
    return coop, kitchen


def _ms_per_decision(node: CircleNode, count: int, step: int) -> float:
    """Take `count` decisions; ms each over the last `step`."""
    hat = node.hats.define_hat(founder(node), "Cook", "Cooks", [], [HAT_AREA])
    select(node, hat, founder(node))
    by = founder(node)
    for number in range(count - step):
        node.decisions.take_everyday_decision(by, hat, HAT_AREA, f"Rota {number}", "Cover Sundays")
    start = time.perf_counter()
    for number in range(count - step, count):
        node.decisions.take_everyday_decision(by, hat, HAT_AREA, f"Rota {number}", "Cover Sundays")
    return (time.perf_counter() - start) / step * 1000


def _ms_per_policy(node: CircleNode) -> float:
    """Adopt POLICIES policies, each through a whole consent process; ms each."""
    start = time.perf_counter()
    for number in range(POLICIES):
        consent_to(node, Purpose.ADOPT_POLICY, {}, text=f"Policy {number}")
    return (time.perf_counter() - start) / POLICIES * 1000


def run(report: Report, count: int) -> None:
    step = max(1, count // 10)
    print(f"member circle: {count:,} everyday decisions, the last {step:,} timed")
    with tempfile.TemporaryDirectory(prefix="bench-member-") as tmp:
        folder = Path(tmp)
        coop, kitchen = _member_of_a_coop(folder)
        try:
            policy_early = _ms_per_policy(kitchen)
            member = _ms_per_decision(kitchen, count, step)
            policy_late = _ms_per_policy(kitchen)
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
            target="(report)",
            met=None,
            note=f"mean of the last {step:,} of {count:,}",
        )
    )
    report.add(
        Row(
            scenario="member circle",
            figure=f"ms per policy adopted (a whole consent process) at {count:,} decisions",
            value=policy_late,
            baseline_name="the same at the circle's start",
            baseline=policy_early,
            target="(report: grows with the decisions taken)",
            met=None,
            note=f"mean of {POLICIES}; the summary reads the decisions in force (a read model)",
        )
    )
