"""A full consent process clicked through in a real browser, person by person, and the refusals
the pages must show: a post without its CSRF token, a learning participant's objection."""

from __future__ import annotations

import re

import pytest

from domain.values import Stage
from tests.web.browsing import Browser, Shot, expect, post, signed_in_page, stage_of
from tests.web.conftest import Circle


def test_a_full_consent_process_in_the_browser(
    browser: Browser, circle: Circle, shot: Shot, logs: pytest.LogCaptureFixture
) -> None:
    # Ben signs in: the sign-in form, then the circle's page.
    ben = browser.new_context().new_page()
    ben.set_default_timeout(15_000)
    ben.goto(circle.url + "/proposals")
    expect(ben).to_have_url(re.compile(r"/sign-in\?next=/proposals$"))
    ben.get_by_label("Personal token").fill(circle.tokens["Ben"])
    shot(ben, "01-sign-in")
    ben.get_by_role("button", name="Sign in").click()
    expect(ben).to_have_url(circle.url + "/proposals")
    expect(ben.locator(".notice")).to_have_text("Welcome, Ben Baker.")
    ben.get_by_role("link", name="Circle", exact=True).click()
    expect(ben.locator("#aim")).to_have_text(
        "Good food for everyone who comes to the community centre"
    )
    people = ben.locator("#people")
    expect(people).to_contain_text("Ann Archer")
    expect(people.locator("tr", has_text="Ann Archer")).to_contain_text("Facilitator, Secretary")
    expect(people.locator("tr", has_text="Dan Dish")).to_contain_text("learning participant")
    shot(ben, "02-circle")

    # Ben drafts a proposal and presents it.
    ben.get_by_role("link", name="Proposals", exact=True).click()
    ben.get_by_role("link", name="Draft a proposal").click()
    ben.get_by_role("link", name="Adopt a policy").click()
    ben.get_by_label("Title").fill("Tea rota")
    ben.get_by_label("Proposal", exact=True).fill("Everyone takes a turn making tea, weekly.")
    assert post(ben, "Draft") == 303
    stage_of(ben).to_have_text("draft")
    expect(ben.locator(".notice")).to_contain_text("Your proposal is drafted")
    shot(ben, "03-drafted")
    proposal_url = ben.url
    proposal_id = proposal_url.rsplit("/", 1)[1]
    assert post(ben, "Present the proposal") == 303
    stage_of(ben).to_have_text("presented")
    # Ben is not the facilitator: the page offers him no facilitation.
    expect(ben.locator("#facilitation")).to_have_count(0)

    # Ann, the facilitator, opens the reaction round, then the consent round.
    ann = signed_in_page(browser, circle, "Ann")
    ann.goto(proposal_url)
    assert post(ann, "Open the reaction round") == 303
    stage_of(ann).to_have_text("reactions")
    ann.get_by_label("Your reaction").fill("Lovely idea.")
    assert post(ann, "React") == 303
    expect(ann.get_by_text("Ann Archer: Lovely idea.")).to_be_visible()
    shot(ann, "04-reactions")
    assert post(ann, "Open the consent round") == 303
    stage_of(ann).to_have_text("consent round")
    shot(ann, "05-consent-round")

    # Cat objects, with her argument.
    cat = signed_in_page(browser, circle, "Cat")
    cat.goto(proposal_url)
    argument = "On Mondays the kitchen serves the market lunch; tea then would leave it unstaffed."
    cat.get_by_label("Your objection and its argument").fill(argument)
    assert post(cat, "Raise the objection") == 303
    expect(cat.locator(".notice")).to_have_text("Your objection is recorded as objection 1.")
    expect(cat.locator("#objection-1")).to_contain_text(argument)
    expect(cat.locator("#your-answer")).to_have_count(0)  # she has answered this round
    shot(cat, "06-objection")

    # Dan, a learning participant, tries to object: the circle's rules refuse, in their words.
    dan = signed_in_page(browser, circle, "Dan")
    dan.goto(proposal_url)
    dan.get_by_label("Your objection and its argument").fill("I would rather have coffee.")
    assert post(dan, "Raise the objection") == 403
    expect(dan.locator("#refusal")).to_have_text(
        "Only full participants can consent or object; learning participants and guests "
        "speak, not block"
    )
    # What he typed is still there, and nothing changed.
    expect(dan.get_by_label("Your objection and its argument")).to_have_value(
        "I would rather have coffee."
    )
    shot(dan, "07-refused-learning-participant")
    assert len(circle.node.records.get_proposal(proposal_id).objections) == 1

    # Ann closes the round: Ben and she have not answered, so she is asked to confirm; the
    # objection then sends the proposal to integration.
    ann.reload()
    assert post(ann, "Close the consent round") == 200
    expect(ann.locator("#not-answered li")).to_have_text(["Ann Archer", "Ben Baker"])
    assert post(ann, "Yes, close the round") == 303
    stage_of(ann).to_have_text("integrating")
    expect(ann.locator(".notice")).to_have_text("The consent round is closed: integrating.")
    shot(ann, "08-integrating")
    # She integrates the objection by amending the proposal, and reopens the round.
    amended = "Everyone takes a turn making tea, weekly, except on market Mondays."
    ann.get_by_label("How", exact=True).select_option("amend")
    ann.get_by_label("The amended text, the measure, or why the term is shortened").fill(amended)
    assert post(ann, "Integrate") == 303
    expect(ann.locator("#text")).to_have_text(amended)
    expect(ann.locator("#objection-1")).to_contain_text("integrated")
    shot(ann, "09-integrated")
    assert post(ann, "Open the consent round") == 303
    stage_of(ann).to_have_text("consent round")
    expect(ann.get_by_text("(consent round 2)")).to_be_visible()

    # Everyone consents; Ann closes the round.
    for page in (ann, ben, cat):
        page.goto(proposal_url)
        assert post(page, "I consent") == 303
        expect(page.locator(".notice")).to_have_text("Your consent is recorded.")
    ann.reload()
    expect(ann.locator("#answers")).to_contain_text("Cat Cook: consents")
    shot(ann, "10-all-consented")
    assert post(ann, "Close the consent round") == 303
    stage_of(ann).to_have_text("consented")
    expect(ann.locator("#rounds")).to_contain_text("integrating")
    shot(ann, "11-consented")

    # The new policy is among the decisions, with its review date.
    ann.get_by_role("link", name="Decisions", exact=True).click()
    row = ann.locator("#decisions tr", has_text="Tea rota")
    expect(row).to_contain_text(amended)
    expect(row).to_contain_text("in force")
    (decision,) = circle.node.records.list_decisions()
    expect(row).to_contain_text(decision.review_date.isoformat())
    shot(ann, "12-decisions")
    assert circle.node.records.get_proposal(proposal_id).stage == Stage.CONSENTED

    # No token ever reached a log (uvicorn's access log included).
    assert any("POST /sign-in" in record.getMessage() for record in logs.records)
    for record in logs.records:
        for token in circle.tokens.values():
            assert token not in record.getMessage()


