"""The logbook's page, over HTTP (no browser): a page, not JSON; newest first, a page at a time;
found by words, kind and days, each kept while paging; times in the circle's zone; a guest reads
no confidential line.

Cast (tests/node/api/world.py's kitchen): Ada the secretary, Ben the facilitator, Cleo a full
participant, Eli a learning participant, Gus a guest."""

from __future__ import annotations

import re
from datetime import timedelta
from html import unescape

import pytest

from domain.records import AgendaItem
from domain.values import Purpose
from node.app.logbook import read_logbook
from node.demo.scripted import consent_to
from node.http.web import logbook_page
from node.http.web.logbook_page import PER_PAGE
from tests.conftest import Clock
from tests.node.api.world import Circle
from tests.web.test_sessions import Browserless
from tests.web.visiting import signed_in


def _lines(page: str) -> list[str]:
    """The texts of the lines a logbook page shows, in order."""
    cells = re.findall(r'<td data-label="What happened">(.*?)</td>', page, re.S)
    return [unescape(re.sub(r" <span.*", "", cell)) for cell in cells]


def test_the_logbook_is_a_page_newest_first_a_page_at_a_time(kitchen_circle: Circle) -> None:
    c, ids, node = kitchen_circle, kitchen_circle.ids, kitchen_circle.node
    # Given: enough proposals drafted for the logbook to take three pages.
    count = len(list(read_logbook(node)))
    for n in range(2 * PER_PAGE - count + 5):
        node.proposals.draft_proposal(ids["cleo"], f"Idea {n}", "Text")
    every = [entry.text for entry in read_logbook(node)][::-1]
    assert 2 * PER_PAGE < len(every) <= 3 * PER_PAGE
    ada = signed_in(c, "ada")

    # When: Ada opens the logbook, from the nav.
    first = ada.client.get("/logbook")
    # Then: it is a page (not the API's JSON), linked from the nav, newest line first.
    assert first.status_code == 200
    assert first.headers["content-type"].startswith("text/html")
    assert '<a href="/logbook" aria-current="page">Logbook</a>' in first.text
    assert f"{len(every)} lines, page 1 of 3" in first.text
    assert _lines(first.text) == every[:PER_PAGE]
    assert "Newer lines" not in first.text
    # And: the older pages follow, the last with no older page.
    older = re.search(r'<a href="([^"]+)" rel="next">Older lines</a>', first.text)
    assert older is not None
    second = ada.client.get(unescape(older.group(1))).text
    assert _lines(second) == every[PER_PAGE : 2 * PER_PAGE]
    last = ada.client.get("/logbook?page=3").text
    assert _lines(last) == every[2 * PER_PAGE :]
    assert "Older lines" not in last and 'rel="prev">Newer lines' in last
    # A page past the end shows the last.
    assert _lines(ada.client.get("/logbook?page=9").text) == every[2 * PER_PAGE :]


def test_the_logbook_is_found_by_words_kind_and_days(kitchen_circle: Circle, clock: Clock) -> None:
    c, ids, node = kitchen_circle, kitchen_circle.ids, kitchen_circle.node
    # Given: a meeting scheduled and a proposal drafted.
    node.meetings.schedule_meeting(ids["ben"], "Rota meeting", clock() + timedelta(days=3))
    node.proposals.draft_proposal(ids["cleo"], "Compost the scraps", "A bin")
    today = list(read_logbook(node))[-1].at.date()
    ada = signed_in(c, "ada")

    def found(**query: str) -> list[str]:
        page = ada.client.get("/logbook", params=query)
        assert page.status_code == 200, page.text
        return _lines(page.text)

    # When/Then: words, whatever their case.
    assert found(text="COMPOST") == ["Cleo drafted the proposal 'Compost the scraps'"]
    # A kind.
    assert found(kind="meetings") == ["Meeting 'Rota meeting' scheduled for 2026-03-04 09:00"]
    assert all("proposal" in line or "Our aim" in line for line in found(kind="proposals"))
    # Days: today has every line; none before; none after.
    assert len(found(since=today.isoformat(), until=today.isoformat())) == len(found())
    assert found(until=(today - timedelta(days=1)).isoformat()) == []
    assert found(since=(today + timedelta(days=1)).isoformat()) == []
    # Together; and the search stays filled in, with a way back to every line.
    page = ada.client.get("/logbook", params={"text": "rota", "kind": "proposals"}).text
    assert _lines(page) == [] and "No line of the logbook matches." in page
    assert 'id="search-text" name="text" value="rota"' in page
    assert '<option value="proposals" selected>' in page
    assert '<a href="/logbook">Show every line</a>' in page


