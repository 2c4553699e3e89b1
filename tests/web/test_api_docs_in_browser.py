"""The member API's documentation at `/docs`, in a browser: Swagger UI reads the node's OpenAPI
3.1 spec and shows its operations (not "Unable to render this definition"), under the page's
Content-Security-Policy, loading nothing from elsewhere; at the root of a node's site and under
a co-op host's prefix, where "Try it out" calls the circle's own API."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from node.app.node import CircleNode
from node.app.persistence import open_node
from node.demo.scripted import make_active
from node.settings import Settings
from tests.web.browsing import Browser, ConsoleMessage, Page, Shot, expect
from tests.web.conftest import Circle
from tests.web.mounting import serving_circles

# Operations' summaries, as the spec gives them (node/http/api/).
CIRCLE = "The circle: aim, domain, rules, people and their hats"
PEOPLE = "Everyone who takes or took part (paginated)"
LOADING_MS = 60_000


def _watched(browser: Browser, site: str) -> tuple[Page, list[str], list[str]]:
    """A page of its own, with what it logs as errors (a script or fetch the policy refused, a
    file not found) and every address it asks for outside `site`. The browser's own request for
    /favicon.ico is left out: the node has no icon, on any page."""
    page = browser.new_context().new_page()
    page.set_default_timeout(20_000)
    errors: list[str] = []
    elsewhere: list[str] = []

    def logged(message: ConsoleMessage) -> None:
        if message.type == "error" and not message.location["url"].endswith("/favicon.ico"):
            errors.append(f"{message.text} ({message.location['url']})")

    page.on("console", logged)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on(
        "request",
        lambda r: None if r.url.startswith(site + "/") else elsewhere.append(r.url),
    )
    return page, errors, elsewhere


def _shows_the_operations(page: Page) -> None:
    # Swagger UI reads its script and the spec, then shows the operations, or why it cannot
    # (a spec whose version it does not read: "Unable to render this definition"). On a busy
    # machine that takes a while.
    shown = page.locator(".opblock, .version-pragma").first
    expect(shown).to_be_visible(timeout=LOADING_MS)
    expect(page.get_by_text("Unable to render this definition")).to_have_count(0)
    expect(page.locator(".errors-wrapper")).to_have_count(0)  # no resolver errors either
    for summary in (CIRCLE, PEOPLE):
        expect(page.locator(".opblock-summary-description", has_text=summary)).to_be_visible()


def test_the_docs_show_the_apis_operations(browser: Browser, circle: Circle, shot: Shot) -> None:
    page, errors, elsewhere = _watched(browser, circle.url)
    page.goto(circle.url + "/docs")
    _shows_the_operations(page)
    # The spec's own version, as FastAPI writes it, is what the page read.
    expect(page.locator(".info .version-stamp", has_text="OAS 3.1")).to_be_visible()
    shot(page, "api-docs")
    assert errors == [], errors
    assert elsewhere == [], elsewhere
    page.context.close()


@pytest.fixture
def circles(tmp_path: Path) -> Iterator[dict[str, CircleNode]]:
    nodes: dict[str, CircleNode] = {}
    try:
        for slug in ("a", "b"):
            node = nodes[slug] = open_node(Settings(data_dir=tmp_path / slug))
            node.circle.found_circle(
                name=f"Circle {slug}", aim="An aim", domain="Care", founder_name=f"Founder {slug}"
            )
            make_active(node)
        yield nodes
    finally:
        for node in nodes.values():
            node.close()


def test_the_docs_show_the_operations_under_a_prefix_and_try_the_circles_own_api(
    browser: Browser, circles: dict[str, CircleNode], shot: Shot
) -> None:
    with serving_circles(circles) as site:
        page, errors, elsewhere = _watched(browser, site)
        with page.expect_response(f"{site}/c/b/openapi.json"):
            page.goto(f"{site}/c/b/docs")
        _shows_the_operations(page)
        shot(page, "api-docs-under-a-prefix")
        # "Try it out" on GET /api/circle calls circle b's API, under its prefix (no token:
        # refused, with the API's problem).
        operation = page.locator(".opblock", has_text=CIRCLE)
        operation.locator(".opblock-summary").click()
        operation.get_by_role("button", name="Try it out").click()
        with page.expect_response(f"{site}/c/b/api/circle") as called:
            operation.get_by_role("button", name="Execute").click()
        assert called.value.status == 401
        expect(operation.locator(".responses-wrapper .live-responses-table")).to_contain_text("401")
        # A browser's refused fetch logs an error: that one, and only that one.
        assert [e for e in errors if "401" not in e] == [], errors
        assert elsewhere == [], elsewhere
        page.context.close()
