"""Read-only web pages (server-rendered, no JavaScript): the circle's view of the network."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape

from federation.feed import node_id
from node.app.node import CircleNode

TEMPLATES = Environment(
    loader=FileSystemLoader(Path(__file__).parent / "templates"),
    autoescape=select_autoescape(["html"]),
)


def network_page(node: CircleNode) -> str:
    """The circle, the circles it knows and how, co-op policies that bind it, and support."""
    relationships = node.relations.relationships()
    names = {rel.other: rel.name or rel.other for rel in relationships}
    support: list[dict[str, Any]] = [
        {
            "kind": request.kind.replace("_", " "),
            "text": request.text,
            "status": request.status,
            "offers": request.offers,
            "origin_name": "this circle"
            if request.is_ours
            else names.get(request.origin or "", ""),
        }
        for request in node.relations.support_requests()
    ]
    return TEMPLATES.get_template("network.html").render(
        circle=node.records.get_circle(),
        node_id=node.feed.node_id,
        relationships=relationships,
        policies=node.relations.policies_from_coops(),
        support=support,
        stopped=[node_id(peer.feed_id) for peer in node.peering.peers() if peer.stopped],
    )
