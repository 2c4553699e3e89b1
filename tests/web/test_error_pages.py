"""Errors and unknown addresses in a browser are pages, not JSON; programs, and every request to
the APIs, still get problem details (over HTTP, no browser: the `Accept` a browser sends is
what tells them apart).

Cast: the kitchen circle of tests/node/api/world.py (Ada secretary, Ben facilitator, Cleo full,
Eli learning, Gus a guest).
"""

from __future__ import annotations

import html

import pytest
from fastapi.testclient import TestClient
from starlette.requests import Request

from domain.errors import WrongStage
from node.http.web.error_pages import wants_page
from tests.node.api.world import Circle, assert_problem
from tests.web.test_sessions import Browserless

# What Chromium sends when it follows a link.
BROWSER = (
    "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,"
    "image/apng,*/*;q=0.8,application/signed-exchange;v=b3;q=0.7"
)


def browser(c: Circle, who: str | None = None) -> Browserless:
    """A client that sends what a browser sends, signed in as `who` if given."""
    visitor = Browserless(c.client.app)  # type: ignore[arg-type]
    visitor.client.headers["accept"] = BROWSER
    if who is not None:
        assert visitor.sign_in(c.tokens[who]).status_code == 303
    return visitor


def assert_page(answer: object, status: int) -> str:
    """An HTML page with this status and the pages' security headers; returns its text."""
    assert answer.status_code == status, answer.text  # type: ignore[attr-defined]
    headers = answer.headers  # type: ignore[attr-defined]
    assert headers["content-type"].startswith("text/html")
    assert headers["content-security-policy"].startswith("default-src 'none'")
    assert headers["x-frame-options"] == "DENY"
    text: str = answer.text  # type: ignore[attr-defined]
    assert "Traceback" not in text and '"reason"' not in text
    return text


def test_an_unknown_address_is_a_page_with_a_way_home(kitchen_circle: Circle) -> None:
    c = kitchen_circle
    # Given: someone not signed in, and Ada, signed in, each in a browser.
    # When: they open an address the node does not have.
    anyone = assert_page(browser(c).client.get("/ledger"), 404)
    ada = assert_page(browser(c, "ada").client.get("/no/such/page?x=1"), 404)
    # Then: each reads that there is no such page, and how to go on: the visitor to the
    # overview or to sign in, Ada back to the circle, with the pages' nav around it.
    for page in (anyone, ada):
        assert "<h1>Not found</h1>" in page
        assert "There is no page at this address" in page
    assert 'href="/"' in anyone and 'href="/sign-in"' in anyone
    assert "Back to the circle" in ada and "Signed in as <strong>Ada</strong>" in ada
    assert 'href="/proposals"' in ada


def test_programs_and_the_apis_still_get_problem_details(kitchen_circle: Circle) -> None:
    c = kitchen_circle
    # Given: a program that accepts anything, or JSON, asking for an unknown address.
    for accept in ("*/*", "application/json", "application/problem+json, text/html"):
        answer = c.client.get("/ledger", headers={"accept": accept})
        # Then: the answer is problem details, as before.
        assert_problem(answer, 404, "not_found")
    # Given: a browser, asking the member API, the federation API or the operations' paths.
    visitor = browser(c, "ada")
    assert_problem(visitor.client.get("/api/no-such-route"), 404, "not_found")
    assert_problem(visitor.client.get("/federation/no-such-route"), 404, "not_found")
    assert_problem(visitor.client.post("/healthz"), 405, "method_not_allowed")
    # Then: problem details too; and the API's own refusals keep their sentences.
    refused = c.client.get("/api/proposals/nope", headers={**c.as_("ada"), "accept": BROWSER})
    assert refused.status_code == 404
    assert refused.headers["content-type"] == "application/problem+json"
    assert c.client.get("/api/circle", headers={"accept": BROWSER}).status_code == 401


