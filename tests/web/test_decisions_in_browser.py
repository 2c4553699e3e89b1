"""Decisions in a real browser: the facilitator takes an everyday decision with the list's form
and reads it on its page, runs the due dates' update, and finds the budget and plans page."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from tests.web.browsing import Browser, Shot, expect, signed_in_page
from tests.web.conftest import Circle


def test_a_hat_wearer_takes_an_everyday_decision(
    browser: Browser, circle: Circle, shot: Shot
) -> None:
    # Given: Ann, who wears the facilitator hat, signs in on the decisions page.
    page = signed_in_page(browser, circle, "Ann", "/decisions")

    # When: she takes an everyday decision in her hat's domain, by clicking.
    review = (datetime.now(UTC) + timedelta(days=60)).date().isoformat()
    page.get_by_label("With the hat").select_option("facilitator")
    page.get_by_label("Area of the hat's domain").fill("meetings")
    page.get_by_label("Title").fill("Meetings on Tuesdays")
    page.get_by_label("The decision", exact=False).fill("We meet on *Tuesdays* at six.")
    page.get_by_label("Review date").fill(review)
    shot(page, "30-decisions-everyday-form")
    page.get_by_role("button", name="Take the decision").click()

    # Then: she reads it on its page.
    expect(page.locator(".notice")).to_have_text("Your everyday decision is taken.")
    expect(page.get_by_role("heading", level=1)).to_have_text("Meetings on Tuesdays")
    expect(page.locator("#text em")).to_have_text("Tuesdays")
    expect(page.locator("#terms")).to_contain_text("Ann Archer as Facilitator, in meetings")
    expect(page.locator("#terms")).to_contain_text(review)
    expect(page.get_by_role("link", name="Propose to renew it")).to_be_visible()
    shot(page, "31-decision-page")
    (decision,) = circle.node.records.list_decisions()
    decision_page = f"{circle.url}/decisions/{decision.id}"
    expect(page).to_have_url(decision_page)

    # And: the list links to it.
    page.get_by_role("link", name="All decisions").click()
    page.get_by_role("link", name="Meetings on Tuesdays").click()
    expect(page).to_have_url(decision_page)

    # When: she runs the due dates' update; nothing has come due.
    page.get_by_role("link", name="Decisions", exact=True).click()
    page.get_by_role("button", name="Update the due dates now").click()
    expect(page.locator(".notice")).to_have_text("Due dates updated: nothing had come due.")

    # And: the budget and plans page is a link away.
    page.get_by_role("link", name="the budget and plans page").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Budget and plans")
    shot(page, "32-plans")

    # Ben wears no hat: no form to take one.
    ben = signed_in_page(browser, circle, "Ben", "/decisions")
    expect(ben.get_by_role("heading", name="Decisions", level=1)).to_be_visible()
    expect(ben.get_by_role("button", name="Take the decision")).to_have_count(0)
