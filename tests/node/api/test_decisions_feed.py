"""The Atom feed of the circle's public decisions, read by anyone at /decisions.atom.

Cast: the kitchen circle of tests/node/api/world.py (Ada secretary, Ben facilitator, Cleo
full), served at https://kitchen.example/, whose rules name Europe/Paris as its time zone.
The clock starts at 2026-03-01 09:00 UTC.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient

from domain.values import Purpose
from node.demo.scripted import consent_to
from node.http.server import ServerOptions, create_app
from node.http.web import decisions_feed
from node.http.web.rendering import SECURITY_HEADERS
from tests.node.api.world import Circle

A = "{http://www.w3.org/2005/Atom}"
BASE = "https://kitchen.example"


def _read(client: TestClient) -> ET.Element:
    response = client.get("/decisions.atom")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/atom+xml; charset=utf-8"
    for name, value in SECURITY_HEADERS.items():
        assert response.headers[name] == value
    return ET.fromstring(response.content)


def _offset_time(text: str | None) -> datetime:
    """An RFC 3339 time with its offset (Atom's date construct)."""
    assert text is not None and re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d\d:\d\d", text)
    return datetime.fromisoformat(text)


def _decisions(circle: Circle) -> tuple[str, str]:
    """An everyday decision, then a policy by consent; returns their ids."""
    node, ids = circle.node, circle.ids
    everyday = node.decisions.take_everyday_decision(
        ids["ben"], "facilitator", "meetings", "Tuesdays", "We meet on <Tuesdays> & Fridays"
    )
    consent_to(node, Purpose.ADOPT_POLICY, {}, "Two cooks on Sundays", title="Sunday cover")
    (policy,) = [d for d in node.records.list_decisions() if d.title == "Sunday cover"]
    return everyday, str(policy.id)


@pytest.fixture
def public(circle: Circle) -> TestClient:
    """The node served at its public URL (given with a trailing slash)."""
    app = create_app(circle.node, None, ServerOptions(public_url=f"{BASE}/"))
    return TestClient(app)


def test_anyone_reads_the_circles_decisions_as_atom(circle: Circle, public: TestClient) -> None:
    # Given: a circle in Paris with an everyday decision and a policy.
    consent_to(circle.node, Purpose.CHANGE_RULES, {"time_zone": "Europe/Paris"})
    everyday, policy = _decisions(circle)

    # When: someone who is not signed in reads the feed.
    feed = _read(public)

    # Then: it is an Atom feed with its links from the node's public URL, and both decisions,
    # the most recently changed first.
    assert feed.tag == f"{A}feed"
    assert feed.findtext(f"{A}title") == "Kitchen: decisions"
    links = {link.get("rel"): link.get("href") for link in feed.findall(f"{A}link")}
    assert links == {"self": f"{BASE}/decisions.atom", "alternate": f"{BASE}/decisions"}
    entries = feed.findall(f"{A}entry")
    assert [e.findtext(f"{A}id") for e in entries] == [f"urn:uuid:{policy}", f"urn:uuid:{everyday}"]
    first = entries[0]
    assert first.findtext(f"{A}title") == "Sunday cover"
    (link,) = first.findall(f"{A}link")
    assert link.get("href") == f"{BASE}/decisions#decision-{policy}"
    assert {c.get("term") for c in first.findall(f"{A}category")} == {"policy", "in_force"}
    # Times carry the circle's offset (Paris's, at the moment of the change).
    updated = _offset_time(first.findtext(f"{A}updated"))
    assert updated.utcoffset() == updated.astimezone(ZoneInfo("Europe/Paris")).utcoffset()
    assert updated.utcoffset() != updated.astimezone(ZoneInfo("UTC")).utcoffset()
    assert _offset_time(feed.findtext(f"{A}updated")) == updated
    # The text is escaped by the XML writer, and read back whole.
    content = entries[1].find(f"{A}content")
    assert content is not None and content.get("type") == "text"
    assert (content.text or "").startswith("We meet on <Tuesdays> & Fridays")

    # When: it is read again.
    again = _read(public)
    # Then: the same feed id and entry ids.
    assert again.findtext(f"{A}id") == feed.findtext(f"{A}id")
    assert [e.findtext(f"{A}id") for e in again.findall(f"{A}entry")] == [
        e.findtext(f"{A}id") for e in entries
    ]


def test_a_changed_decision_comes_first_with_its_new_status(
    circle: Circle, public: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given: two decisions; the everyday one is revoked by a consented challenge.
    everyday, policy = _decisions(circle)
    challenge = circle.node.decisions.challenge_decision(
        circle.ids["cleo"], everyday, "Not on Tuesdays", revoke=True
    )
    node = circle.node
    node.proposals.present(circle.ids["cleo"], challenge)
    node.proposals.open_reactions(circle.ids["ben"], challenge)
    node.consent.open_consent_round(circle.ids["ben"], challenge)
    for who in ("ada", "ben", "cleo"):
        node.consent.consent(circle.ids[who], challenge)
    node.consent.close_consent_round(circle.ids["ben"], challenge)

    # When: the feed is read.
    entries = _read(public).findall(f"{A}entry")

    # Then: the revoked decision comes first, saying so, then the policy.
    assert [e.findtext(f"{A}id") for e in entries] == [
        f"urn:uuid:{everyday}",
        f"urn:uuid:{policy}",
    ]
    assert "revoked" in {c.get("term") for c in entries[0].findall(f"{A}category")}

    # When: the feed holds the latest one only.
    monkeypatch.setattr(decisions_feed, "LATEST", 1)
    # Then: only the latest changed is in it.
    assert [e.findtext(f"{A}id") for e in _read(public).findall(f"{A}entry")] == [
        f"urn:uuid:{everyday}"
    ]


def test_the_decisions_page_links_to_the_feed(circle: Circle) -> None:
    browser = TestClient(circle.client.app, follow_redirects=False)
    page = browser.get("/sign-in")
    csrf = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert csrf is not None
    browser.post("/sign-in", data={"csrf": csrf.group(1), "token": circle.tokens["cleo"]})
    decisions = browser.get("/decisions")
    assert decisions.status_code == 200
    assert (
        '<link rel="alternate" type="application/atom+xml" title="Kitchen: decisions" '
        'href="/decisions.atom">' in decisions.text
    )


def test_control_characters_in_a_decision_leave_the_feed_readable(
    circle: Circle, public: TestClient
) -> None:
    # Given: a policy whose title and text hold control characters (pasted from elsewhere).
    consent_to(
        circle.node, Purpose.ADOPT_POLICY, {}, "Two cooks\x02 on Sundays", title="Sunday\x01 cover"
    )

    # When: someone reads the feed, then it is well-formed XML, without those characters.
    feed = _read(public)
    titles = [entry.findtext(f"{A}title") for entry in feed.iter(f"{A}entry")]
    assert titles == ["Sunday cover"]
    content = next(feed.iter(f"{A}entry")).findtext(f"{A}content") or ""
    assert "Two cooks on Sundays" in content
