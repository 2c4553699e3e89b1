"""Circles the scenarios set up (not timed): a founder wearing an operational hat, members."""

from __future__ import annotations

from node.app.node import CircleNode

HAT_AREA = "rota"


def found_with_hat(node: CircleNode, name: str = "Kitchen") -> tuple[str, str]:
    """Found a circle whose founder wears an operational hat; returns (founder, hat id)."""
    founder = node.circle.found_circle(
        name=name, aim=f"{name}'s aim", domain="Care", founder_name="Ada"
    )
    hat = node.hats.define_hat(founder, "Rota holder", "Keeps the rota", [], [HAT_AREA])
    selection = node.hats.open_selection(founder, hat)
    node.hats.nominate(founder, selection, founder, "I keep it already")
    node.hats.open_change_round(founder, selection)
    node.hats.propose_candidate(founder, selection, founder, "Nominated")
    node.consent.consent(founder, selection)
    node.consent.close_consent_round(founder, selection)
    return founder, hat
