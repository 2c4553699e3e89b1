"""A circle run from the pages selects its facilitator in a real browser: a selection opened on
the hat's page, nominations with reasons, the change round and a changed nomination, the
candidate proposed, the consent round on them, and the new wearer shown on /hats."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from node.app.persistence import open_node
from node.settings import Settings
from tests.web.browsing import Browser, Page, Shot, expect, signed_in_page
from tests.web.conftest import Circle, serve_node


@pytest.fixture
def forming(tmp_path: Path) -> Iterator[Circle]:
    """A circle just founded: nobody wears a hat yet (so any full participant facilitates)."""
    node = open_node(Settings(data_dir=tmp_path / "kitchen"))
    ann = node.circle.found_circle(
        name="Kitchen circle", aim="Good food", domain="The kitchen", founder_name="Ann Archer"
    )
    people = {
        "Ann": ann,
        "Ben": node.people.add_founding_member(ann, "Ben Baker"),
        "Cat": node.people.add_founding_member(ann, "Cat Cook"),
        "Dan": node.people.add_founding_member(ann, "Dan Dish", level="learning"),
    }
    tokens = {name: node.tokens.issue_token(person)[1] for name, person in people.items()}
    try:
        with serve_node(node) as (url, app):
            yield Circle(url, app, node, people, tokens)
    finally:
        node.close()


def nominate(page: Page, url: str, whom: str, why: str) -> None:
    page.goto(url)
    page.get_by_label("Whom you nominate", exact=True).select_option(label=whom)
    page.get_by_label(re.compile(r"^Why \(what makes them right")).fill(why)
    page.get_by_role("button", name="Nominate", exact=True).click()
    expect(page.locator(".notice")).to_contain_text(f"Your nomination of {whom} is recorded.")


def test_a_circle_selects_its_facilitator_in_the_browser(
    browser: Browser, forming: Circle, shot: Shot
) -> None:
    circle = forming
    # Ann opens a selection for the facilitator from the hat's page (nobody wears it yet, so
    # any full participant runs the process).
    ann = signed_in_page(browser, circle, "Ann", "/hats")
    ann.get_by_role("link", name="Facilitator", exact=True).click()
    expect(ann.locator("main")).to_contain_text("Nobody wears this hat.")
    ann.get_by_role("button", name="Open a selection for the facilitator hat").click()
    expect(ann.locator(".notice")).to_contain_text("The selection is open")
    selection = ann.url
    shot(ann, "selection-1-open")

    # Everyone nominates, with a reason; Ben finds it marked on /selections.
    nominate(ann, selection, "Ben Baker", "Ben runs a calm meeting")
    ben = signed_in_page(browser, circle, "Ben", "/selections")
    expect(ben.locator("#selections")).to_contain_text("Your nomination is awaited")
    ben.get_by_role("link", name="Selection for Facilitator").click()
    expect(ben).to_have_url(selection)
    nominate(ben, selection, "Cat Cook", "Cat keeps us to time")
    cat = signed_in_page(browser, circle, "Cat", "/selections")
    nominate(cat, selection, "Ben Baker", "Ben listens")
    dan = signed_in_page(browser, circle, "Dan", "/selections")
    nominate(dan, selection, "Ben Baker", "Ben explains the process well")
    expect(dan.locator("#nominations li")).to_have_count(4)
    shot(dan, "selection-2-nominations")

    # Ann opens the change round; having heard the reasons, Ben changes his nomination.
    ann.goto(selection)
    ann.get_by_role("button", name="Open the change round").click()
    expect(ann.locator("#stage")).to_have_text("change round")
    ben.goto(selection)
    ben.get_by_label("Whom you nominate now").select_option(label="Ben Baker")
    ben.get_by_label("Why", exact=True).fill("Three of you asked me: I will do it")
    ben.get_by_role("button", name="Change my nomination").click()
    expect(ben.locator(".notice")).to_have_text("Your nomination is now Ben Baker.")
    expect(ben.locator("#nominations")).to_contain_text("changed")
    shot(ben, "selection-3-change-round")

    # Ann proposes Ben as the candidate: the consent round opens on him.
    ann.goto(selection)
    ann.get_by_label("Propose as candidate").select_option(label="Ben Baker")
    ann.get_by_label("Why this candidate").fill("Nominated by everyone after the change round")
    ann.get_by_role("button", name="Propose the candidate").click()
    expect(ann.locator("#stage")).to_have_text("consent round")
    shot(ann, "selection-4-candidate")

    # The full participants consent; Dan, learning, is offered no answer.
    dan.goto(selection)
    expect(dan.get_by_role("button", name="I consent")).to_have_count(0)
    cat.get_by_role("link", name="Selections", exact=True).click()
    expect(cat.locator("#selections")).to_contain_text("Your answer is awaited")
    for page in (ann, ben, cat):
        page.goto(selection)
        page.get_by_role("button", name="I consent").click()
        expect(page.locator(".notice")).to_have_text("Your consent is recorded.")
    shot(cat, "selection-5-consent-round")

    # Ann closes the round: Ben wears the hat, and /hats shows him.
    ann.get_by_role("button", name="Close the consent round").click()
    expect(ann.locator(".notice")).to_have_text("Consented: Ben Baker wears the facilitator hat.")
    ann.get_by_role("link", name="Hats", exact=True).click()
    expect(ann.locator("#hats tr", has_text="Facilitator")).to_contain_text("Ben Baker")
    shot(ann, "selection-6-worn")
    assert circle.node.records.peek_circle().wearers("facilitator") == [circle.people["Ben"]]