def test_a_post_without_the_csrf_token_is_refused(
    browser: Browser, circle: Circle, shot: Shot
) -> None:
    # The circle's proposals so far: the one by which it formed its aim.
    formed = [p.id for p in circle.node.records.list_proposals()]
    ben = signed_in_page(browser, circle, "Ben")
    ben.get_by_role("link", name="Proposals", exact=True).click()
    ben.get_by_role("link", name="Draft a proposal").click()
    ben.get_by_role("link", name="Adopt a policy").click()
    ben.get_by_label("Title").fill("Forged")
    ben.get_by_label("Proposal", exact=True).fill("Sent without the form's token")
    # The form loses its hidden token (as a form on another site would not have it).
    ben.locator("main form input[name=csrf]").evaluate("input => input.remove()")
    assert post(ben, "Draft") == 403
    expect(ben.locator("h1")).to_have_text("This form cannot be accepted")
    expect(ben.locator(".refusal")).to_contain_text("security token")
    shot(ben, "13-csrf-refused")
    assert [p.id for p in circle.node.records.list_proposals()] == formed
    # A post with a wrong token, and one from outside any page, are refused too.
    refused = ben.request.post(
        circle.url + "/proposals",
        form={"csrf": "not-the-token", "title": "Forged", "text": "Again"},
        max_redirects=0,
    )
    assert refused.status == 403
    outsider = browser.new_context()
    assert outsider.request.post(circle.url + "/sign-out", max_redirects=0).status == 403
    assert [p.id for p in circle.node.records.list_proposals()] == formed


def test_signing_out_ends_the_session(browser: Browser, circle: Circle, shot: Shot) -> None:
    ann = signed_in_page(browser, circle, "Ann")
    (cookie,) = [c for c in ann.context.cookies() if c["name"] == "circle_session"]
    assert cookie["httpOnly"] and cookie["sameSite"] == "Lax" and cookie["path"] == "/"
    assert not cookie["value"].startswith("cn_")
    ann.get_by_role("button", name="Sign out").click()
    expect(ann).to_have_url(circle.url + "/sign-in")
    expect(ann.locator(".notice")).to_have_text("You have signed out.")
    shot(ann, "14-signed-out")
    ann.goto(circle.url + "/circle")
    expect(ann).to_have_url(re.compile(r"/sign-in\?next=/circle$"))
    # The old cookie is worth nothing now: the server forgot its session.
    replay = browser.new_context()
    replay.add_cookies([{**cookie}])  # type: ignore[list-item]
    page = replay.new_page()
    page.goto(circle.url + "/circle")
    expect(page).to_have_url(re.compile(r"/sign-in"))


def test_a_wrong_token_is_refused(browser: Browser, circle: Circle, shot: Shot) -> None:
    page = browser.new_context().new_page()
    page.goto(circle.url + "/sign-in")
    page.get_by_label("Personal token").fill("cn_not-a-real-token")
    assert post(page, "Sign in") == 401
    # The sentence stands beside the field, which takes the focus again.
    expect(page.locator("#token-error")).to_have_text(
        "That token is unknown, revoked, or belongs to someone who has left the circle."
    )
    expect(page.get_by_label("Personal token")).to_be_focused()
    shot(page, "15-wrong-token")
