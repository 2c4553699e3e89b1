"""Helpers for tests of circles across nodes, in one process: consent to a proposal in a
one-person circle, and move entries between nodes as the outbox and the puller would."""

from __future__ import annotations

import contextlib
from typing import Any

from federation.verify import Rejected
from node.application import CircleNode
from node.peers import JOINING, PEER


def founder(node: CircleNode) -> str:
    return next(iter(node.get_circle().participants))


def consent_to(
    node: CircleNode,
    purpose: str,
    subject: dict[str, Any],
    text: str = "As discussed",
    *,
    ask_circles: list[str] | None = None,
    by: str | None = None,
    close: bool = True,
) -> str:
    """Take a proposal through the consent process in a circle whose full participants all
    consent (each circle here has its founder, and maybe a few more, all consenting)."""
    by = by or founder(node)
    proposal = node.draft_proposal(
        by,
        purpose.replace("_", " "),
        text,
        purpose=purpose,
        subject=subject,
        ask_circles=ask_circles,
    )
    node.present(by, proposal)
    facilitator = node.get_circle().wearers("facilitator") or [by]
    node.open_reactions(facilitator[0], proposal)
    node.open_consent_round(facilitator[0], proposal)
    for person in node.get_circle().full_participants():
        if "/" not in person:  # seats of linked circles answer from their own node
            node.consent(person, proposal)
    if close:
        node.close_consent_round(facilitator[0], proposal)
    return proposal


def sync(nodes: dict[str, CircleNode], down: tuple[str, ...] = ()) -> int:
    """Push and pull between every pair of nodes that know each other until nothing moves;
    nodes named in `down` neither send nor receive. Returns how many entries moved."""
    up = {name: node for name, node in nodes.items() if name not in down}
    by_feed = {node.feed_id: node for node in up.values()}
    total = 0
    for _ in range(20):
        moved = 0
        for node in up.values():
            for peer in node.peers():
                other = by_feed.get(peer.feed_id)
                if other is None or peer.stopped:
                    continue
                if peer.status == PEER:
                    push = node.pending_push(other.feed_id)
                    if push is not None:
                        try:
                            reply = other.receive_push(push)
                        except Rejected:
                            reply = None
                        if reply is not None:
                            node.acknowledge(other.feed_id, reply.next_seq)
                            moved += reply.accepted
                if peer.status in (PEER, JOINING):
                    held = node.peer_feed(other.feed_id).next_seq - 1
                    page = other.page(held, 1000, node.feed_id)
                    if page.entries:
                        with contextlib.suppress(Rejected):
                            moved += node.receive_page(page)
        total += moved
        if moved == 0:
            return total
    raise AssertionError("entries kept moving between the nodes")


def select(node: CircleNode, hat: str, person: str) -> None:
    """Select `person` for `hat` by the full selection process (everyone nominates them)."""
    host = (node.get_circle().wearers("facilitator") or [founder(node)])[0]
    selection = node.open_selection(host, hat)
    for nominator in node.get_circle().full_participants():
        if "/" not in nominator:
            node.nominate(nominator, selection, person, "Willing and able")
    node.open_change_round(host, selection)
    node.propose_candidate(host, selection, person, "Nominated by everyone")
    for member in node.get_circle().full_participants():
        if "/" not in member:
            node.consent(member, selection)
    node.close_consent_round(host, selection)


def make_active(node: CircleNode) -> None:
    """The founder facilitates and keeps the logbook; the circle starts its work."""
    select(node, "facilitator", founder(node))
    select(node, "secretary", founder(node))
    node.activate_circle(founder(node))
