"""A member's home in a real browser: signing in leads to "Waiting for you", which lists the
round that needs their answer with its deadline in the circle's time zone, the proposals list
marks it, and both forget it once they have answered."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from domain.values import Mode, Purpose
from node.app.waiting import unanswered_rounds
from node.demo.scripted import consent_to
from tests.web.browsing import Browser, Shot, expect, signed_in_page
from tests.web.conftest import Circle


def test_a_member_sees_their_waiting_round_until_they_answer_it(
    browser: Browser, circle: Circle, shot: Shot
) -> None:
    node, ann = circle.node, circle.people["Ann"]
    # Given a circle whose rules keep Auckland's time, and Ann's proposal in an asynchronous
    # consent round until 17:00 UTC on 8 March (06:00 on the 9th in Auckland).
    consent_to(node, Purpose.CHANGE_RULES, {"time_zone": "Pacific/Auckland"})
    deadline = datetime(2030, 3, 8, 17, 0, tzinfo=UTC)
    proposal = node.proposals.draft_proposal(
        ann, "Compost the peelings", "A bin by the back door", mode=Mode.ASYNC, deadline=deadline
    )
    node.proposals.present(ann, proposal)
    node.proposals.open_reactions(ann, proposal)
    node.consent.open_consent_round(ann, proposal)

    # When Ben signs in, he lands on his home, where the round waits for him with its deadline.
    ben = signed_in_page(browser, circle, "Ben")
    expect(ben).to_have_url(circle.url + "/home")
    waiting = ben.locator("#waiting")
    expect(waiting).to_contain_text("Round to answer: Compost the peelings")
    expect(waiting).to_contain_text("answer by 2030-03-09 06:00 NZDT")
    expect(waiting).to_contain_text("Round 1 needs your consent or objection")
    shot(ben, "waiting-01-home")

    # The proposals list marks the round he has not answered.
    ben.goto(circle.url + "/proposals")
    row = ben.locator("#proposals tr", has_text="Compost the peelings")
    expect(row.locator(".unanswered")).to_have_text("Your answer is awaited")
    shot(ben, "waiting-02-proposals-marked")

    # He follows the link from his home and consents.
    ben.goto(circle.url + "/home")
    ben.get_by_role("link", name="Compost the peelings").click()
    expect(ben).to_have_url(re.compile(rf"/proposals/{proposal}$"))
    ben.get_by_role("button", name="I consent", exact=True).click()
    ben.wait_for_load_state()

    # Then nothing waits for him, and the list no longer marks it; Cat's answer still waits.
    ben.goto(circle.url + "/home")
    expect(ben.locator("#waiting")).to_have_text("Nothing waits for you now.")
    shot(ben, "waiting-03-nothing-waits")
    ben.goto(circle.url + "/proposals")
    row = ben.locator("#proposals tr", has_text="Compost the peelings")
    expect(row).to_be_visible()
    expect(row.locator(".unanswered")).to_have_count(0)
    assert proposal in unanswered_rounds(node.records, circle.people["Cat"])
