"""Two real nodes, each served on its own loopback port with its delivery running, and a
member of each in a browser: after `init` (each circle founded and active, its founder's token
issued), everything is done in the pages. The kitchen asks the bakery's node to let it into the
network and the bakery admits it (the two then peer); the kitchen asks the bakery for support,
the bakery offers, the kitchen accepts, records the delivery, and both circles reflect. Every
binding step is a proposal consented on its circle's pages; the signed messages cross between
the nodes over HTTP."""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest

from node.app.node import CircleNode
from tests.node.circles import founder
from tests.web.browsing import Browser, Page, Shot, expect, signed_in_with_token
from tests.web.conftest import founded_circles, serve_node

pytestmark = pytest.mark.timeout(240)

NAMES = {"kitchen": "Kitchen circle", "bakery": "Bakery circle"}


def signed_in(browser: Browser, url: str, node: CircleNode) -> Page:
    """A browser of its own (the two nodes share a host: their cookies must not meet), signed
    in with the founder's token at the network page."""
    _, token = node.tokens.issue_token(founder(node))
    return signed_in_with_token(browser, url, token, "/network", {"width": 1100, "height": 900})


def until(page: Page, text: str, where: str = "main", seconds: float = 30) -> None:
    """Reload the page until `where` shows `text` (the other node's message is on its way)."""
    deadline = time.monotonic() + seconds
    while text not in page.locator(where).inner_text():
        if time.monotonic() > deadline:
            raise AssertionError(f"{text!r} never appeared on {page.url}")
        time.sleep(0.3)
        page.reload()


def consent_in_pages(page: Page, purpose: str, title: str, text: str, **choices: str) -> None:
    """On the proposal form a link led to (its purpose and subject filled in), draft the
    proposal, then take it through the consent process: the founder presents it, facilitates,
    consents and closes the round."""
    form = page.locator('form[action="/proposals"]')
    for name, value in choices.items():
        form.locator(f'select[name="{name}"]').select_option(value)
    form.locator('[name="title"]').fill(title)
    form.locator('[name="text"]').fill(text)
    form.locator('button[type="submit"]').click()
    expect(page.locator("h1")).to_have_text(title)
    expect(page.locator("main")).to_contain_text(f"To {purpose} · proposed by")
    page.get_by_role("button", name="Present the proposal").click()
    page.get_by_role("button", name="Open the reaction round").click()
    page.get_by_role("button", name="Open the consent round").click()
    page.get_by_role("button", name="I consent").click()
    page.get_by_role("button", name="Close the consent round").click()
    expect(page.locator("#stage")).to_have_text("consented")


def test_joining_and_support_between_two_real_nodes_in_the_pages(
    browser: Browser, tmp_path: Path, shot: Shot
) -> None:
    with (
        founded_circles(tmp_path, NAMES) as nodes,
        serve_node(nodes["kitchen"]) as (kitchen_url, _),
        serve_node(nodes["bakery"]) as (bakery_url, _),
    ):
        kitchen = signed_in(browser, kitchen_url, nodes["kitchen"])
        bakery = signed_in(browser, bakery_url, nodes["bakery"])

        # The kitchen asks the bakery's node to let it into the network.
        kitchen.get_by_label("The address of a node in the network").fill(bakery_url)
        kitchen.get_by_label("A word to the circle you ask").fill("We bake for the same fair")
        kitchen.get_by_role("button", name="Ask to join").click()
        expect(kitchen.locator("p.notice")).to_contain_text(f"Asked {bakery_url} to admit")
        shot(kitchen, "across-1-asked")

        # The bakery finds it on its network page, and admits it by consent.
        bakery.reload()
        bakery.get_by_role("link", name="Kitchen circle").click()
        expect(bakery.locator("h1")).to_have_text("Kitchen circle")
        expect(bakery.locator("#relationship")).to_contain_text("asked to join the network")
        shot(bakery, "across-2-circle-page")
        bakery.get_by_role("link", name="Admit it to the network").click()
        consent_in_pages(
            bakery, "admit to network", "Admit the kitchen", "They bake for the same fair"
        )

        # Its admission reaches the kitchen: the two circles peer.
        kitchen.get_by_role("link", name="Network", exact=True).click()
        until(kitchen, "peers", "#relationships")
        kitchen.get_by_role("link", name="Bakery circle").click()
        expect(kitchen.locator("#relationship")).to_contain_text("admitted to the network")
        shot(kitchen, "across-3-peers")

        # The kitchen asks the bakery for support.
        kitchen.get_by_role("link", name="Ask it for support").click()
        consent_in_pages(
            kitchen,
            "request support",
            "Ask the bakery for help",
            "Two bakers for the fair",
            kind="people",
        )

        # The bakery reads the request and offers, by consent.
        bakery.get_by_role("link", name="Network", exact=True).click()
        until(bakery, "Two bakers for the fair")
        bakery.locator("a[href^='/support/']").first.click()
        expect(bakery.locator("main")).to_contain_text("Asked by Kitchen circle")
        bakery_request = bakery.url
        bakery.get_by_role("link", name="Offer support").click()
        consent_in_pages(bakery, "offer support", "Help the kitchen", "Two of us, on the Saturday")

        # The kitchen accepts the offer, by consent.
        kitchen.get_by_role("link", name="Network", exact=True).click()
        kitchen.locator("a[href^='/support/']").first.click()
        request_page = kitchen.url
        until(kitchen, "Two of us, on the Saturday", "#offers")
        shot(kitchen, "across-4-offer")
        kitchen.get_by_role("link", name="Accept the offer of Bakery circle").click()
        consent_in_pages(kitchen, "accept offer", "Accept the bakery's offer", "Thank you")

        # Its secretary records the delivery, and the circle its reflection.
        kitchen.goto(request_page)
        expect(kitchen.locator("#status")).to_have_text("accepted")
        kitchen.get_by_label("What was delivered").fill("Two bakers, all Saturday")
        kitchen.get_by_role("button", name="Record the delivery").click()
        expect(kitchen.locator("p.notice")).to_contain_text("The delivery is recorded")
        expect(kitchen.locator("#status")).to_have_text("delivered")
        kitchen.get_by_label("This circle's reflection").fill("We could not have done it alone")
        kitchen.get_by_role("button", name="Record the reflection").click()
        expect(kitchen.locator("#reflections")).to_contain_text("We could not have done it")
        shot(kitchen, "across-5-delivered")

        # The bakery reads the delivery and the kitchen's reflection, and adds its own.
        bakery.goto(bakery_request)
        until(bakery, "We could not have done it alone", "#reflections")
        expect(bakery.locator("#delivery")).to_contain_text("Two bakers, all Saturday")
        bakery.get_by_label("This circle's reflection").fill("Good bread, good company")
        bakery.get_by_role("button", name="Record the reflection").click()
        expect(bakery.locator("#reflections")).to_contain_text("Good bread, good company")
        shot(bakery, "across-6-reflected")
        assert re.search(r"/support/[0-9a-f-]+$", bakery.url)
        expect(bakery.locator("#our-offer")).to_contain_text("Two of us, on the Saturday")
