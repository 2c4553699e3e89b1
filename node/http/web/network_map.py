"""The map of the network: this circle in the middle, the circles it knows on a ring around it,
and a line to each styled by how they are related. Laid out here, drawn as inline SVG by
templates/map.html (no script, no image files)."""

from __future__ import annotations

import math
from dataclasses import dataclass

from domain.relationships import Relationship
from domain.values import CoopLink, Peering

WIDTH, HEIGHT = 760, 660
CENTRE = (380.0, 300.0)
RING = 210.0
CENTRE_RADIUS = 62.0
RADIUS = 40.0
LABEL_CHARS = 22
CENTRE_LINE_CHARS = 13  # the centre's name, in up to two lines inside its circle

# How a line is drawn, by the strongest relationship it stands for (and the legend's words).
LINK_STYLES = (
    ("coop", "part of the co-op"),
    ("corporate", "corporate member"),
    ("peers", "peers"),
    ("withdrawn", "withdrawn from the co-op"),
    ("known", "known, not linked (yet)"),
)


def link_kind(rel: Relationship) -> str:
    if rel.coop == CoopLink.WITHDRAWN:
        return "withdrawn"
    if rel.corporate:
        return "corporate"
    if rel.coop in (CoopLink.MEMBER_OF, CoopLink.HAS_MEMBER):
        return "coop"
    if rel.peering == Peering.PEERS:
        return "peers"
    return "known"


def describe(rel: Relationship) -> str:
    """How the other circle is related to this one, in words."""
    parts: list[str] = []
    coop_words: dict[str, str] = {
        CoopLink.MEMBER_OF: "this circle is part of it",
        CoopLink.HAS_MEMBER: "part of this co-op",
        CoopLink.APPLYING: "this circle applied to be part of it",
        CoopLink.APPLIED: "applied to be part of this co-op",
        CoopLink.WITHDRAWN: "no longer part of the same co-op",
    }
    coop = coop_words.get(rel.coop)
    if coop:
        if rel.corporate and rel.coop == CoopLink.MEMBER_OF:
            coop = "this circle is its corporate member"
        elif rel.corporate and rel.coop == CoopLink.HAS_MEMBER:
            coop = "corporate member of this co-op"
        parts.append(coop)
    peering_words: dict[str, str] = {
        Peering.PEERS: "peers",
        Peering.REQUESTED: "this circle asked to peer",
        Peering.ASKED: "asks to peer",
        Peering.ENDED: "peering ended",
    }
    peering = peering_words.get(rel.peering)
    if peering:
        parts.append(peering)
    return "; ".join(parts) or "known"


def short(name: str, chars: int = LABEL_CHARS) -> str:
    return name if len(name) <= chars else name[: chars - 1] + "…"


def centre_lines(name: str) -> list[str]:
    """This circle's name in at most two short lines, broken between words where it can."""
    if len(name) <= CENTRE_LINE_CHARS:
        return [name]
    first: list[str] = []
    words = name.split()
    while words and len(" ".join([*first, words[0]])) <= CENTRE_LINE_CHARS:
        first.append(words.pop(0))
    if not first:  # one long word
        return [short(name, CENTRE_LINE_CHARS)]
    rest = " ".join(words)
    return [" ".join(first), short(rest, CENTRE_LINE_CHARS)] if rest else [" ".join(first)]


@dataclass(frozen=True)
class MapNode:
    name: str
    label: str
    other: str
    x: float
    y: float
    kind: str
    description: str
    stopped: bool
    legal_name: str
    # Where the line from the centre meets this circle's edge, and starts at the centre's.
    line: tuple[float, float, float, float]
    label_y: float
    description_y: float
    r: float
    show_description: bool


ROOMY = 8  # up to this many circles, each is drawn full size with its description
CROWDED = 14  # beyond this many, they alternate between two rings


def lay_out(relationships: list[Relationship], stopped: set[str]) -> list[MapNode]:
    """Each circle on the ring, evenly spaced from the top, clockwise. A crowded map draws
    smaller circles with shorter labels (the full words are in each circle's tooltip and in the
    list under the map), on two rings when very crowded."""
    count = len(relationships)
    roomy = count <= ROOMY
    r = RADIUS if roomy else max(12.0, RADIUS * ROOMY / count)
    nodes = []
    cx, cy = CENTRE
    for index, rel in enumerate(relationships):
        angle = -math.pi / 2 + 2 * math.pi * index / max(count, 1)
        dx, dy = math.cos(angle), math.sin(angle)
        ring = RING - 70 if count > CROWDED and index % 2 else RING
        x, y = cx + ring * dx, cy + ring * dy
        line = (
            round(cx + CENTRE_RADIUS * dx, 1),
            round(cy + CENTRE_RADIUS * dy, 1),
            round(x - r * dx, 1),
            round(y - r * dy, 1),
        )
        name = rel.name or rel.other
        below = dy >= -0.2  # labels below circles in the lower half, above the others
        label_y = y + r + 18 if below else y - r - (24 if roomy else 8)
        nodes.append(
            MapNode(
                name=name,
                label=short(name, LABEL_CHARS if roomy else 14),
                other=rel.other,
                x=round(x, 1),
                y=round(y, 1),
                kind=link_kind(rel),
                description=describe(rel),
                stopped=rel.other in stopped,
                legal_name=rel.legal_entity.registered_name if rel.legal_entity else "",
                line=line,
                label_y=round(label_y, 1),
                description_y=round(label_y + 15, 1),
                r=round(r, 1),
                show_description=roomy,
            )
        )
    return nodes
