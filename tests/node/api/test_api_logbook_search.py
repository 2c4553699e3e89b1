"""The logbook over HTTP, found by words, kind and days; each line says its kind."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest

from node.app.logbook import read_logbook
from node.app.logbook_kinds import LineKind
from node.http.api import logbook as api_logbook
from tests.node.api.world import Circle, assert_problem


def _found(c: Circle, **params: Any) -> list[dict[str, Any]]:
    response = c.get("cleo", "/logbook", params={"limit": 100, **params})
    assert response.status_code == 200, response.text
    page = response.json()
    assert page["total"] == len(page["items"])
    return list(page["items"])


def test_the_logbook_is_found_by_words_kind_and_days(circle: Circle) -> None:
    c = circle
    # Given: a meeting scheduled and a proposal drafted in the kitchen circle.
    c.ok("ben", "/meetings", {"title": "Rota meeting", "when": "2026-03-05T18:00:00Z"}, 201)
    c.ok("cleo", "/proposals", {"title": "Compost", "text": "A bin"}, 201)
    everything = _found(c)
    today = date.fromisoformat(everything[-1]["at"][:10])

    # When/Then: each filter keeps its lines, and each line names its kind.
    meetings = _found(c, kind="meetings")
    assert [line["text"] for line in meetings] == [
        "Meeting 'Rota meeting' scheduled for 2026-03-05 18:00"
    ]
    assert meetings[0]["kind"] == "meetings"
    assert [line["text"] for line in _found(c, text="compost")] == [
        "Cleo drafted the proposal 'Compost'"
    ]
    assert len(_found(c, since=today.isoformat(), until=today.isoformat())) == len(everything)
    assert _found(c, until=(today - timedelta(days=1)).isoformat()) == []
    assert _found(c, text="rota", kind="proposals") == []
    # A kind the logbook does not have, or days the wrong way round, are refused.
    assert_problem(c.get("cleo", "/logbook", params={"kind": "gossip"}), 400, "malformed")
    assert_problem(
        c.get("cleo", "/logbook", params={"since": "2026-03-05", "until": "2026-03-04"}),
        422,
        "invalid_request",
        "The last day comes before the first: nothing can be found",
    )


def test_a_page_of_one_kind_is_told_alone(circle: Circle, monkeypatch: pytest.MonkeyPatch) -> None:
    c = circle
    # Given: proposals drafted among the kitchen's story; its lines of each kind.
    for n in range(5):
        c.ok("cleo", "/proposals", {"title": f"Idea {n}", "text": "A bin"}, 201)
    every = list(read_logbook(c.node, "full"))

    # When: pages of each kind are asked, the logbook never read from its start.
    def not_read_whole(*args: object) -> None:
        raise AssertionError("the whole logbook was read")

    monkeypatch.setattr(api_logbook, "search_logbook", not_read_whole)
    for kind in LineKind:
        kept = [entry.text for entry in every if entry.kind == kind]
        page = c.get("cleo", "/logbook", params={"kind": kind, "offset": 2, "limit": 3}).json()
        # Then: each is the lines of that kind, from its offset, and how many there are.
        assert [line["text"] for line in page["items"]] == kept[2:5], kind
        assert page["total"] == len(kept)
