"""Events stored as MessagePack typed by their classes, JSON where that would not come back the
same, and stores written as JSON before read as they were."""

from __future__ import annotations

import json as json_module
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

import msgspec
import pytest
from eventsourcing.application import Application
from eventsourcing.compressor import ZlibCompressor
from eventsourcing.cryptography import AESCipher
from eventsourcing.domain import Aggregate, event
from eventsourcing.persistence import (
    DatetimeAsISO,
    JSONTranscoder,
    Mapper,
    MapperDeserialisationError,
    StoredEvent,
    UUIDAsHex,
)
from eventsourcing.utils import Environment, get_topic

from bench.circles import HAT_AREA, found_with_hat
from domain.decision import Decision
from domain.records import HatTerm, RoundRecord
from node.app.node import CircleNode
from node.app.persistence import open_node
from node.settings import Settings
from node.store.application import NodeStore
from node.store.event_mapping import TypedMapper
from node.store.transcodings import register_domain_transcodings
from tests.conftest import Clock


class Rota(Aggregate):
    @event("Planned")
    def __init__(self, title: str, starts: date, when: datetime, term: HatTerm | None) -> None:
        self.title = title
        self.starts = starts
        self.when = when
        self.term = term

    @event("Swapped")
    def swap(self, people: list[str], note: str | None) -> None:
        self.people = people
        self.note = note


@dataclass(frozen=True)
class Untyped(Aggregate.Event):
    anything: Any


def _transcoder() -> JSONTranscoder:
    transcoder = JSONTranscoder()
    for transcoding in (UUIDAsHex(), DatetimeAsISO()):
        transcoder.register(transcoding)
    register_domain_transcodings(transcoder)
    return transcoder


def _mappers(**options: Any) -> tuple[TypedMapper, Mapper[UUID]]:
    """The typed mapper, and the library's JSON one with the same transcoder and options."""
    transcoder = _transcoder()
    return TypedMapper(transcoder, **options), Mapper(transcoder, **options)


def _round_trip(mapper: Mapper[UUID], domain_event: Any) -> tuple[bytes, Any]:
    stored = mapper.to_stored_event(domain_event)
    return stored.state, mapper.to_domain_event(stored)


def test_an_event_is_messagepack_and_comes_back_with_its_types() -> None:
    typed, json = _mappers()
    term = HatTerm("hat-1", "p1", date(2026, 1, 5), date(2027, 1, 5), "selection-1")
    rota = Rota("Sundays", date(2026, 12, 6), datetime(2026, 12, 6, 9, tzinfo=UTC), term)
    rota.swap(["p1", "p2"], None)
    for planned in rota.collect_events():
        state, back = _round_trip(typed, planned)
        assert state[:1] != b"{"  # a MessagePack map, not JSON
        assert vars(back) == vars(planned) and type(back) is type(planned)
        # Smaller than the library's JSON of the same event.
        assert len(state) < len(json.to_stored_event(planned).state)
    assert isinstance(vars(back)["people"], list)


def test_values_their_annotations_do_not_describe_are_stored_as_json() -> None:
    typed, _ = _mappers()
    offset = timezone(timedelta(hours=2))
    cases = [
        # A time with its offset: MessagePack would keep the instant, in UTC.
        Rota("Sundays", date(2026, 12, 6), datetime(2026, 12, 6, 9, tzinfo=offset), None),
        # A datetime where a date is declared (a datetime is a date, to Python).
        Rota("Sundays", datetime(2026, 12, 6, 9, tzinfo=UTC), datetime.now(UTC), None),
        # A UUID where a str is declared: msgspec would write it as a string and read a str.
        Rota(uuid4(), date(2026, 12, 6), datetime.now(UTC), None),  # type: ignore[arg-type]
    ]
    for rota in cases:
        (planned,) = rota.collect_events()
        state, back = _round_trip(typed, planned)
        assert state[:1] == b"{"
        assert vars(back) == vars(planned)
        for name, value in vars(planned).items():
            assert type(vars(back)[name]) is type(value)
        if isinstance(planned.when, datetime):
            assert back.when.utcoffset() == planned.when.utcoffset()
    # A field typed Any: msgspec would read the date back as a string.
    untyped = Untyped(  # type: ignore[call-arg]
        originator_id=uuid4(),
        originator_version=1,
        timestamp=datetime.now(UTC),
        anything=date(2026, 12, 6),
    )
    state, back = _round_trip(typed, untyped)
    assert state[:1] == b"{" and back.anything == date(2026, 12, 6)
    # A value msgspec cannot encode at all (an int beyond 64 bits): JSON takes it.
    huge = Untyped(  # type: ignore[call-arg]
        originator_id=uuid4(), originator_version=1, timestamp=datetime.now(UTC), anything=10**30
    )
    state, back = _round_trip(typed, huge)
    assert state[:1] == b"{" and back.anything == 10**30


