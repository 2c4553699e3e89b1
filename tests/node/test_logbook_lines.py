"""Every line of the logbook says what it is about: the proposal, selection or meeting it
belongs to, when it was recorded (in the circle's time zone) and who did it; and an ask of a
circle and of its seats is one line for each ask.

Cast: the kitchen circle of tests/node/test_application.py (Ada secretary, Ben facilitator,
Cleo full, Eli learning); for asks across nodes, the co-op and the kitchen of the `linked`
fixture, with Kim as the kitchen's delegate.
"""

from __future__ import annotations

import json
from collections import Counter
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import msgspec
import pytest

from domain.values import Purpose
from node.app.archive import export_archive
from node.app.logbook import LogbookEntry, read_logbook
from node.app.node import CircleNode
from node.app.persistence import open_node
from node.settings import Settings
from tests.conftest import Clock
from tests.node.circles import consent_to, founder, select, sync
from tests.node.test_application import found

ON_MEMORY = pytest.mark.parametrize("open_store", ["memory"], indirect=True)


def _compost(node: CircleNode, p: dict[str, str]) -> str:
    proposal = node.proposals.draft_proposal(p["cleo"], "Compost the kitchen scraps", "A bin")
    node.proposals.present(p["cleo"], proposal)
    node.proposals.ask_question(p["ada"], proposal, "Where does the bin go?")
    node.proposals.answer_question(p["cleo"], proposal, 1, "By the back door")
    node.proposals.open_reactions(p["ben"], proposal)
    node.proposals.react(p["eli"], proposal, "Love it")
    node.consent.open_consent_round(p["ben"], proposal)
    node.consent.consent(p["ada"], proposal)
    node.consent.raise_objection(p["ben"], proposal, "Rats will come")
    return proposal


def _line(node: CircleNode, text: str) -> LogbookEntry:
    return next(entry for entry in read_logbook(node) if entry.text == text)


@ON_MEMORY
def test_lines_name_the_proposal_and_who_did_it(node: CircleNode) -> None:
    # Given: the kitchen circle, and a proposal that Ada consents to and Ben objects to.
    p = found(node)
    proposal = _compost(node, p)
    # When: the logbook is read.
    # Then: each line about the proposal names it, and carries the id of who did it.
    consented = _line(node, "Ada consented to 'Compost the kitchen scraps'")
    assert consented.actor == p["ada"] and consented.record_id == proposal
    objected = _line(node, "Ben objected to 'Compost the kitchen scraps': Rats will come")
    assert objected.actor == p["ben"]
    assert _line(node, "Ada asked about 'Compost the kitchen scraps': Where does the bin go?")
    assert _line(node, "Question 1 on 'Compost the kitchen scraps' answered: By the back door")
    assert _line(node, "Eli reacted to 'Compost the kitchen scraps': Love it").actor == p["eli"]
    drafted = _line(node, "Cleo drafted the proposal 'Compost the kitchen scraps'")
    assert drafted.actor == p["cleo"]
    # And: the selections' lines name the selection, with the nominator as actor.
    nominated = _line(node, "Ada nominated Ben in the selection of a facilitator: Good at it")
    assert nominated.actor == p["ada"]


@ON_MEMORY
def test_lines_carry_their_time_in_the_circle_s_time_zone(node: CircleNode) -> None:
    # Given: a circle whose rules name Pacific/Auckland as its time zone.
    p = found(node)
    consent_to(node, Purpose.CHANGE_RULES, {"time_zone": "Pacific/Auckland"}, by=p["ada"])
    # When: the logbook is read.
    entries = list(read_logbook(node))
    # Then: every line's time is in Auckland's time, with its offset, not only a date.
    zone = ZoneInfo("Pacific/Auckland")
    for entry in entries:
        assert entry.at.tzinfo == zone
        assert entry.at.utcoffset() == entry.at.astimezone(zone).utcoffset() != timedelta(0)
    # And: the circle's own facts name no actor when the calendar brought them.
    assert entries[0].actor == p["ada"]  # Ada founded the circle


