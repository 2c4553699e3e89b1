"""Two circles on one site, as a co-op host serves them (`/c/a/` and `/c/b/`), and one browser
signed in to both: each circle's session cookie has its own name and `Path`, so the sessions
never meet; signing out of one leaves the other; a form of one circle is refused by the other;
the pages keep their Content-Security-Policy and run no script of their own, and the API's
docs start under the prefix."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from node.app.node import CircleNode
from node.app.persistence import open_node
from node.demo.scripted import make_active
from node.settings import Settings
from tests.web.browsing import Browser, expect
from tests.web.mounting import (
    circle_app,
    csrf_of,
    host_app,
    serving_circles,
    signed_in_client,
    unprefixed,
)

NAMES = {"a": ("Apple circle", "Ann Apple"), "b": ("Birch circle", "Bea Birch")}


@pytest.fixture
def circles(tmp_path: Path) -> Iterator[tuple[dict[str, CircleNode], dict[str, str]]]:
    """The two circles' nodes by slug, each founded and active, and each founder's token."""
    nodes: dict[str, CircleNode] = {}
    tokens: dict[str, str] = {}
    try:
        for slug, (name, founder) in NAMES.items():
            node = nodes[slug] = open_node(Settings(data_dir=tmp_path / slug))
            person = node.circle.found_circle(
                name=name, aim=f"The aim of {name}", domain="Care", founder_name=founder
            )
            node.people.add_founding_member(person, f"Second of {name}")
            make_active(node)
            tokens[slug] = node.tokens.issue_token(person)[1]
        yield nodes, tokens
    finally:
        for node in nodes.values():
            node.close()


def _signed_in_as(client: TestClient, slug: str) -> bool:
    page = client.get(f"/c/{slug}/home", follow_redirects=False)
    return page.status_code == 200 and "Signed in as" in page.text


def test_each_circle_has_its_own_cookie_and_sessions_stay_apart(
    circles: tuple[dict[str, CircleNode], dict[str, str]],
) -> None:
    nodes, tokens = circles
    site = host_app(
        {slug: circle_app(node, "https://testserver", slug) for slug, node in nodes.items()}
    )
    client = TestClient(site, base_url="https://testserver")
    # Given: one client signed in to both circles.
    answers = {slug: signed_in_client(client, f"/c/{slug}", tokens[slug]) for slug in nodes}
    # Then: each cookie is named for its circle and sent only to its pages.
    for slug, answer in answers.items():
        cookie = answer.headers["set-cookie"]
        assert cookie.startswith(f"circle_session_{slug}=")
        for flag in (f"Path=/c/{slug}/", "HttpOnly", "SameSite=lax", "Secure"):
            assert flag in cookie
        assert answer.headers["location"] == f"/c/{slug}/home"
    assert _signed_in_as(client, "a") and _signed_in_as(client, "b")
    # A form of circle a carries a's session's token: circle b refuses it.
    a_home = client.get("/c/a/home")
    refused = client.post("/c/b/sign-out", data={"csrf": csrf_of(a_home.text)})
    assert refused.status_code == 403
    assert _signed_in_as(client, "b")
    # When: the client signs out of circle a.
    out = client.post("/c/a/sign-out", data={"csrf": csrf_of(a_home.text)}, follow_redirects=False)
    assert out.status_code == 303 and out.headers["location"] == "/c/a/sign-in"
    # Then: a sends it to its sign-in form; b keeps it signed in.
    gone = client.get("/c/a/home", follow_redirects=False)
    assert gone.headers["location"] == "/c/a/sign-in?next=/home"
    assert _signed_in_as(client, "b")


def test_one_browser_is_signed_in_to_two_circles_at_once(
    browser: Browser, circles: tuple[dict[str, CircleNode], dict[str, str]]
) -> None:
    nodes, tokens = circles
    with serving_circles(nodes) as site:
        context = browser.new_context()
        page = context.new_page()
        page.set_default_timeout(15_000)
        # Given: one browser signs in to circle a, then to circle b.
        for slug in nodes:
            page.goto(f"{site}/c/{slug}/sign-in")
            page.get_by_label("Personal token").fill(tokens[slug])
            page.get_by_role("button", name="Sign in").click()
            expect(page).to_have_url(f"{site}/c/{slug}/home")
        # Then: it holds a cookie for each, named and scoped for its circle.
        cookies = {cookie["name"]: cookie["path"] for cookie in context.cookies()}
        assert cookies == {"circle_session_a": "/c/a/", "circle_session_b": "/c/b/"}
        # And: each circle's pages show it signed in there, with that circle's name; every
        # link and form stays in the circle; no script is on the page, and none may run.
        for slug, (name, founder) in NAMES.items():
            answer = page.goto(f"{site}/c/{slug}/home")
            assert answer is not None and answer.status == 200
            assert "default-src 'none'" in answer.headers["content-security-policy"]
            expect(page.locator("header .who")).to_contain_text(f"Signed in as {founder}")
            expect(page.locator("header .site")).to_have_text(name)
            html = page.content()
            assert "<script" not in html
            assert not unprefixed(html, f"/c/{slug}/", site)
        # When: it signs out of circle a, by the header's button.
        page.goto(f"{site}/c/a/home")
        page.get_by_role("button", name="Sign out").click()
        expect(page).to_have_url(f"{site}/c/a/sign-in")
        # Then: circle a asks it to sign in again; circle b still knows it.
        page.goto(f"{site}/c/a/people")
        expect(page).to_have_url(f"{site}/c/a/sign-in?next=/people")
        page.goto(f"{site}/c/b/people")
        expect(page).to_have_url(f"{site}/c/b/people")
        expect(page.locator("header .who")).to_contain_text("Signed in as Bea Birch")
        # The member API's docs start under the prefix: their script asks for the circle's
        # own spec, which names the prefix as its server.
        with page.expect_response(f"{site}/c/b/openapi.json") as spec:
            page.goto(f"{site}/c/b/docs")
        assert spec.value.status == 200
        assert spec.value.json()["servers"] == [{"url": "/c/b"}]
        context.close()