class Plan(Aggregate):
    @event("Made")
    def __init__(self, title: str, starts: date) -> None:
        self.title = title
        self.starts = starts


class PlanLater(Aggregate):
    """Plan, as its class would be once a field is added: version 2, with its upcaster."""

    @event("Made")
    def __init__(self, title: str, starts: date, room: str) -> None:
        self.title = title
        self.starts = starts
        self.room = room


PlanLater.Made.class_version = 2  # type: ignore[attr-defined]
PlanLater.Made.upcast_v1_v2 = staticmethod(  # type: ignore[attr-defined]
    lambda values: values.update(room="the hall")
)


def test_rows_in_messagepack_are_upcast_when_their_class_version_rises() -> None:
    typed, _ = _mappers()
    (made,) = Plan("Rota", date(2026, 12, 6)).collect_events()
    stored = typed.to_stored_event(made)
    assert stored.state[:1] != b"{"
    # The same row, read once the class is at version 2: upcast, then typed as it is now.
    later = StoredEvent(
        stored.originator_id, stored.originator_version, get_topic(PlanLater.Made), stored.state
    )
    back = typed.to_domain_event(later)
    assert type(back) is PlanLater.Made
    assert (back.originator_id, back.originator_version) == (made.originator_id, 1)
    assert back.mutate(None).title == "Rota"  # an event that can make its aggregate
    assert (back.title, back.starts, back.room) == ("Rota", date(2026, 12, 6), "the hall")  # type: ignore[attr-defined]
    # New events of the class go as JSON, with their version, as the library writes them.
    (fresh,) = PlanLater("Keys", date(2026, 12, 7), "the porch").collect_events()
    state, again = _round_trip(typed, fresh)
    assert state[:1] == b"{" and b"class_version" in state and vars(again) == vars(fresh)


def test_rows_the_library_wrote_as_json_are_read_as_they_were() -> None:
    typed, json = _mappers()
    term = HatTerm("hat-1", "p1", date(2026, 1, 5), date(2027, 1, 5))
    rota = Rota("Sundays", date(2026, 12, 6), datetime.now(UTC), term)
    rota.swap(["p1"], "Asked first")
    for original in rota.collect_events():
        stored = json.to_stored_event(original)
        assert stored.state[:1] == b"{"
        assert vars(typed.to_domain_event(stored)) == vars(original)


def test_encrypted_and_compressed_rows_of_both_kinds() -> None:
    environment = Environment(env={"CIPHER_KEY": AESCipher.create_key(16)})
    typed, json = _mappers(cipher=AESCipher(environment), compressor=ZlibCompressor())
    rota = Rota("Sundays", date(2026, 12, 6), datetime.now(UTC), None)
    (planned,) = rota.collect_events()
    for mapper in (typed, json):
        stored = mapper.to_stored_event(planned)
        assert b"Sundays" not in stored.state
        assert vars(typed.to_domain_event(stored)) == vars(planned)


def test_a_row_that_does_not_decode_is_a_clear_error() -> None:
    typed, _ = _mappers()
    (planned,) = Rota("Sundays", date(2026, 12, 6), datetime.now(UTC), None).collect_events()
    good = typed.to_stored_event(planned)
    for state in (good.state[:-3], b"\x81\xa5title\x07"):  # cut short; a title that is an int
        broken = StoredEvent(good.originator_id, good.originator_version, good.topic, state)
        with pytest.raises(MapperDeserialisationError, match=r"Rota\.Planned"):
            typed.to_domain_event(broken)


