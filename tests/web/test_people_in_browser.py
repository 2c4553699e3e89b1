"""The people's pages in a real browser: the founder records an application and admits the
applicant by clicking, sees the personal token once, and the new member signs in with it and
finds their own details from their account."""

from __future__ import annotations

from tests.web.browsing import Browser, Shot, expect, signed_in_page, signed_in_with_token
from tests.web.conftest import Circle


def test_the_founder_admits_an_applicant_who_signs_in(
    browser: Browser, circle: Circle, shot: Shot
) -> None:
    # Given: Ann, who founded the circle and keeps its records, signed in.
    page = signed_in_page(browser, circle, "Ann")

    # When: she records Eve's application on the people's page.
    page.get_by_role("link", name="People", exact=True).click()
    expect(page.locator("#people")).to_contain_text("Dan Dish")
    page.get_by_label("Name").fill("Eve Egg")
    page.get_by_label("Email address").fill("eve@example.org")
    page.get_by_role("button", name="Record the application").click()
    expect(page.locator(".notice")).to_contain_text("The application of Eve Egg is recorded")
    eve_page = page.url
    shot(page, "people-applicant")

    # When: she admits her.
    page.get_by_role("button", name="Admit Eve Egg").click()

    # Then: the token is shown, this once, with the warning to copy it now.
    expect(page.locator("#new-token")).to_contain_text("Copy it now: it is shown this once.")
    token = page.locator("#token").inner_text()
    assert token.startswith("cn_")
    shot(page, "people-admitted-token")
    page.goto(eve_page)
    expect(page.locator("#standing")).to_contain_text("active")
    assert token not in page.content()
    page.goto(circle.url + "/people")
    expect(page.locator("#people")).to_contain_text("Eve Egg")
    assert token not in page.content()

    # When: Eve signs in with it, and opens her details from her account.
    eve = signed_in_with_token(browser, circle.url, token)
    expect(eve.locator(".who")).to_contain_text("Signed in as Eve Egg")
    eve.get_by_role("link", name="My account").click()
    eve.get_by_role("link", name="My details").click()

    # Then: her own page offers her aims, and she sets them out.
    expect(eve).to_have_url(eve_page)
    eve.get_by_label("My aims").fill("Bake bread on Fridays")
    eve.get_by_role("button", name="Save my aims").click()
    expect(eve.locator(".notice")).to_have_text("Your aims and development goals are saved.")
    expect(eve.locator("#aims")).to_contain_text("Bake bread on Fridays")
    shot(eve, "people-my-details")
