"""A circle's pages, API and docs under a co-op host's prefix (issue 16), over HTTP without a
browser: the world with one of everything (tests/web/one_of_everything.py) with its co-op
mounted at `/c/a` and its garden at `/c/b` on one site.

Every page a member may open, and every page for anyone, names only addresses under its own
circle's prefix, and every one of them it links to answers (a link the prefix was not put
before would 404: this is what catches one); redirects, sign-in's `next`, the calendar link,
the docs and the body limits keep the prefix too."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from node.http.web.forms import MAX_FORM_BYTES
from tests.web.mounting import (
    addresses,
    circle_app,
    csrf_of,
    host_app,
    same_site,
    signed_in_client,
)
from tests.web.mounting import unprefixed as outside
from tests.web.one_of_everything import (
    SIGNED_OUT,
    UNKNOWN,
    World,
    filled,
    member_pages,
    one_of_everything,
)

SITE = "http://testserver"
VISITOR = "Ada"


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    with one_of_everything(tmp_path_factory.mktemp("under-a-prefix")) as built:
        yield built


@pytest.fixture(scope="module")
def site(world: World) -> TestClient:
    """The co-op at /c/a and the garden at /c/b (no `with`: their delivery does not run)."""
    apps = {"a": circle_app(world.node, SITE, "a"), "b": circle_app(world.garden, SITE, "b")}
    return TestClient(host_app(apps), base_url=SITE)


@pytest.fixture(scope="module")
def ada(world: World, site: TestClient) -> TestClient:
    client = TestClient(site.app, base_url=SITE)
    signed_in_client(client, "/c/a", world.tokens[VISITOR])
    return client


def walk(client: TestClient, paths: list[str], status: int = 200) -> list[str]:
    """Open each page under /c/a, and every address on the site it names: what is wrong."""
    problems: list[str] = []
    followed: set[str] = set()
    for path in paths:
        page = client.get("/c/a" + path)  # /sign-in, signed in, leads home
        problems += [
            f"{path} redirects to {hop.headers['location']}"
            for hop in page.history
            if not hop.headers["location"].startswith("/c/a/")
        ]
        if page.status_code != status:
            problems.append(f"{path} answered {page.status_code}, not {status}")
            continue
        problems += [f"{path}: {where} is not under /c/a/" for where in outside(page.text, "/c/a/")]
        for _, address in _addresses(page.text):
            target = same_site(address, SITE)
            if target is None or target in followed or not target.startswith("/c/a/"):
                continue
            followed.add(target)
            answer = client.get(target, follow_redirects=False)
            if answer.status_code == 404 or answer.status_code >= 500:
                problems.append(f"{path} links to {target}, which answers {answer.status_code}")
    assert followed, "no links were followed"
    return problems


def _addresses(html: str) -> list[tuple[str, str]]:
    """The page's links and assets (not its forms' actions: those take posts)."""
    return [(where, address) for where, address in addresses(html) if where != "form action"]


def test_every_members_page_links_only_under_its_prefix_and_every_link_answers(
    world: World, ada: TestClient
) -> None:
    # Given: the co-op at /c/a, Ada signed in there.
    # When: she opens every page a member may, and every address on the site each one names.
    paths = [path for template in member_pages() for path, _ in filled(template, world)]
    problems = walk(ada, paths)
    # Then: every link, form and asset is under /c/a/, and none of the links is missing.
    assert not problems, "\n".join(problems)


def test_every_page_for_anyone_links_only_under_its_prefix(world: World, site: TestClient) -> None:
    # Given: someone not signed in.
    visitor = TestClient(site.app, base_url=SITE)
    for template in SIGNED_OUT:
        status = 404 if template == UNKNOWN else 200
        for path, _ in filled(template, world):
            # When: they open a page anyone may (an unknown address its 404 page).
            page = visitor.get("/c/a" + path, headers={"Accept": "text/html"})
            # Then: it answers, and everything it names is under /c/a/.
            assert page.status_code == status, path
            assert not outside(page.text, "/c/a/"), (path, outside(page.text, "/c/a/"))


def test_redirects_and_sign_in_stay_under_the_prefix(world: World, site: TestClient) -> None:
    visitor = TestClient(site.app, base_url=SITE)
    # A member's page, signed out: to this circle's sign-in, `next` the page below the prefix.
    sent = visitor.get("/c/a/people", follow_redirects=False)
    assert sent.status_code == 303
    assert sent.headers["location"] == "/c/a/sign-in?next=/people"
    # Signing in leads there, under the prefix.
    signed = signed_in_client(visitor, "/c/a", world.tokens["Ben"], next="/people")
    assert signed.headers["location"] == "/c/a/people"
    # A form's post (revoking the calendar link) leads back to its page under the prefix.
    account = visitor.get("/c/a/account")
    visitor.post("/c/a/account/calendar", data={"csrf": csrf_of(account.text)})
    revoked = visitor.post(
        "/c/a/account/calendar/revoke",
        data={"csrf": csrf_of(account.text)},
        follow_redirects=False,
    )
    assert revoked.status_code == 303 and revoked.headers["location"] == "/c/a/account"
    # Signing out leads to this circle's sign-in form.
    out = visitor.post(
        "/c/a/sign-out", data={"csrf": csrf_of(account.text)}, follow_redirects=False
    )
    assert out.status_code == 303 and out.headers["location"] == "/c/a/sign-in"


def test_the_calendar_link_is_the_circles_own_address(world: World, site: TestClient) -> None:
    visitor = TestClient(site.app, base_url=SITE)
    signed_in_client(visitor, "/c/a", world.tokens["Cleo"])
    account = visitor.get("/c/a/account")
    made = visitor.post("/c/a/account/calendar", data={"csrf": csrf_of(account.text)})
    assert made.status_code == 200
    # Shown once, to copy: the circle's public URL, its prefix included.
    links = re.findall(r"http://testserver/c/a/calendar/[^\"<\s]+\.ics", made.text)
    assert links, made.text
    feed = visitor.get(links[0])
    assert feed.status_code == 200 and feed.text.startswith("BEGIN:VCALENDAR")


def test_the_api_and_its_docs_answer_under_the_prefix(world: World, site: TestClient) -> None:
    bearer = {"Authorization": f"Bearer {world.tokens[VISITOR]}"}
    assert site.get("/c/a/api/circle", headers=bearer).status_code == 200
    assert site.get("/c/b/api/circle", headers=bearer).status_code == 401  # another circle
    docs = site.get("/c/a/docs")
    assert docs.status_code == 200
    assert "script-src 'self'" in docs.headers["content-security-policy"]
    assert 'data-spec="/c/a/openapi.json"' in docs.text
    assert not outside(docs.text, "/c/a/")
    for _, address in _addresses(docs.text):
        assert site.get(address).status_code == 200, address
    spec = site.get("/c/a/openapi.json").json()
    assert spec["servers"][0]["url"] == "/c/a"  # "Try it out" calls this circle's API


def test_the_pages_body_limit_holds_under_the_prefix(site: TestClient) -> None:
    # A form over the pages' limit gets the pages' refusal (a page), as at the root.
    refused = site.post(
        "/c/a/sign-in",
        content=b"token=" + b"x" * (MAX_FORM_BYTES + 1),
        headers={"Content-Type": "application/x-www-form-urlencoded", "Accept": "text/html"},
    )
    assert refused.status_code == 413
    assert refused.headers["content-type"].startswith("text/html")
    assert not outside(refused.text, "/c/a/")
