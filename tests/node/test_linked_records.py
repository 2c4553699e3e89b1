"""The co-op sees its circles: a member circle sends its co-op its records (aim, hats with
their wearers and back-stops, decisions in force, reviews due) and its meetings' minutes; the
co-op keeps them per member circle, in the save that takes them, and tells its member circles
its own back-stops. Two nodes in one process (PROTOCOL.md 11.4, `circle.records` and
`meeting.minutes`).

Cast (the `linked` fixture): the co-op and the kitchen, a circle that is part of it; in the
kitchen, its founder (facilitator and secretary) and Kim Cook, who joins.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime

import msgspec
import pytest

from domain.records import AgendaItem
from domain.values import Purpose
from federation.verify import decode_entry, decode_signed_entry
from node.app.archive import export_archive, verify_archive
from node.app.logbook import read_logbook
from node.app.node import KNOWN_TYPES, CircleNode
from node.network.messages import (
    CIRCLE_RECORDS,
    MEETING_MINUTES,
    CircleRecords,
    MeetingMinutes,
    decode_body,
    encode_body,
)
from tests.node.circles import consent_to, founder, select, send, sync


def _sent(node: CircleNode, after: int, kind: str) -> list[msgspec.Struct]:
    """The bodies of the entries of `kind` the node wrote after seq `after`."""
    out = []
    for signed in node.feed.own_entries(after, 1000):
        entry = decode_entry(signed)
        if entry.type == kind:
            (body,) = node.store.stored_data([entry.body_hash]).values()
            record = decode_body(kind, body)
            assert record is not None
            out.append(record)
    return out


def _kim(kitchen: CircleNode) -> str:
    kim = kitchen.people.apply_to_join("Kim Cook")
    kitchen.people.admit(founder(kitchen), kim)
    return kim


def _june_meeting(kitchen: CircleNode) -> str:
    boss = founder(kitchen)
    meeting = kitchen.meetings.schedule_meeting(
        boss, "June meeting", datetime(2026, 6, 3, 18, 0, tzinfo=UTC)
    )
    kitchen.meetings.record_attendance(boss, meeting, [boss])
    kitchen.meetings.consent_agenda(boss, meeting, ["The rota", "Open questions"])
    kitchen.meetings.record_item_decided(boss, meeting, 1, "Kim keeps it until July")
    kitchen.meetings.record_minutes(boss, meeting, "The rota was agreed.")
    return meeting


def test_a_member_circle_records_reach_its_coop_with_back_stops(linked) -> None:  # type: ignore[no-untyped-def]
    coop, kitchen = linked["coop"], linked["kitchen"]
    boss = founder(kitchen)
    # Given: Kim joins the kitchen.
    kim = _kim(kitchen)
    head = kitchen.feed.own_feed().head

    # When: the kitchen's secretary records that Kim steps in for the facilitator.
    kitchen.hats.name_back_stop(boss, "facilitator", kim)

    # Then: one signed `circle.records`, addressed to the co-op alone, says so.
    (sent,) = _sent(kitchen, head, CIRCLE_RECORDS)
    assert isinstance(sent, CircleRecords) and sent.to == coop.feed.node_id
    facilitator = next(hat for hat in sent.hats if hat.hat == "facilitator")
    assert (facilitator.back_stop, facilitator.back_stop_name) == (kim, "Kim Cook")
    assert [w.person for w in facilitator.wearers] == [boss]

    # And the co-op, having taken it, shows the kitchen's records, names put back.
    sync(linked)
    (member,) = coop.linked.linked_circles()
    assert (member.circle, member.link) == (kitchen.feed.node_id, "member")
    shown = next(h for h in member.records["hats"] if h["hat"] == "facilitator")
    assert (shown["back_stop"], shown["back_stop_name"]) == (kim, "Kim Cook")
    assert shown["wearers"][0]["name"] == "kitchen founder"
    assert member.records["aim"] == "Care"
    assert coop.relations.relationship(kitchen.feed.node_id).refusals == []
    # And the co-op's logbook names what arrived.
    lines = [entry.text for entry in read_logbook(coop)]
    assert "kitchen sent its records: its aim, 2 of its 4 hats worn, 1 with a back-stop" in lines


def test_decisions_in_force_and_reviews_due_reach_the_coop(linked, clock) -> None:  # type: ignore[no-untyped-def]
    coop, kitchen = linked["coop"], linked["kitchen"]
    boss = founder(kitchen)
    # Given: the kitchen adopts a policy, and its facilitator takes an everyday decision.
    consent_to(kitchen, Purpose.ADOPT_POLICY, {}, title="Compost the scraps", text="Weekly")
    head = kitchen.feed.own_feed().head
    kitchen.decisions.take_everyday_decision(boss, "facilitator", "meetings", "Soup", "Mondays")
    # The everyday decision sends its public record alone: the records body does not read
    # every decision of the circle at each one (their records carry them).
    assert [decode_entry(s).type for s in kitchen.feed.own_entries(head, 10)] == ["decision.record"]
    sync(linked)
    # Then: the co-op lists both as in force, soonest review first (the everyday decision's
    # review comes after six months, the policy's after a year).
    decisions = coop.linked.decisions(kitchen.feed.node_id)
    assert [(d.kind, d.title, d.text, d.review_due) for d in decisions] == [
        ("operational", "Soup", "Mondays", False),
        ("policy", "Compost the scraps", "Weekly", False),
    ]
    assert coop.linked.decisions(kitchen.feed.node_id, reviews_due=True) == []
    # When: seven months pass and the kitchen's calendar marks the soup's review due.
    clock.advance(days=210)
    kitchen.decisions.update_due_dates()
    sync(linked)
    # Then: the co-op lists it as due for review.
    (due,) = coop.linked.decisions(kitchen.feed.node_id, reviews_due=True)
    assert (due.title, due.status) == ("Soup", "review_due")


def test_consented_minutes_reach_the_coop_and_the_logbook_names_them(linked) -> None:  # type: ignore[no-untyped-def]
    coop, kitchen = linked["coop"], linked["kitchen"]
    boss = founder(kitchen)
    meeting = _june_meeting(kitchen)
    head = kitchen.feed.own_feed().head
    # Recorded minutes are not sent until the circle consents to them.
    assert _sent(kitchen, 0, MEETING_MINUTES) == []

    # When: the kitchen consents to the minutes.
    kitchen.meetings.consent_minutes(boss, meeting)

    # Then: they go to the co-op, with the decided item only.
    (sent,) = _sent(kitchen, head, MEETING_MINUTES)
    assert isinstance(sent, MeetingMinutes)
    assert (sent.title, sent.held_on, sent.minutes) == (
        "June meeting",
        date(2026, 6, 3),
        "The rota was agreed.",
    )
    assert [(i.title, i.outcome) for i in sent.items] == [("The rota", "Kim keeps it until July")]

    # And the co-op keeps them, lists them, and its logbook names what arrived.
    sync(linked)
    found, total = coop.linked.minutes(kitchen.feed.node_id, 0, 10)
    assert total == 1 and found[0].title == "June meeting" and found[0].meeting == meeting
    lines = [entry.text for entry in read_logbook(coop)]
    assert "kitchen sent its minutes of 'June meeting' (held 2026-06-03)" in lines


def test_a_confidential_item_is_in_no_minutes_sent(linked) -> None:  # type: ignore[no-untyped-def]
    """Confidential items never leave the node: neither the item's title, nor its outcome, nor
    the minutes of confidential items are in any entry the kitchen sends, nor at the co-op."""
    coop, kitchen = linked["coop"], linked["kitchen"]
    boss = founder(kitchen)
    meeting = kitchen.meetings.schedule_meeting(
        boss, "June meeting", datetime(2026, 6, 3, 18, 0, tzinfo=UTC)
    )
    kitchen.meetings.record_attendance(boss, meeting, [boss])
    agenda = [AgendaItem("The rota"), AgendaItem("A member's health", confidential=True)]
    kitchen.meetings.consent_agenda(boss, meeting, agenda)
    kitchen.meetings.record_item_decided(boss, meeting, 1, "Agreed")
    kitchen.meetings.record_item_decided(boss, meeting, 2, "Leave granted to Kim")
    kitchen.meetings.record_minutes(boss, meeting, "The rota was agreed.", "Kim rests a month")
    head = kitchen.feed.own_feed().head

    kitchen.meetings.consent_minutes(boss, meeting)
    sync(linked)

    (sent,) = _sent(kitchen, head, MEETING_MINUTES)
    assert isinstance(sent, MeetingMinutes)
    assert [(item.title, item.outcome) for item in sent.items] == [("The rota", "Agreed")]
    bodies = kitchen.store.stored_data(
        [decode_entry(e).body_hash for e in kitchen.feed.own_entries(0, 1000)]
    )
    for secret in (b"health", b"Leave granted", b"rests a month"):
        assert not any(secret in body for body in bodies.values())
    (kept,), _ = coop.linked.minutes(kitchen.feed.node_id, 0, 10)
    assert "health" not in str(vars(kept)) and "rests" not in str(vars(kept))


def test_the_coop_tells_its_member_circles_its_back_stops(linked) -> None:  # type: ignore[no-untyped-def]
    coop, kitchen = linked["coop"], linked["kitchen"]
    boss = founder(coop)
    sam = coop.people.apply_to_join("Sam Reed")
    coop.people.admit(boss, sam)
    # When: the co-op names Sam back-stop for its secretary.
    coop.hats.name_back_stop(boss, "secretary", sam)
    sync(linked)
    # Then: the kitchen sees it, as its co-op's record.
    (co_op,) = kitchen.linked.linked_circles()
    assert co_op.link == "coop"
    secretary = next(h for h in co_op.records["hats"] if h["hat"] == "secretary")
    assert secretary["back_stop_name"] == "Sam Reed"
    # But the co-op's decisions do not go to its members as records (their own records).
    head = coop.feed.own_feed().head
    consent_to(coop, Purpose.ADOPT_POLICY, {}, title="Budgets")
    assert _sent(coop, head, CIRCLE_RECORDS) == []


def test_records_from_a_circle_that_is_not_linked_are_refused(linked) -> None:  # type: ignore[no-untyped-def]
    coop, kitchen = linked["coop"], linked["kitchen"]
    # Given: the kitchen goes its own way.
    consent_to(kitchen, Purpose.GO_INDEPENDENT, {"circle": coop.feed.node_id})
    sync(linked)
    # When: it sends minutes and records all the same (as a faulty node might).
    to = coop.feed.node_id
    minutes = MeetingMinutes(to, "m1", "July", date(2026, 7, 1), [], "Met")
    send(kitchen, to, MEETING_MINUTES, encode_body(minutes))
    send(kitchen, to, CIRCLE_RECORDS, encode_body(CircleRecords(to, "A", None, "active", [])))
    sync(linked)
    # Then: the co-op refuses both, and keeps nothing new.
    refusals = coop.relations.relationship(kitchen.feed.node_id).refusals
    assert "meeting.minutes: Only a circle that is part of this one sends its minutes" in refusals
    assert any(
        r.startswith("circle.records: Only a circle that is part of this one") for r in refusals
    )
    assert coop.linked.minutes(kitchen.feed.node_id, 0, 10)[1] == 0


@pytest.mark.parametrize("who", ["wearer", "back_stop"])
def test_erasure_reaches_the_records_the_coop_keeps(linked, who) -> None:  # type: ignore[no-untyped-def]
    coop, kitchen = linked["coop"], linked["kitchen"]
    boss = founder(kitchen)
    kim = _kim(kitchen)
    if who == "wearer":
        kitchen.hats.define_hat(boss, "Baker", "Bread", [], ["bread"])
        kitchen.hats.open_selection(boss, "baker")
        select(kitchen, "baker", kim)
    else:
        kitchen.hats.name_back_stop(boss, "facilitator", kim)
    sync(linked)
    assert "Kim Cook" in str(coop.linked.linked_circles()[0].records)
    # When: Kim leaves and asks for her data to be erased.
    kitchen.people.leave(kim, kim)
    kitchen.erasure.erase_person(boss, kim)
    sync(linked)
    # Then: the co-op holds her name nowhere: not in what it shows, not in the bodies it keeps.
    assert "Kim Cook" not in str(coop.linked.linked_circles()[0].records)
    assert coop.relations.relationship(kitchen.feed.node_id).refusals == []
    held = [
        decode_entry(decode_signed_entry(raw))
        for raw in coop.store.held_entries(kitchen.feed.feed_id)
    ]
    hashes = [e.body_hash for e in held if e.type == CIRCLE_RECORDS]
    assert hashes and all(
        b"Kim Cook" not in body for body in coop.store.stored_data(hashes).values()
    )


def test_the_export_carries_back_stops_and_what_member_circles_sent(linked, tmp_path) -> None:  # type: ignore[no-untyped-def]
    coop, kitchen = linked["coop"], linked["kitchen"]
    boss = founder(kitchen)
    kim = _kim(kitchen)
    kitchen.hats.name_back_stop(boss, "facilitator", kim)
    meeting = _june_meeting(kitchen)
    kitchen.meetings.consent_minutes(boss, meeting)
    sync(linked)

    def exported(node: CircleNode) -> dict:  # type: ignore[type-arg]
        path = tmp_path / f"{node.feed.node_id}.archive"
        export_archive(node, path)
        members = msgspec.msgpack.decode(path.read_bytes()[:-32], type=dict[str, bytes])
        assert verify_archive(path, KNOWN_TYPES).logbook_lines > 0
        return json.loads(members["linked_records.json"])  # type: ignore[no-any-return]

    # The kitchen's export names the facilitator's back-stop.
    assert exported(kitchen)["back_stops"] == {
        "facilitator": {"person_id": kim, "name": "Kim Cook"}
    }
    # The co-op's holds the kitchen's records and minutes.
    (member,) = exported(coop)["linked_circles"]
    assert member["circle"] == kitchen.feed.node_id and member["link"] == "member"
    assert [m["title"] for m in member["minutes"]] == ["June meeting"]