def test_a_wrong_method_is_a_page_that_keeps_allow(kitchen_circle: Circle) -> None:
    c = kitchen_circle
    pid = c.node.proposals.draft_proposal(c.ids["ben"], "Tea", "Buy tea")
    visitor = browser(c, "ben")
    # When: Ben opens a form's address as a page, and posts to a page that takes no form.
    opened = visitor.client.get(f"/proposals/{pid}/present")
    posted = visitor.client.post("/circle", data={"csrf": visitor.csrf("/circle")})
    # Then: each is a 405 page saying how the address is used, with the methods it allows.
    for answer, allowed in ((opened, "POST"), (posted, "GET")):
        page = assert_page(answer, 405)
        assert "This address cannot be used that way" in page
        assert answer.headers["allow"] == allowed


def test_a_form_without_its_token_is_a_403_page(kitchen_circle: Circle) -> None:
    c = kitchen_circle
    pid = c.node.proposals.draft_proposal(c.ids["ben"], "Tea", "Buy tea")
    visitor = browser(c, "ben")
    # When: a form arrives without this session's security token (from another site).
    answer = visitor.client.post(f"/proposals/{pid}/present", data={"csrf": "forged"})
    # Then: a 403 page says so, and nothing changed.
    page = assert_page(answer, 403)
    assert "This form cannot be accepted" in page and "security token" in page
    assert c.node.records.get_proposal(pid).stage == "draft"


def test_a_refused_form_shows_the_domain_s_sentence_with_its_status(
    kitchen_circle: Circle,
) -> None:
    c = kitchen_circle
    node, ben = c.node, c.ids["ben"]
    pid = node.proposals.draft_proposal(ben, "Tea", "Buy tea")
    # Given: what the circle's rules say when a round that is not open is closed.
    with pytest.raises(WrongStage) as wrong_stage:
        node.consent.close_consent_round(ben, pid)
    visitor = browser(c, "ben")
    csrf = visitor.csrf(f"/proposals/{pid}")
    # When: Ben, the facilitator, sends the form that closes the round of a mere draft.
    closed = visitor.client.post(f"/proposals/{pid}/close-round", data={"csrf": csrf})
    # Then: the proposal's page again, 409, with the rules' own sentence.
    page = assert_page(closed, 409)
    assert html.escape(str(wrong_stage.value)) in page
    assert "<h1>Tea</h1>" in page
    # When: he drafts a proposal without its text.
    drafted = visitor.client.post("/proposals", data={"csrf": csrf, "title": "Coffee", "text": ""})
    # Then: the draft form again, 422, with the sentence and what he typed.
    page = assert_page(drafted, 422)
    assert "A proposal needs its text" in page and 'value="Coffee"' in page


def test_an_error_outside_the_pages_routes_is_a_page_for_a_browser(
    kitchen_circle: Circle, monkeypatch: pytest.MonkeyPatch
) -> None:
    c = kitchen_circle

    def broken() -> list[object]:
        raise RuntimeError("the disk is on fire")

    # Given: the overview (an operation of the spec, not one of the pages' routes) fails.
    monkeypatch.setattr(c.node.relations, "relationships", broken)
    client = TestClient(c.client.app, raise_server_exceptions=False)
    # When: a browser and a program open it.
    page = assert_page(client.get("/", headers={"accept": BROWSER}), 500)
    program = client.get("/")
    # Then: the browser reads a page without the error's words; the program, a problem.
    assert "The node could not do that." in page and "on fire" not in page
    assert_problem(program, 500, "internal_error")


@pytest.mark.parametrize(
    ("path", "accept", "page"),
    [
        ("/ledger", BROWSER, True),
        ("/ledger", "text/html", True),
        ("/ledger", "text/*", True),
        ("/ledger", "*/*", False),
        ("/ledger", "", False),
        ("/ledger", "application/json", False),
        ("/ledger", "text/html;q=0.5, application/json", False),
        ("/ledger", "text/html, application/json;q=0.9", True),
        ("/ledger", "text/html;q=0", False),
        ("/api/circle", BROWSER, False),
        ("/federation/feed", BROWSER, False),
        ("/docs/assets/x.js", BROWSER, False),
        ("/openapi.json", BROWSER, False),
        ("/metrics", BROWSER, False),
        ("/apiary", BROWSER, True),
    ],
)
def test_which_requests_are_a_browser_s(path: str, accept: str, page: bool) -> None:
    headers = [(b"accept", accept.encode())] if accept else []
    request = Request({"type": "http", "method": "GET", "path": path, "headers": headers})
    assert wants_page(request) is page
