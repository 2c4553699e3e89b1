"""Drafting a proposal of another purpose than a policy (a budget, with its period and amount)
in a real browser, a refusal beside its field with the focus on it, and closing its consent
round with an answer missing through the page that asks to confirm."""

from __future__ import annotations

from datetime import timedelta

from domain.values import Purpose, Stage
from tests.web.browsing import Browser, Shot, expect, post, signed_in_page, stage_of
from tests.web.conftest import Circle


def test_a_budget_drafted_and_its_round_closed_on_confirming(
    browser: Browser, circle: Circle, shot: Shot
) -> None:
    node = circle.node
    start = node.records.today() + timedelta(days=10)
    end = start + timedelta(days=364)

    # Ben chooses what his proposal does: a budget.
    ben = signed_in_page(browser, circle, "Ben")
    ben.get_by_role("link", name="Proposals", exact=True).click()
    ben.get_by_role("link", name="Draft a proposal").click()
    expect(ben.get_by_role("heading", name="Budget and plans")).to_be_visible()
    shot(ben, "proposals-01-purposes")
    ben.get_by_role("link", name="Adopt a budget or plan").click()
    expect(ben.locator("h1")).to_have_text("Draft a proposal: Adopt a budget or plan")

    # He fills in its title, its text and its subject's fields, with an amount that is none.
    ben.get_by_label("Title").fill("Kitchen budget")
    ben.get_by_label("Proposal", exact=True).fill("Food, gas and a new oven, for a year.")
    ben.locator("#draft-kind").select_option("budget")
    ben.locator("#draft-period_start").fill(start.isoformat())
    ben.locator("#draft-period_end").fill(end.isoformat())
    ben.locator("#draft-amount").fill("lots")
    ben.locator("#draft-currency").fill("GBP")
    assert post(ben, "Draft") == 422
    # The sentence stands beside the amount, which has the focus; what he typed is kept.
    expect(ben.locator("#draft-amount-error")).to_have_text(
        "The amount is not a number (e.g. 1200.50)"
    )
    expect(ben.locator("#draft-amount")).to_be_focused()
    expect(ben.locator("#draft-amount")).to_have_attribute("aria-describedby", "draft-amount-error")
    expect(ben.locator("#draft-period_start")).to_have_value(start.isoformat())
    shot(ben, "proposals-02-refused-beside-field")
    assert not [p for p in node.records.list_proposals() if p.title == "Kitchen budget"]

    ben.locator("#draft-amount").fill("2400.00")
    assert post(ben, "Draft") == 303
    stage_of(ben).to_have_text("draft")
    expect(ben.locator("main")).to_contain_text("To adopt plan")
    (proposal,) = [p for p in node.records.list_proposals() if p.title == "Kitchen budget"]
    assert proposal.purpose == Purpose.ADOPT_PLAN
    assert proposal.subject["amount"] == "2400.00"
    assert proposal.subject["period_start"] == start.isoformat()
    assert post(ben, "Present the proposal") == 303

    # Ann, the facilitator, takes it to its consent round; Ben and Cat consent.
    ann = signed_in_page(browser, circle, "Ann")
    ann.goto(ben.url)
    assert post(ann, "Open the reaction round") == 303
    assert post(ann, "Open the consent round") == 303
    for name in ("Ben", "Cat"):
        page = ben if name == "Ben" else signed_in_page(browser, circle, name)
        page.goto(ann.url)
        assert post(page, "I consent") == 303

    # Ann closes the round before answering herself: the page asks her to confirm, naming her.
    ann.reload()
    assert post(ann, "Close the consent round") == 200
    expect(ann.locator("h1")).to_have_text("Close the round with answers missing?")
    expect(ann.locator("#not-answered li")).to_have_text(["Ann Archer"])
    shot(ann, "proposals-03-confirm-close")
    # She goes back: nothing has happened.
    ann.get_by_role("link", name="No, keep the round open").click()
    stage_of(ann).to_have_text("consent round")
    assert node.records.get_proposal(str(proposal.id)).stage == Stage.CONSENT_ROUND

    # She closes it again, and confirms.
    assert post(ann, "Close the consent round") == 200
    assert post(ann, "Yes, close the round") == 303
    stage_of(ann).to_have_text("consented")
    expect(ann.locator(".notice")).to_have_text("The consent round is closed: consented.")
    expect(ann.locator("#rounds")).to_contain_text("Ann Archer")
    shot(ann, "proposals-04-closed")
    assert node.records.get_proposal(str(proposal.id)).stage == Stage.CONSENTED
