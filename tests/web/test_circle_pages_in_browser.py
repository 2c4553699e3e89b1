"""The circle's other pages in a real browser: hats with their terms ending, and meetings
(scheduled with the page's form)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from tests.web.browsing import Browser, Shot, expect, signed_in_page
from tests.web.conftest import Circle


def select_for_a_short_term(circle: Circle) -> str:
    """Cat is selected as tea maker, for a term whose review comes in 10 days."""
    node, people = circle.node, circle.people
    ann = people["Ann"]
    hat = node.hats.define_hat(ann, "Tea maker", "Keeps the tea flowing", ["Buy tea"], ["tea"])
    review = datetime.now(UTC).date() + timedelta(days=10)
    selection = node.hats.open_selection(ann, hat, review_date=review)
    full = ("Ann", "Ben", "Cat")
    for name in full:
        node.hats.nominate(people[name], selection, people["Cat"], "She loves tea")
    node.hats.open_change_round(ann, selection)
    node.hats.propose_candidate(ann, selection, people["Cat"], "Nominated by everyone")
    for name in full:
        node.consent.consent(people[name], selection)
    node.consent.close_consent_round(ann, selection)
    return review.isoformat()


def test_hats_and_meetings(browser: Browser, circle: Circle, shot: Shot) -> None:
    review = select_for_a_short_term(circle)
    page = signed_in_page(browser, circle, "Ann", "/hats")
    expect(page.locator("#terms-ending")).to_contain_text(
        f"Cat Cook as Tea maker: review date {review}"
    )
    expect(page.locator("#hats tr", has_text="Facilitator")).to_contain_text("Ann Archer")
    shot(page, "18-hats")

    page.get_by_role("link", name="Meetings", exact=True).click()
    when = (datetime.now(UTC) + timedelta(days=7)).replace(hour=18, minute=30)
    page.get_by_label("Title").fill("Kitchen circle meeting")
    page.get_by_label("When").fill(when.strftime("%Y-%m-%dT%H:%M"))
    page.get_by_role("button", name="Schedule").click()
    expect(page.locator(".notice")).to_have_text("The meeting is scheduled.")
    expect(page.locator("main .box")).to_contain_text(when.strftime("%Y-%m-%d 18:30 UTC"))
    shot(page, "19-meetings")

    # Ben is not the facilitator: the page offers him no scheduling, and the circle's rules
    # refuse him if he posts anyway.
    ben = signed_in_page(browser, circle, "Ben", "/meetings")
    expect(ben.get_by_role("button", name="Schedule")).to_have_count(0)
    csrf = ben.locator("header input[name=csrf]").input_value()
    refused = ben.request.post(
        circle.url + "/meetings",
        form={"csrf": csrf, "title": "Mine", "when": "2030-01-01T10:00"},
    )
    assert refused.status == 403
    assert "Only the facilitator can schedule a meeting" in refused.text()
    assert len(circle.node.records.list_meetings()) == 1