def test_a_page_of_every_line_or_of_a_kind_is_told_alone(
    kitchen_circle: Circle, monkeypatch: pytest.MonkeyPatch
) -> None:
    c, ids, node = kitchen_circle, kitchen_circle.ids, kitchen_circle.node
    # Given: two pages of proposals' lines; every line, newest first.
    for n in range(PER_PAGE + 5):
        node.proposals.draft_proposal(ids["cleo"], f"Idea {n}", "Text")
    every = list(read_logbook(node))[::-1]
    ada = signed_in(c, "ada")

    # When: pages of every line and of a kind are asked, the logbook never read whole.
    def not_read_whole(*args: object) -> None:
        raise AssertionError("the whole logbook was read")

    monkeypatch.setattr(logbook_page, "search_logbook", not_read_whole)
    for kind in ("", "proposals", "hats", "meetings"):
        kept = [entry.text for entry in every if not kind or entry.kind == kind]
        pages = max(1, -(-len(kept) // PER_PAGE))
        for number in (1, 2, 3):
            page = ada.client.get("/logbook", params={"kind": kind, "page": number}).text
            # Then: each shows its lines, newest first, and how many there are.
            shown = min(number, pages)
            assert _lines(page) == kept[(shown - 1) * PER_PAGE : shown * PER_PAGE], (kind, number)
            counted = f"{len(kept)} line{'s' if len(kept) != 1 else ''}"
            assert f"<h2>{counted}" in page
            assert pages == 1 or f"page {shown} of {pages}</h2>" in page


def test_the_search_is_kept_while_paging(kitchen_circle: Circle) -> None:
    c, ids, node = kitchen_circle, kitchen_circle.ids, kitchen_circle.node
    for n in range(PER_PAGE + 1):
        node.proposals.draft_proposal(ids["cleo"], f"Idea {n}", "Text")
    page = signed_in(c, "ada").client.get("/logbook", params={"text": "idea"}).text
    assert f"{PER_PAGE + 1} lines found, page 1 of 2" in page
    assert 'href="/logbook?text=idea&amp;page=2" rel="next"' in page


def test_a_search_that_cannot_be_read_is_refused_beside_its_field(
    kitchen_circle: Circle,
) -> None:
    ada = signed_in(kitchen_circle, "ada")
    refused = ada.client.get("/logbook", params={"since": "March", "text": "rota"})
    assert refused.status_code == 422
    assert (
        '<p class="field-error" id="search-since-error">The first day is not a date' in refused.text
    )
    assert 'value="rota"' in refused.text
    refused = ada.client.get("/logbook", params={"since": "2026-03-05", "until": "2026-03-04"})
    assert refused.status_code == 422
    assert '<p class="field-error" id="search-until-error">The last day comes before' in (
        refused.text
    )
    refused = ada.client.get("/logbook", params={"kind": "gossip"})
    assert refused.status_code == 422 and "no lines of the kind" in refused.text


def test_times_are_in_the_circle_s_zone_and_a_guest_reads_no_confidential_line(
    kitchen_circle: Circle, clock: Clock
) -> None:
    c, ids, node = kitchen_circle, kitchen_circle.ids, kitchen_circle.node
    # Given: a circle in Auckland, and a meeting that decided a confidential item.
    consent_to(node, Purpose.CHANGE_RULES, {"time_zone": "Pacific/Auckland"})
    mid = node.meetings.schedule_meeting(ids["ben"], "March", clock())
    node.meetings.record_attendance(ids["ada"], mid, [ids["ada"], ids["ben"]])
    node.meetings.consent_agenda(ids["ben"], mid, [AgendaItem("Pay rise", confidential=True)])
    node.meetings.record_item_decided(ids["ada"], mid, 1, "A rise from April")
    # When: Eli (learning) and Gus (a guest) open the logbook.
    eli = signed_in(c, "eli").client.get("/logbook").text
    gus = signed_in(c, "gus").client.get("/logbook").text
    # Then: times are Auckland's, named; Eli reads the confidential line, Gus does not.
    assert "Pacific/Auckland time" in eli
    assert re.search(r'<td data-label="When">\d{4}-\d\d-\d\d \d\d:\d\d NZ[DS]T</td>', eli)
    assert "A rise from April" in eli and "Pay rise" in eli
    assert "A rise from April" not in gus and "Pay rise" not in gus
    assert "'March', item 1 (confidential)" not in gus


def test_the_logbook_is_for_members(kitchen_circle: Circle) -> None:
    visitor = Browserless(kitchen_circle.client.app)  # type: ignore[arg-type]
    answer = visitor.client.get("/logbook", follow_redirects=False)
    assert answer.status_code == 303
    assert answer.headers["location"] == "/sign-in?next=/logbook"
