"""Sessions, CSRF, sign-in limits and the pages' refusals, over HTTP without a browser."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from node.app.node import CircleNode
from node.app.persistence import open_node
from node.demo.scripted import make_active
from node.http.server import ServerOptions, create_app
from node.http.web.sessions import IDLE, LIFETIME, SIGN_IN_LIFETIME, Session, SessionStore
from node.settings import Settings


class Tick:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def _same(found: Session | None, opened: Session) -> bool:
    """The session read back from the store is the one opened (a copy, with its CSRF token)."""
    return found is not None and (found.id, found.person, found.csrf) == (
        opened.id,
        opened.person,
        opened.csrf,
    )


def test_sessions_end_when_idle_or_old_and_when_closed() -> None:
    tick = Tick()
    store = SessionStore(clock=tick)
    signed_in = store.open("p1", "t1")
    form_only = store.open()
    assert _same(store.get(signed_in.id), signed_in)
    assert signed_in.csrf_matches(signed_in.csrf)
    assert not signed_in.csrf_matches("") and not signed_in.csrf_matches(form_only.csrf)
    tick.now += SIGN_IN_LIFETIME + 1
    assert store.get(form_only.id) is None  # a sign-in form's session is short-lived
    assert _same(store.get(signed_in.id), signed_in)
    tick.now += IDLE + 1
    assert store.get(signed_in.id) is None  # idle too long
    again = store.open("p1", "t1")
    for _ in range(int(LIFETIME // IDLE) + 2):
        tick.now += IDLE - 1
        store.get(again.id)
    assert store.get(again.id) is None  # too old, however busy
    kept = store.open("p1", "t1")
    store.close(kept.id)
    assert store.get(kept.id) is None
    assert store.get(None) is None and store.get("x" * 500) is None


def test_a_full_store_forgets_sign_in_forms_first() -> None:
    store = SessionStore(clock=Tick(), max_sessions=10)
    members = [store.open(f"p{i}", "t") for i in range(5)]
    for _ in range(10):
        store.open()
    assert len(store) <= 10
    assert all(_same(store.get(s.id), s) for s in members)


class Browserless:
    """A client that signs in through the form, as a browser would."""

    def __init__(self, app: FastAPI, base_url: str = "http://testserver") -> None:
        self.client = TestClient(app, base_url=base_url)

    def csrf(self, path: str) -> str:
        page = self.client.get(path)
        found = re.search(r'name="csrf" value="([^"]+)"', page.text)
        assert found, page.text
        return found.group(1)

    def sign_in(self, token: str) -> httpx.Response:
        return self.client.post(
            "/sign-in",
            data={"csrf": self.csrf("/sign-in"), "token": token, "next": "/circle"},
            follow_redirects=False,
        )


Served = tuple[CircleNode, FastAPI, dict[str, str]]


@pytest.fixture
def served(tmp_path: Path) -> Iterator[Served]:
    node = open_node(Settings(data_dir=tmp_path / "node"))
    ann = node.circle.found_circle(name="Kitchen", aim="Food", domain="Kitchen", founder_name="Ann")
    ben = node.people.add_founding_member(ann, "Ben <i>Baker</i>")
    make_active(node)
    people = {"ann": ann, "ben": ben}
    app = create_app(node, None, ServerOptions(public_url="http://testserver"))
    yield node, app, people
    node.close()


def test_sign_in_sets_a_safe_cookie_and_attempts_are_limited(served: Served) -> None:
    node, app, people = served
    _, token = node.tokens.issue_token(people["ann"])
    client = Browserless(app, "https://testserver")
    signed = client.sign_in(token)
    assert signed.status_code == 303 and signed.headers["location"] == "/circle"
    cookie = signed.headers["set-cookie"]
    for flag in ("HttpOnly", "SameSite=lax", "Path=/", "Secure"):
        assert flag in cookie
    assert token not in cookie
    # Attempts from one address are limited (10 at once, that one included): wrong tokens,
    # then even the right one.
    other = Browserless(app)
    statuses = [other.sign_in("cn_wrong").status_code for _ in range(9)]
    assert statuses == [401] * 9
    limited = other.sign_in(token)
    assert limited.status_code == 429
    assert int(limited.headers["retry-after"]) >= 1
    assert "Too many sign-in attempts" in limited.text


def test_a_revoked_token_or_leaving_ends_the_session(served: Served) -> None:
    node, app, people = served
    token_id, token = node.tokens.issue_token(people["ben"])
    ben = Browserless(app)
    assert ben.sign_in(token).status_code == 303
    assert ben.client.get("/circle").status_code == 200
    node.tokens.revoke_token(token_id)
    gone = ben.client.get("/circle", follow_redirects=False)
    assert gone.status_code == 303 and gone.headers["location"] == "/sign-in?next=/circle"
    _, token = node.tokens.issue_token(people["ben"])
    assert ben.sign_in(token).status_code == 303
    node.people.leave(people["ben"], people["ben"], note="Thank you")
    assert ben.client.get("/circle", follow_redirects=False).status_code == 303


def test_everything_shown_is_escaped_and_forms_are_refused_readably(served: Served) -> None:
    node, app, people = served
    _, token = node.tokens.issue_token(people["ann"])
    ann = Browserless(app)
    ann.sign_in(token)
    csrf = ann.csrf("/proposals/new")
    drafted = ann.client.post(
        "/proposals",
        data={"csrf": csrf, "title": "<script>alert(1)</script>", "text": "a & b"},
    )
    assert drafted.status_code == 200
    assert "<script>alert(1)</script>" not in drafted.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in drafted.text
    people_page = ann.client.get("/circle").text
    assert "Ben &lt;i&gt;Baker&lt;/i&gt;" in people_page and "<i>Baker" not in people_page
    # A refusal by the circle's rules keeps what was typed and says why, with a 4xx.
    refused = ann.client.post("/proposals", data={"csrf": csrf, "title": "Untitled?", "text": "  "})
    assert refused.status_code == 422
    assert "A proposal needs its text" in refused.text
    assert 'value="Untitled?"' in refused.text
    bad_date = ann.client.post(
        "/proposals", data={"csrf": csrf, "title": "T", "text": "x", "review_date": "soon"}
    )
    assert bad_date.status_code == 422 and "is not a date" in bad_date.text
    # Unknown records and steps are 404 pages, not problem documents.
    missing = ann.client.get("/proposals/00000000-0000-0000-0000-000000000000")
    assert missing.status_code == 404 and missing.headers["content-type"].startswith("text/html")
    (proposal,) = [p for p in node.records.list_proposals() if p.purpose != "change_aim"]
    step = ann.client.post(f"/proposals/{proposal.id}/explode", data={"csrf": csrf})
    assert step.status_code == 404 and "no step called" in step.text
    # Too large a form, a post of something else, or none from a page at all.
    huge = ann.client.post("/proposals", data={"csrf": csrf, "text": "x" * 70_000})
    assert huge.status_code == 413
    assert ann.client.post("/proposals", json={"csrf": csrf}).status_code == 403
    assert ann.client.post("/sign-out").status_code == 403
    # Only this site's paths are followed after signing in.
    fresh = Browserless(app)
    _, token = node.tokens.issue_token(people["ben"])
    sent = fresh.client.post(
        "/sign-in",
        data={"csrf": fresh.csrf("/sign-in"), "token": token, "next": "//evil.example/"},
        follow_redirects=False,
    )
    assert sent.headers["location"] == "/home"  # the member's home, not another site


def test_an_error_in_a_page_is_a_page_without_a_traceback(
    served: Served, monkeypatch: pytest.MonkeyPatch
) -> None:
    node, app, people = served
    _, token = node.tokens.issue_token(people["ann"])
    ann = Browserless(app)
    ann.sign_in(token)

    def broken() -> list[object]:
        raise RuntimeError("the disk is on fire")

    monkeypatch.setattr(node.records, "list_decisions", broken)
    page = ann.client.get("/decisions")
    assert page.status_code == 500
    assert "The node could not do that." in page.text
    assert "Traceback" not in page.text and "on fire" not in page.text


def test_pages_need_signing_in_and_a_founded_circle(tmp_path: Path) -> None:
    node = open_node(Settings(data_dir=tmp_path / "empty"))
    try:
        client = TestClient(create_app(node, None, ServerOptions(public_url="http://testserver")))
        for path in ("/circle", "/proposals", "/decisions", "/hats", "/meetings", "/map"):
            answer = client.get(path, follow_redirects=False)
            assert answer.status_code == 303
            assert answer.headers["location"] == f"/sign-in?next={path}"
        form = client.get("/sign-in")
        assert form.status_code == 200 and "Personal token" in form.text
        assert form.headers["content-security-policy"].startswith("default-src 'none'")
    finally:
        node.close()
