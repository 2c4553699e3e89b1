"""Members' long texts in a real browser: a proposal keeps its paragraphs and lists, nothing
it carries runs, and a very long word wraps instead of widening the page on a phone; an
unknown address is a page too."""

from __future__ import annotations

from tests.web.browsing import Browser, Page, Shot, ViewportSize, expect, signed_in_page
from tests.web.conftest import Circle

PHONE: ViewportSize = {"width": 390, "height": 844}
DESKTOP: ViewportSize = {"width": 1280, "height": 800}
LONG_WORD = "tea" * 666 + "ok"  # 2,000 characters, no break in them

PROPOSAL = f"""We buy tea together, once a month.

The rota, from April:
- Ann on Mondays
- Ben on Tuesdays

Our supplier's address: {LONG_WORD}

<script>document.title = "ran"</script>
<b onclick="document.title = 'clicked'">Not bold</b> and [a link](javascript:alert(1)).
"""


def page_width(page: Page) -> int:
    """How wide the document is: wider than the window means it scrolls sideways."""
    width: int = page.evaluate("document.documentElement.scrollWidth")
    return width


def test_a_proposal_reads_well_on_a_phone(browser: Browser, circle: Circle, shot: Shot) -> None:
    # Given: Ben's proposal, in Markdown, with a 2,000-character word and code in disguise,
    # and a question about it with that word too.
    node, people = circle.node, circle.people
    pid = node.proposals.draft_proposal(people["Ben"], "Tea together", PROPOSAL)
    node.proposals.present(people["Ben"], pid)
    node.proposals.ask_question(people["Cat"], pid, f"Is it\n\n1. {LONG_WORD}?\n2. or not?")

    # When: Ann opens it on a phone.
    page = signed_in_page(browser, circle, "Ann")
    page.set_viewport_size(PHONE)
    page.goto(f"{circle.url}/proposals/{pid}")

    # Then: its paragraphs and its list are there...
    text = page.locator("#text")
    expect(text.locator("ul > li")).to_have_text(["Ann on Mondays", "Ben on Tuesdays"])
    expect(text.locator("p").first).to_have_text("We buy tea together, once a month.")
    assert text.locator("p").count() >= 3
    expect(page.locator("main ol ol > li, main .text ol > li")).to_have_count(2)
    # ...what was typed as HTML is shown as typed, and none of it ran or links anywhere.
    expect(text).to_contain_text('<script>document.title = "ran"</script>')
    assert text.locator("script, b, [onclick]").count() == 0
    assert text.locator("a[href^='javascript' i]").count() == 0
    page.locator("#text").click()
    assert page.title() == "Tea together · Kitchen circle"
    # ...and the long word wraps: the page is no wider than the phone, nor than a desktop.
    assert page_width(page) <= PHONE["width"]
    shot(page, "30-long-proposal-390")
    page.set_viewport_size(DESKTOP)
    assert page_width(page) <= DESKTOP["width"]


def test_an_unknown_address_is_a_page_in_the_browser(
    browser: Browser, circle: Circle, shot: Shot
) -> None:
    # Given: Ann, signed in, on a phone.
    page = signed_in_page(browser, circle, "Ann")
    page.set_viewport_size(PHONE)
    # When: she opens an address the node does not have (an old bookmark).
    answer = page.goto(f"{circle.url}/ledger")
    # Then: a page says so, with its 404 and the way back to the circle.
    assert answer is not None and answer.status == 404
    assert answer.headers["content-type"].startswith("text/html")
    expect(page.locator("h1")).to_have_text("Not found")
    expect(page.locator(".refusal")).to_contain_text("There is no page at this address")
    shot(page, "31-not-found-390")
    page.get_by_role("link", name="Back to the circle").click()
    expect(page).to_have_url(circle.url + "/circle")
    assert page_width(page) <= PHONE["width"]
