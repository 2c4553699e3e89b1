"""The map's layout: every circle on the drawing, lines styled by the strongest relationship."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest

from domain.values import CoopLink, Peering
from node.http.web.network_map import HEIGHT, WIDTH, centre_lines, lay_out, link_kind


def rel(name: str, peering: str = Peering.NONE, coop: str = CoopLink.NONE, **more: Any) -> Any:
    fields = {"corporate": False, "legal_entity": None, **more}
    return SimpleNamespace(name=name, other=f"cn1{name}", peering=peering, coop=coop, **fields)


def test_each_line_is_styled_by_the_strongest_relationship() -> None:
    assert link_kind(rel("a", Peering.PEERS)) == "peers"
    assert link_kind(rel("b", Peering.PEERS, CoopLink.HAS_MEMBER)) == "coop"
    assert link_kind(rel("c", Peering.PEERS, CoopLink.MEMBER_OF, corporate=True)) == "corporate"
    assert link_kind(rel("d", Peering.PEERS, CoopLink.WITHDRAWN)) == "withdrawn"
    assert link_kind(rel("e", Peering.REQUESTED)) == "known"


@pytest.mark.parametrize("count", [0, 1, 3, 8, 9, 15, 40])
def test_every_circle_fits_on_the_drawing(count: int) -> None:
    nodes = lay_out([rel(f"circle {i}", Peering.PEERS) for i in range(count)], {"cn1circle 0"})
    assert len(nodes) == count
    for node in nodes:
        assert node.r <= node.x <= WIDTH - node.r and node.r <= node.y <= HEIGHT - 60
        assert 10 <= node.label_y <= HEIGHT - 60
        assert node.show_description == (count <= 8)
    assert [n.stopped for n in nodes[:1]] == [True] * min(count, 1)
    assert len({(n.x, n.y) for n in nodes}) == count


def test_the_centre_name_fits_its_circle() -> None:
    assert centre_lines("Kitchen") == ["Kitchen"]
    assert centre_lines("Equal Care Co-op") == ["Equal Care", "Co-op"]
    assert centre_lines("Supercalifragilistic") == ["Supercalifra…"]
    assert all(len(line) <= 13 for line in centre_lines("A very long circle name indeed"))