def test_a_store_written_as_json_opens_and_goes_on(
    tmp_path: Path, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = Settings(data_dir=tmp_path / "node")
    # A node of the version before: every event in the library's JSON.
    with monkeypatch.context() as patched:
        patched.setattr(NodeStore, "construct_mapper", Application.construct_mapper)
        before = open_node(settings, clock)
        assert not isinstance(before.store.mapper, TypedMapper)
        founder, hat = found_with_hat(before)
        first = before.decisions.take_everyday_decision(
            founder, hat, HAT_AREA, "Rota", "Sundays in turn"
        )
        seen = _state_of(before)
        before.close()
    # Opened by this version: the same circle, decisions and feed; new events in MessagePack.
    node = open_node(settings, clock)
    try:
        assert isinstance(node.store.mapper, TypedMapper)
        assert _state_of(node) == seen
        clock.advance(days=1)
        second = node.decisions.take_everyday_decision(
            founder, hat, HAT_AREA, "Keys", "Keys by the door"
        )
        (row,) = node.store.recorder.select_events(UUID(second))
        assert row.state[:1] != b"{"
        (old,) = node.store.recorder.select_events(UUID(first))
        assert old.state[:1] == b"{"
        assert {d.title for d in node.records.list_decisions()} == {"Rota", "Keys"}
        assert node.feed.own_feed().head == seen["head"] + 1
    finally:
        node.close()
    # And once more, from the mixed store.
    again = open_node(settings, clock)
    try:
        assert {d.title for d in again.records.list_decisions()} == {"Rota", "Keys"}
        assert isinstance(again.records.get_decision(second), Decision)
    finally:
        again.close()


def test_a_proposal_may_say_what_messagepack_cannot(tmp_path: Path, clock: Clock) -> None:
    node = open_node(Settings(data_dir=tmp_path / "node"), clock)
    try:
        ada = node.circle.found_circle(
            name="Kitchen", aim="Feed", domain="Food", founder_name="Ada"
        )
        subject = {"note": 10**30, "when": "2026-12-06"}
        proposal = node.proposals.draft_proposal(ada, "Budget", "A large sum", subject=subject)
        assert node.records.get_proposal(proposal).subject == subject
    finally:
        node.close()


def _state_of(node: CircleNode) -> dict[str, Any]:
    circle = node.records.get_circle()
    return {
        "circle": (circle.name, circle.aim, sorted(circle.participants), sorted(circle.hats)),
        "decisions": sorted(
            (d.title, d.effective, d.review_date) for d in node.records.list_decisions()
        ),
        "head": node.feed.own_feed().head,
        "hash": node.feed.own_feed().last_hash,
    }


class Tally(Aggregate):
    """Holds a closed consent round's record, as a consent process's `ConsentRoundClosed` does."""

    @event("Closed")
    def __init__(self, record: RoundRecord) -> None:
        self.record = record


def test_a_round_closed_before_reasons_were_recorded_reads_with_no_reason() -> None:
    # Given: a round's record stored, in both kinds of row, before it had a reason.
    typed, json = _mappers()
    record = RoundRecord(1, ["p1"], [], [], ["p2"], "consented", reason="")
    (closed,) = Tally(record).collect_events()
    msgpack_state = msgspec.msgpack.decode(typed.to_stored_event(closed).state)
    del msgpack_state["record"]["reason"]
    json_state = json_module.loads(json.to_stored_event(closed).state)
    del json_state["record"]["_data_"]["reason"]
    rows = [msgspec.msgpack.encode(msgpack_state), json_module.dumps(json_state).encode()]

    for state in rows:
        # When: it is read now.
        stored = StoredEvent(closed.originator_id, 1, get_topic(Tally.Closed), state)
        back = typed.to_domain_event(stored)

        # Then: the record is whole, its reason empty (the round is history as recorded).
        assert back.record == record
