"""Asking a node to let this circle into its network, from the network page (no browser): the
node asked is a real node served on a loopback port; the form is the secretary's, refused
beside the address when the address is not a node's or cannot be reached."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from domain.relationships import APPLIED
from node.app.persistence import open_node
from node.settings import Settings
from tests.conftest import Clock
from tests.node.api.world import Circle, kitchen
from tests.web.conftest import NOWHERE, founded_circles, serve_node
from tests.web.test_relation_pages import links, post, signed_in


@pytest.fixture
def kitchen_and_coop(tmp_path: Path, clock: Clock) -> Iterator[tuple[Circle, Circle, str]]:
    node = open_node(Settings(data_dir=tmp_path / "kitchen"), clock)
    with (
        founded_circles(tmp_path, {"coop": "Equal Care Co-op"}) as nodes,
        serve_node(nodes["coop"]) as (url, app),
    ):
        coop = nodes["coop"]
        founder = next(iter(coop.records.get_circle().participants))
        tokens = {"founder": coop.tokens.issue_token(founder)[1]}
        yield kitchen(node), Circle(coop, TestClient(app), {"founder": founder}, tokens), url
    node.close()


def test_the_secretary_asks_a_node_to_let_the_circle_into_its_network(
    kitchen_and_coop: tuple[Circle, Circle, str],
) -> None:
    circle, host, coop_url = kitchen_and_coop
    coop = host.node
    # Ben, who does not keep the records, has no form, and his post is refused.
    ben = signed_in(circle, "ben")
    assert 'action="/network/join"' not in ben.client.get("/network").text
    status, _, answered = post(ben, "/network", "/network/join", url=coop_url)
    assert status == 403 and "secretary" in answered

    ada = signed_in(circle, "ada")
    assert 'action="/network/join"' in ada.client.get("/network").text
    # An address that is not a node's base URL is refused beside the field.
    status, _, answered = post(ada, "/network", "/network/join", url="coop.example")
    assert status == 422
    assert '<p class="field-error" id="join-url-error">Give the node&#39;s address' in answered
    assert 'value="coop.example"' in answered  # what was typed is kept
    # So is a node that cannot be reached, and nothing is recorded.
    status, _, answered = post(ada, "/network", "/network/join", url=NOWHERE)
    assert status == 422
    assert f'id="join-url-error">{NOWHERE} could not be asked' in answered
    assert circle.node.relations.relationships() == []

    # When: Ada asks the co-op's node.
    status, location, _ = post(
        ada, "/network", "/network/join", url=coop_url + "/", message="May we join?"
    )
    # Then: the co-op's node knows the kitchen, which asked to join through it; its members
    # find the admission's proposal form on the kitchen's page.
    assert (status, location) == (303, "/network")
    kitchen_id = circle.node.feed.node_id
    (met,) = coop.relations.relationships()
    assert met.other == kitchen_id and met.how == APPLIED
    (ours,) = circle.node.relations.relationships()
    assert ours.other == coop.feed.node_id
    page = ada.client.get("/network").text
    assert "Asked " + coop_url + " to admit this circle" in page
    assert f'<a href="/circles/{coop.feed.node_id}">Equal Care Co-op</a>' in page
    founder = signed_in(host, "founder")
    # (A node asking to join is an applicant: the network page shows it without a delivery.)
    network = founder.client.get("/network")
    assert network.status_code == 200 and "applicant" in network.text
    page = founder.client.get(f"/circles/{kitchen_id}").text
    assert "it asked to join the network through this circle" in page
    assert links(page)["Admit it to the network"] == {
        "purpose": "admit_to_network",
        "circle": kitchen_id,
    }
