"""What the browser tests share: Playwright's names (importing this module skips the test module
when Playwright is missing, and fails it under CI=true), the `Shot` fixture's type, signing in
in a browser of one's own, and posting a form by its button."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from tests.conftest import UNDER_CI
from tests.web.conftest import Circle

try:
    from playwright.sync_api import Browser, ConsoleMessage, Page, ViewportSize, expect
except ImportError:  # pragma: no cover - without Playwright, skip (fail under CI=true)
    if UNDER_CI:
        raise
    pytest.skip("Playwright for Python is not installed", allow_module_level=True)

__all__ = [
    "Browser",
    "ConsoleMessage",
    "Page",
    "Shot",
    "ViewportSize",
    "expect",
    "post",
    "signed_in_page",
    "signed_in_with_token",
    "stage_of",
]

Shot = Callable[[Page, str], None]


def signed_in_with_token(
    browser: Browser,
    url: str,
    token: str,
    path: str = "/sign-in",
    viewport: ViewportSize | None = None,
) -> Page:
    """A browser of its own (its own cookies) signed in with `token` on the way to `path`: the
    page asks for the token there, and after signing in shows `path` again (from /sign-in
    itself, the member's home)."""
    page = browser.new_context(viewport=viewport).new_page()
    page.set_default_timeout(15_000)
    page.goto(url + path)
    page.get_by_label("Personal token").fill(token)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(url + ("/home" if path == "/sign-in" else path))
    return page


def signed_in_page(browser: Browser, circle: Circle, name: str, path: str = "/sign-in") -> Page:
    """`name` of the served circle (Ann, Ben, Cat or Dan) signed in, in a browser of their own,
    on the way to `path`; the header names them."""
    page = signed_in_with_token(browser, circle.url, circle.tokens[name], path)
    expect(page.locator("header .who")).to_contain_text(f"Signed in as {name}")
    return page


def post(page: Page, button: str) -> int:
    """Click a form's button; returns the status of the POST's response."""
    with page.expect_response(lambda r: r.request.method == "POST") as posted:
        page.get_by_role("button", name=button, exact=True).click()
    page.wait_for_load_state()
    return posted.value.status


def stage_of(page: Page) -> Any:
    return expect(page.locator("#stage"))
