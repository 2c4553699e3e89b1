"""The network pages in a real browser: the map drawn as SVG (this circle in the middle, a line
to each circle it knows, styled by relationship), peers and support, and the equivocation alert
on every page. The relationships are real: five nodes in one process exchange their signed
feeds (as tests/node/test_circles_across_nodes.py does), then the co-op's node is served."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from domain.values import CoopLink, Peering, Purpose
from node.app.node import CircleNode
from tests.node.circles import consent_to, founder, sync
from tests.web.browsing import Browser, Shot, expect, signed_in_with_token
from tests.web.conftest import equivocate, founded_circles, join_network, serve_node

NAMES = {
    "coop": "Equal Care Co-op",
    "kitchen": "Kitchen circle",
    "garden": "Garden circle",
    "bakery": "Bakery <b>& Co</b>",  # shown as written, never as markup
    "orchard": "Orchard Co-op",
}


@pytest.fixture
def network(tmp_path: Path) -> Iterator[dict[str, CircleNode]]:
    with founded_circles(tmp_path, NAMES) as nodes:
        yield nodes


def test_the_map_and_the_network_in_the_browser(
    browser: Browser, network: dict[str, CircleNode], shot: Shot
) -> None:
    coop, kitchen, garden, bakery, orchard = (network[key] for key in NAMES)
    for newcomer in (kitchen, garden, bakery, orchard):
        join_network(coop, newcomer)
    sync(network)
    # The kitchen and the bakery become part of the co-op; the garden, incorporated
    # separately, a corporate member; the kitchen later goes its own way. The orchard peers.
    for member in (kitchen, bakery):
        consent_to(member, Purpose.APPLY_TO_COOP, {"circle": coop.feed.node_id})
    consent_to(
        garden,
        Purpose.INCORPORATE,
        {"registered_name": "Garden Co-op Ltd", "number": "RS00123", "registry": "FCA"},
    )
    consent_to(garden, Purpose.APPLY_TO_COOP, {"circle": coop.feed.node_id})
    sync(network)
    for member in (kitchen, bakery, garden):
        consent_to(coop, Purpose.ADMIT_MEMBER, {"circle": member.feed.node_id})
    sync(network)
    consent_to(
        kitchen,
        Purpose.REQUEST_SUPPORT,
        {"kind": "people", "circles": ["network"]},
        text="Two people for Sunday visits in March",
    )
    consent_to(kitchen, Purpose.GO_INDEPENDENT, {"circle": coop.feed.node_id})
    sync(network)
    assert coop.relations.relationship(kitchen.feed.node_id).coop == CoopLink.WITHDRAWN
    assert coop.relations.relationship(garden.feed.node_id).corporate
    assert coop.relations.relationship(bakery.feed.node_id).coop == CoopLink.HAS_MEMBER
    assert coop.relations.relationship(orchard.feed.node_id).peering == Peering.PEERS
    equivocate(orchard, coop)

    _, token = coop.tokens.issue_token(founder(coop))
    with serve_node(coop) as (url, _app):
        page = signed_in_with_token(browser, url, token, "/map", {"width": 1100, "height": 900})

        svg = page.locator("svg#network-map")
        expect(svg).to_be_visible()
        expect(svg.locator(".this-circle title")).to_have_text("Equal Care Co-op (this circle)")
        expect(svg.locator(".this-circle tspan")).to_have_text(["Equal Care", "Co-op"])
        lines = {
            key: svg.locator(f"line.link[data-circle='{network[key].feed.node_id}']")
            for key in ("kitchen", "garden", "bakery", "orchard")
        }
        expect(lines["bakery"]).to_have_class("link coop")
        expect(lines["garden"]).to_have_class("link corporate")
        expect(lines["orchard"]).to_have_class("link peers")
        expect(lines["kitchen"]).to_have_class("link withdrawn")
        # The styles differ as drawn, not only by name.
        styles = {
            key: line.evaluate(
                "l => { const s = getComputedStyle(l);"
                " return [s.stroke, s.strokeWidth, s.strokeDasharray].join(' '); }"
            )
            for key, line in lines.items()
        }
        assert len(set(styles.values())) == 4, styles
        # Every circle it knows is drawn and named; names are text, never markup.
        expect(svg.locator("g.known-circle")).to_have_count(4)
        bakery_group = svg.locator(f"g.known-circle[data-circle='{bakery.feed.node_id}']")
        expect(bakery_group.locator("text.name")).to_have_text("Bakery <b>& Co</b>")
        expect(svg.locator("b")).to_have_count(0)
        expect(svg.locator(f"g.known-circle[data-circle='{garden.feed.node_id}']")).to_contain_text(
            "corporate member of this co-op"
        )
        # The equivocating peer is marked on the map ...
        orchard_group = svg.locator(f"g.known-circle[data-circle='{orchard.feed.node_id}']")
        expect(orchard_group.locator("circle.stopped")).to_have_count(1)
        expect(page.locator("#map-list")).to_contain_text("Orchard Co-op: peers (stopped")
        shot(page, "16-map")

        # ... and an alert on every page.
        for link in ("Circle", "Proposals", "Decisions", "Hats", "Meetings", "Network", "Map"):
            page.get_by_role("link", name=link, exact=True).click()
            alert = page.locator("p.alert")
            expect(alert).to_contain_text("Equivocation")
            expect(alert).to_contain_text("Orchard Co-op")
            expect(alert).to_contain_text(orchard.feed.node_id)
        page.get_by_role("link", name="Network", exact=True).click()
        expect(page.locator("#peers")).to_contain_text("stopped: it signed two different entries")
        expect(page.locator("#relationships")).to_contain_text("Garden Co-op Ltd")
        expect(page.get_by_text("Two people for Sunday visits in March")).to_be_visible()
        shot(page, "17-network")
