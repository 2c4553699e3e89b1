"""Every page reads well anywhere: each page the members' pages have, filled from a world with
one of everything (tests/web/one_of_everything.py), visited in Chromium at 390x844 (a phone)
and 1280x800 (a desktop).

The pages visited are every page of node.http.web's `page_table()` and every GET route of the
modules in `PAGES`, so that a new page is visited without editing this test, as a signed-in
full member (Ada, the secretary); and the pages for those not signed in (the overview, the
sign-in form, a sign-in link's form, unsubscribing, an unknown address's error page), signed
out. A page whose path has a parameter the world cannot fill fails, naming it.

On each: it answers below 400 (the unknown address its 404 page), it does not scroll sideways
(the document no wider than the window), the first thing the keyboard reaches is the link that
skips to the content, axe-core (from the axe-playwright-python wheel, injected through
Playwright, which the pages' Content-Security-Policy does not stop) finds no serious or critical
violation (nor any of heading order, landmarks, a main and a first heading), and a screenshot is
kept as tests/artifacts/web/page-<name>-<width>.png.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.conftest import UNDER_CI
from tests.web.conftest import ARTIFACTS
from tests.web.one_of_everything import (
    SIGNED_OUT,
    UNKNOWN,
    World,
    filled,
    member_pages,
    one_of_everything,
)

try:
    from axe_playwright_python.sync_playwright import Axe
    from playwright.sync_api import Browser, Page
except ImportError:  # pragma: no cover - without Playwright, skip (fail under CI=true)
    if UNDER_CI:
        raise
    pytest.skip("Playwright or axe-playwright-python is not installed", allow_module_level=True)

WIDTHS = {390: 844, 1280: 800}
VISITOR = "Ada"  # a full participant, the secretary: the forms she may use are shown too
SERIOUS = ("serious", "critical")
# Rules held whatever axe's impact for them: headings in order, everything in a landmark, one
# main, and a first heading.
ALWAYS = ("heading-order", "region", "landmark-one-main", "page-has-heading-one")


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    with one_of_everything(tmp_path_factory.mktemp("every-page")) as built:
        yield built


@pytest.fixture(scope="module")
def axe() -> Any:
    return Axe()


@pytest.fixture(scope="module")
def signed_in(browser: Browser, world: World) -> Iterator[dict[int, Page]]:
    """A page for each width, in one browser context signed in as the visitor."""
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    page = context.new_page()
    page.set_default_timeout(15_000)
    page.goto(world.url + "/sign-in")
    page.get_by_label("Personal token").fill(world.tokens[VISITOR])
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(world.url + "/home")
    pages = {}
    for width, height in WIDTHS.items():
        pages[width] = context.new_page()
        pages[width].set_viewport_size({"width": width, "height": height})
        pages[width].set_default_timeout(15_000)
    yield pages
    context.close()


@pytest.fixture(scope="module")
def signed_out(browser: Browser) -> Iterator[dict[int, Page]]:
    contexts = {
        width: browser.new_context(viewport={"width": width, "height": height})
        for width, height in WIDTHS.items()
    }
    pages = {width: context.new_page() for width, context in contexts.items()}
    yield pages
    for context in contexts.values():
        context.close()


def wider_than_window(page: Page) -> list[str]:
    """The elements that reach past the window's right edge, widest first (a few)."""
    found: list[str] = page.evaluate(
        """() => {
          const edge = window.innerWidth;
          return [...document.querySelectorAll('body *')]
            .map(e => [e, e.getBoundingClientRect().right])
            .filter(([e, right]) => right > edge + 0.5)
            .sort((a, b) => b[1] - a[1]).slice(0, 4)
            .map(([e, right]) => e.tagName.toLowerCase() + (e.id ? '#' + e.id : '')
              + (e.className && typeof e.className === 'string'
                 ? '.' + e.className.trim().split(/\\s+/).join('.') : '')
              + ' to ' + Math.round(right) + 'px');
        }"""
    )
    return found


