"""A page of the logbook told alone (node/app/logbook_lines.py) says what a reading from the
start says (node/app/logbook.py `read_logbook`): the same lines, for every reader, at every
offset, as the record grows, after an erasure, and from another worker's saves.

Cast: the demo story's circle (node/demo/story.py); then Gus, a guest, sits in a meeting with
a confidential item, and Eli, who set out her aims in the story, leaves and is erased.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from domain.records import AgendaItem
from node.app.logbook import read_logbook
from node.app.logbook_lines import LearntAsOf, logbook_page
from node.app.node import CircleNode
from node.app.persistence import open_node
from node.demo.story import run_story
from node.settings import Settings
from tests.conftest import Clock

READERS = (None, "full", "learning", "guest")


def same_as_read_from_the_start(node: CircleNode, size: int = 7) -> None:
    for level in READERS:
        whole = list(read_logbook(node, level))
        paged = []
        for offset in range(0, len(whole) + size, size):
            page, total = logbook_page(node, level, offset, size)
            assert total == len(whole)
            paged += page
        assert paged == whole, level


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
