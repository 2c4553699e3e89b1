"""A page of the logbook told alone (node/app/logbook_lines.py) says what a reading from the
start says (node/app/logbook.py `read_logbook`): the same lines, for every reader, at every
offset, as the record grows, after an erasure, and from another worker's saves.

Cast: the demo story's circle (node/demo/story.py); then Gus, a guest, sits in a meeting with
a confidential item, and Eli, who set out her aims in the story, leaves and is erased.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from domain.records import AgendaItem
from node.app.logbook import read_logbook
from node.app.logbook_kinds import LineKind
from node.app.logbook_lines import RUN_GAP, LearntAsOf, logbook_page
from node.app.node import CircleNode
from node.app.persistence import open_node
from node.demo.story import run_story
from node.settings import Settings
from tests.conftest import Clock

READERS = (None, "full", "learning", "guest")


def same_as_read_from_the_start(node: CircleNode, size: int = 7) -> None:
    """Every reader's pages, of every line and of each kind, are the lines read from the
    start."""
    for level in READERS:
        every = list(read_logbook(node, level))
        for kind in (None, *LineKind):
            whole = [entry for entry in every if kind is None or entry.kind == kind]
            paged = []
            for offset in range(0, len(whole) + size, size):
                page, total = logbook_page(node, level, offset, size, kind)
                assert total == len(whole)
                paged += page
            assert paged == whole, (level, kind)


def hold_a_meeting_with_a_confidential_item(node: CircleNode) -> None:
    """Gus, a guest, leaves for the confidential item of a meeting."""
    circle = node.records.get_circle()
    secretary, facilitator = circle.wearers("secretary")[0], circle.wearers("facilitator")[0]
    gus = node.people.apply_to_join("Gus", "guest")
    node.people.admit(secretary, gus, "guest")
    meeting = node.meetings.schedule_meeting(facilitator, "March meeting", node.records.now())
    node.meetings.record_attendance(secretary, meeting, [secretary, facilitator, gus])
    items: list[str | AgendaItem] = ["Rota", AgendaItem("Pay review", confidential=True)]
    node.meetings.consent_agenda(facilitator, meeting, items)
    node.meetings.ask_guests_to_leave(facilitator, meeting, 2)
    node.meetings.record_item_decided(secretary, meeting, 1, "Weekly rota")
    node.meetings.record_item_decided(secretary, meeting, 2, "Rise agreed")
    node.meetings.record_minutes(secretary, meeting, "Rota agreed", confidential_text="In April")


@pytest.fixture
def told(tmp_path: Path, clock: Clock) -> Iterator[CircleNode]:
    node = open_node(Settings(data_dir=tmp_path / "node"), clock)
    run_story(node, lambda line: None, lambda days: clock.advance(days=days))
    yield node
    node.close()


def test_pages_tell_what_a_reading_from_the_start_tells(told: CircleNode, clock: Clock) -> None:
    # Given: the story told, its pages read once.
    same_as_read_from_the_start(told)
    # When: a meeting with a confidential item is held, then Eli leaves and is erased.
    hold_a_meeting_with_a_confidential_item(told)
    same_as_read_from_the_start(told)
    eli = next(p for p, name in told.records.list_people().items() if name.startswith("Eli"))
    told.people.leave(eli, eli, note="Thank you, Eli")
    told.erasure.erase_person(told.records.get_circle().wearers("secretary")[0], eli)
    # Then: the pages say what a reading from the start says, of what is left.
    same_as_read_from_the_start(told)


def test_pages_follow_another_workers_saves(told: CircleNode, tmp_path: Path, clock: Clock) -> None:
    other = open_node(Settings(data_dir=tmp_path / "node"), clock)
    try:
        same_as_read_from_the_start(told)
        hold_a_meeting_with_a_confidential_item(other)
        same_as_read_from_the_start(told)
    finally:
        other.close()


def test_pages_stay_right_after_a_restart(told: CircleNode, tmp_path: Path, clock: Clock) -> None:
    # Given: the story's pages read once, then the node closed.
    same_as_read_from_the_start(told)
    told.close()
    # When: the node opens again on its store, and the record grows.
    again = open_node(Settings(data_dir=tmp_path / "node"), clock)
    try:
        hold_a_meeting_with_a_confidential_item(again)
        # Then: its pages say what a reading from the start says.
        same_as_read_from_the_start(again)
    finally:
        again.close()


def test_a_page_reads_its_own_events_not_those_between_its_lines(told: CircleNode) -> None:
    # Given: the story's meetings, then proposals drafted, then another meeting: lines of
    # one kind far apart.
    facilitator = told.records.get_circle().wearers("facilitator")[0]
    recorder = told.store.recorder
    before = recorder.max_notification_id()
    for n in range(RUN_GAP + 1):
        told.proposals.draft_proposal(facilitator, f"Idea {n}", "Text")
    drafts = range(before + 1, recorder.max_notification_id() + 1)
    told.meetings.schedule_meeting(facilitator, "April meeting", told.records.now())
    every = [entry for entry in read_logbook(told) if entry.kind == LineKind.MEETINGS]
    assert len(every) > 2
    read: list[int] = []
    select = recorder.select_notifications

    def counted(start: int, limit: int, *args: Any, **kwargs: Any) -> Any:
        found = select(start, limit, *args, **kwargs)
        read.extend(notification.id for notification in found)
        return found

    logbook_page(told, None, 0, 1)  # caught up
    # When: a page of that kind is read.
    recorder.select_notifications = counted  # type: ignore[method-assign]
    try:
        page, _ = logbook_page(told, None, 0, len(every), LineKind.MEETINGS)
    finally:
        del recorder.select_notifications
    # Then: it tells them, without reading the drafts between them.
    assert page == every
    assert read and not set(read) & set(drafts)


def test_what_was_learnt_is_read_as_the_telling_knew_it_then() -> None:
    # Given: a circle named twice (at notifications 5 and 9), the second time by a
    # confidential event, which a guest's reading never tells.
    learnt = LearntAsOf()
    learnt.at, learnt.confidential = 5, False
    learnt["circle"] = "Bakers"
    learnt.at, learnt.confidential = 9, True
    learnt["circle"] = "Bakers' guild"
    whole, guest = learnt.view(reads_confidential=True), learnt.view(reads_confidential=False)
    # When: read as of before, between and after; then set while telling a page.
    # Then: each reading has what it would have learnt by then, and a page sets nothing.
    for at, expected in ((4, "?"), (5, "Bakers"), (8, "Bakers"), (9, "Bakers' guild")):
        whole.at = guest.at = at
        assert whole.get("circle", "?") == expected
        assert guest.get("circle", "?") == ("?" if at < 5 else "Bakers")
    whole["circle"] = "Someone else"
    assert whole.get("circle", "?") == "Bakers' guild"
