"""The logbook over HTTP, found by words, kind and days; each line says its kind."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

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
