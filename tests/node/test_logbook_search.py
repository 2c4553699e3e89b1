"""Finding lines in the logbook: each line's kind, and the search by words, kind and days (in
the circle's time zone).

Cast: the kitchen circle of tests/node/test_application.py (Ada secretary, Ben facilitator,
Cleo full, Eli learning)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from domain.errors import InvalidRequest
from domain.records import AgendaItem
from node.app.logbook import read_logbook
from node.app.logbook_kinds import LineKind
from node.app.logbook_search import LogbookSearch, search_logbook
from node.app.node import CircleNode
from tests.conftest import Clock
from tests.node.test_application import found

ON_MEMORY = pytest.mark.parametrize("open_store", ["memory"], indirect=True)


def _some_days(node: CircleNode, clock: Clock) -> dict[str, str]:
    """The kitchen circle; a meeting scheduled for 3 March; a proposal drafted."""
    p = found(node)
    clock.advance(days=2)
    node.meetings.schedule_meeting(p["ben"], "Rota planning", clock.now.replace(hour=18))
    node.proposals.draft_proposal(p["cleo"], "Compost the scraps", "A bin by the door")
    return p


@ON_MEMORY
def test_every_line_says_what_kind_of_record_it_is_about(node: CircleNode, clock: Clock) -> None:
    # Given: the kitchen circle, a meeting and a proposal.
    _some_days(node, clock)
    # When: the logbook is read.
    kinds = {entry.text: entry.kind for entry in read_logbook(node)}
    # Then: each line has its kind: the circle's start is the circle's, a hat put on and a
    # selection's consents are about hats, the meeting's and the proposal's lines are theirs.
    assert kinds["The circle began its work"] == LineKind.CIRCLE
    assert kinds["Ben put on the facilitator hat until 2027-03-01"] == LineKind.HATS
    assert kinds["Ada consented to 'the selection of a facilitator'"] == LineKind.HATS
    assert kinds["Meeting 'Rota planning' scheduled for 2026-03-03 18:00"] == LineKind.MEETINGS
    assert kinds["Cleo drafted the proposal 'Compost the scraps'"] == LineKind.PROPOSALS
    assert kinds["Ada consented to 'Our aim'"] == LineKind.PROPOSALS


@ON_MEMORY
def test_the_search_keeps_lines_by_words_kind_and_days(node: CircleNode, clock: Clock) -> None:
    # Given: the kitchen circle, a meeting and a proposal, all recorded today (the lines'
    # times are those the store recorded them at, in the circle's time zone).
    _some_days(node, clock)
    everything = list(read_logbook(node))
    today = everything[-1].at.date()
    assert {entry.at.date() for entry in everything} == {today}

    def texts(search: LogbookSearch) -> list[str]:
        return [entry.text for entry in search_logbook(node, None, search)]

    # When/Then: an empty search keeps every line, in order.
    assert texts(LogbookSearch()) == [entry.text for entry in everything]
    # Words, whatever their case.
    assert texts(LogbookSearch(text="COMPOST")) == [
        "Cleo drafted the proposal 'Compost the scraps'"
    ]
    # A kind.
    assert texts(LogbookSearch(kind="meetings")) == [
        "Meeting 'Rota planning' scheduled for 2026-03-03 18:00"
    ]
    # Days, both included: today keeps every line, the days before or after none.
    assert len(texts(LogbookSearch(since=today, until=today))) == len(everything)
    assert texts(LogbookSearch(until=today - timedelta(days=1))) == []
    assert texts(LogbookSearch(since=today + timedelta(days=1))) == []
    # Together.
    assert texts(LogbookSearch(text="rota", kind="proposals")) == []
    assert len(texts(LogbookSearch(text="rota", kind="meetings", since=today))) == 1


def test_the_days_a_search_keeps_include_its_first_and_last() -> None:
    search = LogbookSearch(since=date(2026, 3, 3), until=date(2026, 3, 5))
    kept = [day for day in range(1, 8) if search.keeps("meetings", "x", date(2026, 3, day))]
    assert kept == [3, 4, 5]


def test_a_search_that_cannot_find_anything_is_refused() -> None:
    with pytest.raises(InvalidRequest, match="no lines of the kind 'gossip'"):
        LogbookSearch(kind="gossip")
    with pytest.raises(InvalidRequest, match="The last day comes before the first"):
        LogbookSearch(since=date(2026, 3, 5), until=date(2026, 3, 4))


@ON_MEMORY
def test_a_guest_finds_no_confidential_line(node: CircleNode, clock: Clock) -> None:
    # Given: a meeting whose confidential item was decided.
    p = found(node)
    mid = node.meetings.schedule_meeting(p["ben"], "March", clock())
    node.meetings.record_attendance(p["ada"], mid, [p["ada"], p["ben"]])
    node.meetings.consent_agenda(p["ben"], mid, [AgendaItem("Pay rise", confidential=True)])
    node.meetings.record_item_decided(p["ada"], mid, 1, "A rise from April")
    search = LogbookSearch(text="April")
    # When/Then: a learning participant finds the line; a guest does not.
    assert search_logbook(node, "learning", search)
    assert search_logbook(node, "guest", search) == []
