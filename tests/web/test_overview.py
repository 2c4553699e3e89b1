"""The overview at `/`, over HTTP without a browser: what anyone may see of the circle and its
place in the network (the circles it knows, co-op policies that bind it, support between
circles, peers stopped for equivocating), drawn by the same page as the members' /network.

The cast: the kitchen (the served node, with markup in its name) is part of the Equal Care
Co-op, which binds its member circles to a policy; the orchard joined the network through the
kitchen and then signed two histories.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from domain.values import Purpose
from node.app.node import CircleNode
from node.app.persistence import open_node
from node.http.server import ServerOptions, create_app
from node.http.web.rendering import SECURITY_HEADERS
from node.settings import Settings
from tests.node.circles import consent_to, founder, sync
from tests.web.conftest import equivocate, founded_circles, join_network

NAMES = {
    "kitchen": "Kitchen <b>& Co</b>",  # shown as written, never as markup
    "coop": "Equal Care Co-op",
    "orchard": "Orchard circle",
}
POLICY = "Every circle reviews its budget each quarter"
ASKED = "Two people for Sunday visits in March"


@pytest.fixture
def network(tmp_path: Path) -> Iterator[dict[str, CircleNode]]:
    with founded_circles(tmp_path, NAMES) as nodes:
        yield nodes


def test_the_overview_shows_anyone_the_circle_among_others(
    network: dict[str, CircleNode],
) -> None:
    kitchen, coop, orchard = (network[key] for key in NAMES)
    # Given the kitchen is part of the co-op, which binds its circles to a policy ...
    join_network(coop, kitchen)
    sync(network)
    consent_to(kitchen, Purpose.APPLY_TO_COOP, {"circle": coop.feed.node_id})
    sync(network)
    consent_to(coop, Purpose.ADMIT_MEMBER, {"circle": kitchen.feed.node_id})
    consent_to(coop, Purpose.ADOPT_POLICY, {"binds_member_circles": True}, text=POLICY)
    sync(network)
    # ... asks the network for support, and the orchard it admitted equivocates.
    consent_to(
        kitchen, Purpose.REQUEST_SUPPORT, {"kind": "people", "circles": ["network"]}, text=ASKED
    )
    join_network(kitchen, orchard)
    sync(network)
    equivocate(orchard, kitchen)
    client = TestClient(create_app(kitchen, None, ServerOptions(public_url="http://testserver")))

    # When anyone opens the overview,
    page = client.get("/")

    # then it shows the circle, the circles it knows and how, the co-op's policy, the request
    # for support and the alert, with names as text, never as markup.
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    html = page.text
    assert "<h1>Kitchen &lt;b&gt;&amp; Co&lt;/b&gt;</h1>" in html
    assert "<b>&" not in html
    assert "The aim of Kitchen &lt;b&gt;" in html
    assert kitchen.feed.node_id in html and "active" in html
    assert '<a href="/circle">' in html  # the way to the members' pages
    for other in ("coop", "orchard"):
        assert NAMES[other] in html and network[other].feed.node_id in html
    assert "this circle is part of it" in html  # in the words of the members' /network
    assert POLICY in html
    assert ASKED in html and "people" in html
    alert = re.search(r'<p class="alert"[^>]*>(.*?)</p>', html, re.S)
    assert alert is not None and orchard.feed.node_id in alert.group(1)
    assert "equivocation" in alert.group(1).lower()
    # What is for members only is not there: the peers' addresses, how each circle was met.
    assert 'id="peers"' not in html and "met: " not in html
    # Nothing there is a form, so nothing there needs a CSRF token; and the headers are the
    # members' pages' own.
    assert "<form" not in html
    for header, value in SECURITY_HEADERS.items():
        assert page.headers[header] == value, header


def test_the_overview_of_a_node_without_a_circle(tmp_path: Path) -> None:
    node = open_node(Settings(data_dir=tmp_path / "empty"))
    try:
        client = TestClient(create_app(node, None, ServerOptions(public_url="http://testserver")))
        page = client.get("/")
        assert page.status_code == 200
        assert "This node has no circle yet." in page.text
    finally:
        node.close()


def test_a_signed_in_member_sees_the_overview_with_the_pages_around_it(
    network: dict[str, CircleNode],
) -> None:
    kitchen = network["kitchen"]
    _, token = kitchen.tokens.issue_token(founder(kitchen))
    client = TestClient(create_app(kitchen, None, ServerOptions(public_url="http://testserver")))
    form = client.get("/sign-in")
    csrf = re.search(r'name="csrf" value="([^"]+)"', form.text)
    assert csrf is not None
    signed = client.post(
        "/sign-in",
        data={"csrf": csrf.group(1), "token": token, "next": "/"},
        follow_redirects=False,
    )
    assert signed.status_code == 303 and signed.headers["location"] == "/"
    page = client.get("/")
    assert page.status_code == 200
    assert "<h1>Kitchen &lt;b&gt;&amp; Co&lt;/b&gt;</h1>" in page.text
    # The pages' nav, and the sign-out form with this session's token.
    assert '<a href="/network">Network</a>' in page.text
    session_csrf = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert session_csrf is not None and session_csrf.group(1) != csrf.group(1)