def check(page: Page, axe: Any, url: str, shot: str, width: int, status: int) -> list[str]:
    """What is wrong with the page at this width, if anything; its screenshot kept."""
    answer = page.goto(url)
    problems = []
    got = answer.status if answer is not None else 0
    if got != status:
        problems.append(f"answered {got}, not {status}")
    scrolled = page.evaluate("document.documentElement.scrollWidth")
    window = page.evaluate("window.innerWidth")
    if scrolled > window:
        problems.append(
            f"scrolls sideways: {scrolled}px in a {window}px window "
            f"({'; '.join(wider_than_window(page))})"
        )
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"page-{shot}-{width}.png"), full_page=True)
    page.keyboard.press("Tab")
    first = page.evaluate("document.activeElement && document.activeElement.outerHTML")
    if 'href="#main"' not in (first or ""):
        problems.append(f"the first thing the keyboard reaches is not the skip link: {first}")
    for violation in axe.run(page).response["violations"]:
        if violation["impact"] in SERIOUS or violation["id"] in ALWAYS:
            targets = [", ".join(map(str, node["target"])) for node in violation["nodes"]]
            problems.append(
                f"axe {violation['id']} ({violation['impact']}): {violation['help']}: "
                f"{' | '.join(targets[:4])}"
            )
    return [f"{url.split('/', 3)[-1] or '/'} at {width}px: {problem}" for problem in problems]


@pytest.mark.parametrize("template", member_pages())
def test_a_members_page_reads_well_at_any_width(
    template: str, world: World, signed_in: dict[int, Page], axe: Any
) -> None:
    # Given: the world with one of everything, and Ada signed in, on a phone and a desktop.
    # When: she opens the page, for each value the world has for its parameters.
    # Then: each answers, is no wider than the window, and axe finds nothing serious.
    problems = [
        problem
        for path, shot in filled(template, world)
        for width, page in signed_in.items()
        for problem in check(page, axe, world.url + path, shot, width, 200)
    ]
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("template", SIGNED_OUT)
def test_a_page_for_anyone_reads_well_at_any_width(
    template: str, world: World, signed_out: dict[int, Page], axe: Any
) -> None:
    # Given: someone not signed in, on a phone and a desktop.
    # When: they open a page anyone may (an unknown address gets its 404 page).
    # Then: each answers, is no wider than the window, and axe finds nothing serious.
    status = 404 if template == UNKNOWN else 200
    problems = [
        problem
        for path, shot in filled(template, world)
        for width, page in signed_out.items()
        for problem in check(page, axe, world.url + path, f"out-{shot}", width, status)
    ]
    assert not problems, "\n".join(problems)


def test_the_pages_forbid_script_while_axe_runs(world: World, signed_in: dict[int, Page]) -> None:
    # Given: a page, served with a Content-Security-Policy that allows no script.
    page = signed_in[1280]
    answer = page.goto(world.url + "/circle")
    assert answer is not None
    assert "default-src 'none'" in answer.headers["content-security-policy"]
    # When: the page itself tries to run a script it was given, as an inline one would.
    ran = page.evaluate(
        """() => new Promise(done => {
          document.addEventListener('securitypolicyviolation', () => done('refused'));
          const script = document.createElement('script');
          script.textContent = 'window.ranInline = true';
          document.body.appendChild(script);
          setTimeout(() => done(window.ranInline ? 'ran' : 'refused'), 500);
        })"""
    )
    # Then: the policy refused it: axe runs through Playwright's own channel, not the page's.
    assert ran == "refused"


def test_the_world_fills_every_name_a_page_may_carry(world: World) -> None:
    # The names a page's path may carry (docs/pages.md), and a sign-in link's token, all
    # have values in the world.
    expected = {
        "person_id",
        "hat_id",
        "selection_id",
        "proposal_id",
        "decision_id",
        "plan_id",
        "meeting_id",
        "appeal_id",
        "request_id",
        "other",
        "circle",
        "token",
    }
    assert expected <= set(world.values)


def test_a_page_the_world_cannot_fill_fails_naming_it(world: World) -> None:
    # Given: a page whose path carries a name the world has no value for.
    # When/Then: filling it fails the test, naming what is missing and where to add it.
    with pytest.raises(pytest.fail.Exception, match="no value for garden_bed_id"):
        filled("/garden-beds/{garden_bed_id}", world)


def test_a_table_is_a_stack_of_cards_on_a_phone(world: World, signed_in: dict[int, Page]) -> None:
    # Given: the proposals page, a table with a column per detail of each proposal.
    label = """() => {
      const cell = document.querySelector('#proposals td[data-label="Stage"]');
      return [getComputedStyle(cell).display, getComputedStyle(cell, '::before').content];
    }"""
    # When: it is read on a phone, each row is a card, each cell under its column's name...
    signed_in[390].goto(world.url + "/proposals")
    assert signed_in[390].evaluate(label) == ["block", '"Stage"']
    # ...and on a desktop it is a table.
    signed_in[1280].goto(world.url + "/proposals")
    assert signed_in[1280].evaluate(label) == ["table-cell", "none"]
