"""Scripted circles: the full consent process for circles whose members all consent, and a
selection everyone agrees to. Used by the demo's story and by the tests."""

from __future__ import annotations

from typing import Any

from node.app.node import CircleNode


def founder(node: CircleNode) -> str:
    return next(iter(node.records.get_circle().participants))


def _members(node: CircleNode) -> list[str]:
    # Seats of linked circles ("<node id>/delegate") answer from their own node.
    return [p for p in node.records.get_circle().full_participants() if "/" not in p]


def consent_to(
    node: CircleNode,
    purpose: str,
    subject: dict[str, Any],
    text: str = "As discussed",
    *,
    title: str | None = None,
    ask_circles: list[str] | None = None,
    by: str | None = None,
    close: bool = True,
) -> str:
    """Take a proposal through presentation, reactions and a consent round in which every
    full participant consents; close it unless `close` is false. Returns its id."""
    by = by or founder(node)
    proposal = node.proposals.draft_proposal(
        by,
        title or purpose.replace("_", " ").capitalize(),
        text,
        purpose=purpose,
        subject=subject,
        ask_circles=ask_circles,
    )
    node.proposals.present(by, proposal)
    host = (node.records.get_circle().wearers("facilitator") or [by])[0]
    node.proposals.open_reactions(host, proposal)
    node.consent.open_consent_round(host, proposal)
    for person in _members(node):
        node.consent.consent(person, proposal)
    if close:
        node.consent.close_consent_round(host, proposal)
    return proposal


def select(node: CircleNode, hat: str, person: str) -> None:
    """Select `person` for `hat` by the full selection process (everyone nominates them)."""
    host = (node.records.get_circle().wearers("facilitator") or [founder(node)])[0]
    selection = node.hats.open_selection(host, hat)
    for nominator in _members(node):
        node.hats.nominate(nominator, selection, person, "Willing and able")
    node.hats.open_change_round(host, selection)
    node.hats.propose_candidate(host, selection, person, "Nominated by everyone")
    for member in _members(node):
        node.consent.consent(member, selection)
    node.consent.close_consent_round(host, selection)


def form_aim(node: CircleNode, mission_link: str | None = None, aim: str | None = None) -> str:
    """The forming circle forms its aim together: a proposal to change the aim (the one it was
    founded with, unless `aim`), saying how it links to the co-op's mission, consented by
    everyone. Returns the proposal's id."""
    subject: dict[str, Any] = {"aim": aim or node.records.get_circle().aim}
    if mission_link:
        subject["mission_link"] = mission_link
    return consent_to(node, "change_aim", subject, "We revisited our aim together", title="Our aim")


def make_active(node: CircleNode, mission_link: str | None = None) -> None:
    """The circle forms its aim together; the founder facilitates and keeps the logbook; the
    circle starts its work."""
    form_aim(node, mission_link)
    select(node, "facilitator", founder(node))
    select(node, "secretary", founder(node))
    node.circle.activate_circle(founder(node))
