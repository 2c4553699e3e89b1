"""The network of the network bench, built in this process before any host serves: the hosts'
folders, their circles founded, each member circle peered with the co-op on both sides, and
made a member circle of the co-op by consent (node/app's service layer, as `circle-node` and
the API call it).

Why in this process: driving a thousand admissions over HTTP takes each circle through two
consent processes (its application, the co-op's admission) of a dozen requests each, and the
co-op's feed, which every member circle holds, grows by an entry or two per admission. What
the bench times is what comes after: the hosts' start, their idle, and one co-op policy.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from bench.host import found, slug_of
from domain.values import CoopLink, Purpose
from federation.feed import feed_id_from_node_id, node_id
from node.app.node import CircleNode
from node.cli.opening import opened
from node.demo.scripted import consent_to, make_active
from node.host.layout import circle_url

COOP_SLUG = "coop"
MISSION_LINK = "Our work is part of the co-op's mission"
Say = Callable[[str], None]


@dataclass(frozen=True)
class HostPlan:
    """One host of the network: its folder, the port it will serve at, its circles' slugs."""

    folder: Path
    port: int
    slugs: list[str]

    @property
    def url(self) -> str:
        # `serve --port P` without `--url` announces http://127.0.0.1:P (node/cli/serving.py).
        return f"http://127.0.0.1:{self.port}"

    def circle_url(self, slug: str) -> str:
        return circle_url(self.url, slug)


@dataclass
class Built:
    """What the set-up made: the co-op's founder's token, the co-op's node id, and how long
    each step took (seconds)."""

    coop_token: str = ""
    coop_node_id: str = ""
    coop_head: int = 0
    steps: dict[str, float] = field(default_factory=dict)


def plan_hosts(root: Path, ports: list[int], hosts: int, per_host: int) -> list[HostPlan]:
    """The member hosts (slugs numbered across them), then the co-op's host, last."""
    members = [
        HostPlan(
            root / f"host-{h + 1}",
            ports[h],
            [slug_of(h * per_host + n) for n in range(per_host)],
        )
        for h in range(hosts)
    ]
    return [*members, HostPlan(root / "coop-host", ports[hosts], [COOP_SLUG])]


def peer_in_process(node: CircleNode, other: CircleNode, name: str, url: str, expect: str) -> None:
    """`circle-node peer add URL --expect NODE_ID` (node/cli/network.py), with the descriptor
    the other node's `GET URL/federation/node` would serve built in this process instead of
    fetched (the hosts do not serve yet)."""
    descriptor = other.feed.descriptor(name, url)
    if feed_id_from_node_id(expect) != descriptor.feed:
        raise RuntimeError(f"{url} is node {node_id(descriptor.feed)}, not {expect}")
    node.peering.add_peer(descriptor, url)
    node.release_held()


def _push(sender: CircleNode, receiver: CircleNode) -> int:
    """What the sender's outbox owes the receiver, taken by it and acknowledged, as the
    delivery loop does over HTTP. Returns the entries taken."""
    taken = 0
    while (push := sender.outbox.pending_push(receiver.feed.feed_id)) is not None:
        reply = receiver.intake.receive_push(push)
        sender.outbox.acknowledge(receiver.feed.feed_id, reply.next_seq)
        taken += reply.accepted
        if reply.reason or reply.accepted == 0:
            break
    return taken


def _catch_up(member: CircleNode, coop: CircleNode) -> int:
    """The member pulls the co-op's feed (pages, as a pull does), and the co-op's outbox is
    acknowledged where the member stands (what the member would answer a push of it)."""
    taken = 0
    while True:
        held = member.peering.peer_feed(coop.feed.feed_id).next_seq - 1
        page = coop.feed.page(held, 1000, member.feed.feed_id)
        if not page.entries:
            break
        taken += member.intake.receive_page(page)
    coop.outbox.acknowledge(
        member.feed.feed_id, member.peering.peer_feed(coop.feed.feed_id).next_seq
    )
    return taken


def build(plans: list[HostPlan], say: Say) -> Built:
    """Found every circle, peer each member circle with the co-op, and make it a member."""
    built = Built()
    *member_hosts, coop_host = plans
    members = [(plan, slug) for plan in member_hosts for slug in plan.slugs]
    coop_url = coop_host.circle_url(COOP_SLUG)

    started = time.perf_counter()
    built.coop_token = found(coop_host.folder, COOP_SLUG, "The Co-op")
    for plan, slug in members:
        found(plan.folder, slug, f"Circle {slug}")
    built.steps["found"] = time.perf_counter() - started
    say(f"  founded {len(members) + 1} circles in {built.steps['found']:.0f} s")

    with opened(coop_host.folder, circle=COOP_SLUG) as (coop, _):
        make_active(coop, "Our aim is the co-op's mission")
        built.coop_node_id = coop_ref = coop.feed.node_id
        coop_name = coop.records.get_circle().name

        # Each member circle forms its aim and starts its work; the operator peers it with the
        # co-op on both sides; it applies to be part of the co-op, by consent, and its
        # application reaches the co-op.
        started = time.perf_counter()
        refs: list[str] = []
        for count, (plan, slug) in enumerate(members, 1):
            url = plan.circle_url(slug)
            with opened(plan.folder, circle=slug) as (member, _):
                make_active(member, MISSION_LINK)
                ref = member.feed.node_id
                peer_in_process(member, coop, coop_name, coop_url, coop_ref)
                name = member.records.get_circle().name
                peer_in_process(coop, member, name, url, ref)
                consent_to(member, Purpose.APPLY_TO_COOP, {"circle": coop_ref}, "Apply")
                _push(member, coop)
                refs.append(ref)
            if count % 100 == 0:
                say(f"    {count} member circles peered and applied")
        built.steps["peer and apply"] = time.perf_counter() - started

        # The co-op welcomes each, by consent.
        started = time.perf_counter()
        for count, ref in enumerate(refs, 1):
            if coop.relations.relationship(ref).coop != CoopLink.APPLIED:
                raise RuntimeError(f"the co-op holds no application from {ref}")
            consent_to(coop, Purpose.ADMIT_MEMBER, {"circle": ref}, "Welcome")
            if count % 100 == 0:
                say(f"    {count} member circles admitted")
        built.steps["admit"] = time.perf_counter() - started

        # Each member circle takes the co-op's feed (its admission among the others'), and
        # what it then sends the co-op reaches it; until nothing moves.
        started = time.perf_counter()
        for round_number in range(5):
            moved = 0
            for plan, slug in members:
                with opened(plan.folder, circle=slug) as (member, _):
                    moved += _catch_up(member, coop) + _push(member, coop)
            say(f"    round {round_number + 1} of catching up: {moved} entries moved")
            if moved == 0:
                break
        else:
            raise RuntimeError("entries kept moving between the co-op and its circles")
        built.steps["catch up"] = time.perf_counter() - started
        built.coop_head = coop.feed.own_feed().head

    for plan, slug in members:
        with opened(plan.folder, circle=slug) as (member, _):
            link = member.relations.relationship(coop_ref).coop
            if link != CoopLink.MEMBER_OF:
                raise RuntimeError(f"{slug} is {link} the co-op, not a member circle")
    return built
