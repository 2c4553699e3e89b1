"""An appeal clicked through in a real browser: three members who took no part in an everyday
decision appeal it, and the facilitator records the circle's answer, which opens a proposal to
change the decision. Cast (tests/web/conftest.py): Ann (facilitator, secretary, the organiser
who takes the decision), Ben and Cat (full), Dan (learning)."""

from __future__ import annotations

from domain.appeal import AppealStatus
from domain.values import Purpose
from node.demo.scripted import select
from tests.web.browsing import Browser, Shot, expect, post, signed_in_page
from tests.web.conftest import Circle


def test_members_appeal_a_decision_and_the_circle_answers(
    browser: Browser, circle: Circle, shot: Shot
) -> None:
    node, ann = circle.node, circle.people["Ann"]
    # Given: Ann, the organiser, took an everyday decision about the rota.
    node.hats.define_hat(ann, "Organiser", "Keeps the rota", [], ["rota"], 6)
    select(node, "organiser", ann)
    node.decisions.take_everyday_decision(ann, "organiser", "rota", "Sunday pairs", "Two a visit")

    # When: Ben opens the appeals from the nav and appeals it, with his grounds.
    ben = signed_in_page(browser, circle, "Ben")
    ben.goto(circle.url + "/home")
    ben.get_by_role("link", name="Appeals", exact=True).click()
    ben.get_by_label("The decision", exact=True).select_option(label="Sunday pairs")
    ben.get_by_label("Your grounds").fill("Sundays are for families")
    shot(ben, "appeals-01-lodge")
    assert post(ben, "Appeal the decision") == 303
    # Then: its page shows it gathering appellants.
    expect(ben.locator(".notice")).to_contain_text("Your appeal is lodged")
    expect(ben.locator("#status")).to_have_text("gathering")
    shot(ben, "appeals-02-lodged")

    # When: Cat and Dan join it from the list.
    for name in ("Cat", "Dan"):
        page = signed_in_page(browser, circle, name)
        page.goto(circle.url + "/appeals")
        page.get_by_role("link", name="Sunday pairs").click()
        page.get_by_label("Your own grounds").fill(f"{name} was not asked")
        assert post(page, "Join the appeal") == 303
        expect(page.locator(".notice")).to_have_text("You have joined the appeal.")
    # Then: the circle hears it.
    expect(page.locator("#status")).to_have_text("being heard")
    shot(page, "appeals-03-heard")

    # When: Ann, the facilitator, finds it waiting for her answer and records it: upheld.
    ann_page = signed_in_page(browser, circle, "Ann")
    ann_page.goto(circle.url + "/appeals")
    row = ann_page.locator("#appeals tr", has_text="Sunday pairs")
    expect(row).to_contain_text("waiting for your answer")
    row.get_by_role("link", name="Sunday pairs").click()
    ann_page.get_by_label("Does the circle uphold the appeal?").select_option("yes")
    ann_page.get_by_label("The circle's reason").fill("Families come first")
    shot(ann_page, "appeals-04-answer")
    assert post(ann_page, "Record the answer") == 303

    # Then: upheld, with the proposal to change the decision linked from the page.
    expect(ann_page.locator(".notice")).to_contain_text("The circle upheld the appeal")
    expect(ann_page.locator("#status")).to_have_text("upheld")
    expect(ann_page.locator("#answers")).to_contain_text("Families come first")
    shot(ann_page, "appeals-05-upheld")
    ann_page.get_by_role("link", name="the proposal to change the decision").click()
    expect(ann_page.locator("h1")).to_have_text("Appeal upheld: Sunday pairs")
    (appeal,) = node.appeals.appeals()
    assert appeal.status == AppealStatus.UPHELD and len(appeal.appellants) == 3
    assert appeal.proposal_id is not None
    assert node.records.get_proposal(appeal.proposal_id).purpose == Purpose.AMEND_DECISION