@ON_MEMORY
def test_what_the_calendar_brings_names_no_actor(node: CircleNode, clock: Clock) -> None:
    # Given: a policy with a review date, and the calendar past it.
    p = found(node)
    proposal = node.proposals.draft_proposal(
        p["ada"], "Sunday cover", "Two on Sundays", review_date=clock().date() + timedelta(days=3)
    )
    node.proposals.present(p["ada"], proposal)
    node.proposals.open_reactions(p["ben"], proposal)
    node.consent.open_consent_round(p["ben"], proposal)
    for person in ("ada", "ben", "cleo"):
        node.consent.consent(p[person], proposal)
    node.consent.close_consent_round(p["ben"], proposal)
    clock.advance(days=4)
    node.decisions.update_due_dates()
    # Then: the review's line names the policy and no one.
    assert _line(node, "Review due: 'Sunday cover'").actor is None


def test_an_ask_of_a_circle_and_its_seats_is_one_line_each(linked) -> None:  # type: ignore[no-untyped-def]
    # Given: the kitchen is part of the co-op, with Kim as its delegate there.
    coop, kitchen = linked["coop"], linked["kitchen"]
    kim = kitchen.people.apply_to_join("Kim Cook")
    kitchen.people.admit(founder(kitchen), kim)
    select(kitchen, "delegate", kim)
    sync(linked)
    # When: the co-op's consent round asks the kitchen and its delegate's seat, and Kim answers.
    asking = consent_to(
        coop,
        Purpose.ADOPT_POLICY,
        {},
        title="Shared tools",
        ask_circles=[kitchen.feed.node_id],
        close=False,
    )
    sync(linked)
    kitchen.relations.answer_seat(kim, coop.feed.node_id, asking, True)
    # Then: the kitchen's logbook has one line for each ask, none written twice.
    lines = [entry.text for entry in read_logbook(kitchen)]
    assert [text for text, n in Counter(lines).items() if n > 1] == []
    assert "coop asks for consent to 'Shared tools' (round 1)" in lines
    seat_ask = "coop asks this circle's delegate for their answer, in their seat, to 'Shared tools'"
    assert f"{seat_ask} (round 1)" in lines
    # And: the answer names the proposal and Kim, who gave it; the ask, from another circle,
    # names no actor.
    answered = _line(
        kitchen, "Kim Cook answered coop's request on 'Shared tools' as delegate: consent"
    )
    assert answered.actor == kim
    assert _line(kitchen, "coop asks for consent to 'Shared tools' (round 1)").actor is None


@ON_MEMORY
def test_the_day_of_a_line_is_the_circle_s_day(node: CircleNode) -> None:
    # Given: a circle in Auckland.
    found(node)
    consent_to(node, Purpose.CHANGE_RULES, {"time_zone": "Pacific/Auckland"})
    # Then: a line's date, when its event carries none of its own, is the date in Auckland.
    for entry in read_logbook(node):
        assert isinstance(entry.when, date)
        if entry.text.startswith("The circle's rules changed"):
            assert entry.when == entry.at.date()


def test_the_export_carries_each_line_s_time_and_actor(tmp_path: Path, clock: Clock) -> None:
    node = open_node(Settings(data_dir=tmp_path / "node"), clock)
    # Given: the kitchen circle in Auckland, and Cleo's proposal.
    p = found(node)
    consent_to(node, Purpose.CHANGE_RULES, {"time_zone": "Pacific/Auckland"}, by=p["ada"])
    _compost(node, p)
    # When: the circle's records are exported.
    archive = tmp_path / "kitchen.archive"
    export_archive(node, archive)
    node.close()
    raw = archive.read_bytes()
    members = msgspec.msgpack.decode(raw[:-32], type=dict[str, bytes])
    logbook = json.loads(members["logbook.json"])
    # Then: each line has its day, its time with Auckland's offset, its actor and its text.
    line = next(e for e in logbook if e["text"] == "Ada consented to 'Compost the kitchen scraps'")
    assert line["actor"] == p["ada"]
    at = datetime.fromisoformat(line["at"])
    assert at.utcoffset() == at.astimezone(ZoneInfo("Pacific/Auckland")).utcoffset()
    assert line["date"] == at.date().isoformat()
