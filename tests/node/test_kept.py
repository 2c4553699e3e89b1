"""Aggregates kept in memory (node/store/kept.py): up to date with the store, whoever wrote it,
and never changed once kept; and stores made before the per-kind indexes."""

from __future__ import annotations

from pathlib import Path
from uuid import UUID, uuid4

import pytest
from eventsourcing.application import AggregateNotFoundError

from bench.circles import HAT_AREA, found_with_hat
from domain.decision import Decision
from domain.register import REGISTER_ID, Index, index_id
from node.app.credentials import CREDENTIALS_ID
from node.app.persistence import open_node
from node.app.records import FORMER_PARTICIPANT, NEWEST_READ
from node.demo.scripted import make_active
from node.network.feeds import OWN_FEED_ID
from node.settings import Settings
from node.store.kept import Kept, events_after
from tests.conftest import NodeOpener


def test_kept_aggregates_follow_the_store_and_are_never_changed_in_place(
    tmp_path: Path,
) -> None:
    settings = Settings(data_dir=tmp_path / "node")
    first, second = open_node(settings), open_node(settings)
    try:
        ada = first.circle.found_circle(
            name="Kitchen", aim="Feed", domain="Food", founder_name="Ada"
        )
        shared = first.records.peek_circle()
        assert first.records.peek_circle() is shared  # nothing new in the store: the same object

        # Another handle on the store (another worker) changes the circle: the next use
        # here sees it, from a new object; the one handed out before is as it was.
        ben = second.people.add_founding_member(ada, "Ben")
        seen = first.records.peek_circle()
        assert ben in seen.participants and seen is not shared
        assert ben not in shared.participants and shared.version < seen.version

        # A command's copy is its own: changing it changes nothing kept.
        mine = first.records.get_circle()
        assert mine is not seen
        mine.define_hat(ada, "Rota holder", "Keeps the rota", [], ["rota"], 12, "operational")
        assert mine.pending_events and len(first.records.peek_circle().hats) == len(seen.hats)

        # The own feed: appended by one handle, the other signs after it, never beside it.
        head = second.feed.own_feed().head
        make_active(first)
        assert second.feed.own_feed().head > head
        assert second.records.peek_circle().status == "active"
        assert first.feed.own_feed().head == second.feed.own_feed().head

        # Sign-in follows revocations made by another handle at once.
        token_id, token = first.tokens.issue_token(ben)
        assert second.tokens.person_for_token(token) == ben
        first.tokens.revoke_token(token_id)
        assert second.tokens.person_for_token(token) is None
        assert second.store.kept.peek(CREDENTIALS_ID).version == first.tokens._credentials().version
    finally:
        first.close()
        second.close()


def test_an_erased_name_is_not_served_from_memory_by_another_worker(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "node")
    first, second = open_node(settings), open_node(settings)
    try:
        ada = first.circle.found_circle(
            name="Kitchen", aim="Feed", domain="Food", founder_name="Ada"
        )
        cleo = first.people.add_founding_member(ada, "Cleo Marsh")
        make_active(first)
        first.people.leave(cleo, cleo)
        assert second.records.person_name(cleo) == "Cleo Marsh"  # read (and not kept) by the other
        first.erasure.erase_person(ada, cleo)
        assert (
            second.records.person_name(cleo)
            == first.records.person_name(cleo)
            == FORMER_PARTICIPANT
        )
        assert "Cleo Marsh" not in second.records.list_people().values()
    finally:
        first.close()
        second.close()


def test_a_store_made_before_the_indexes_opens_with_its_records_listed(tmp_path: Path) -> None:
    """Nodes made before the per-kind indexes filed records in the register (`Register.Filed`
    events): such a store still opens, and its records move to the indexes, once."""
    settings = Settings(data_dir=tmp_path / "node")
    node = open_node(settings)
    ada = node.circle.found_circle(name="Kitchen", aim="Feed", domain="Food", founder_name="Ada")
    ben = node.people.add_founding_member(ada, "Ben")
    proposals = [
        node.proposals.draft_proposal(ada, f"Policy {n}", "Share the rota") for n in range(3)
    ]
    # Make it look as an older node left it: no indexes, the records filed in the register.
    filed = {
        kind: node.store.repository.get(index_id(kind)).ids() for kind in ("person", "proposal")
    }
    for kind in filed:
        node.store.feeds.delete_events(index_id(kind))
    register = node.store.repository.get(REGISTER_ID)
    for kind, ids in filed.items():
        for record_id in ids:
            register.filed_before_indexes(kind, record_id)
    node.save(register)
    node.close()

    again = open_node(settings)
    try:
        assert [str(p.id) for p in again.records.list_proposals()] == proposals
        assert set(again.records.list_people()) == {ada, ben}
        versions = {kind: again.store.repository.get(index_id(kind)).version for kind in filed}
        assert versions == {"person": 3, "proposal": 4}  # opened, then one per record
    finally:
        again.close()
    once_more = open_node(settings)  # nothing is moved twice
    try:
        assert {k: once_more.store.repository.get(index_id(k)).version for k in filed} == versions
        assert [str(p.id) for p in once_more.records.list_proposals()] == proposals
    finally:
        once_more.close()


def test_an_adopted_aggregate_is_kept_as_it_is_until_it_is_changed(tmp_path: Path) -> None:
    from node.store.kept import Kept

    node = open_node(Settings(data_dir=tmp_path / "node"))
    try:
        ada = node.circle.found_circle(
            name="Kitchen", aim="Feed", domain="Food", founder_name="Ada"
        )
        kept = Kept(node.store.repository)
        circle = node.records.get_circle()
        kept.adopt(circle)
        assert kept.peek(circle.id) is circle  # no copy, no reload
        # Its adopter changed it after all (a bug): it is no longer as stored, so the next
        # use reloads it from the store instead of handing out the change.
        circle.define_hat(ada, "Rota holder", "Keeps the rota", [], ["rota"], 12, "operational")
        fresh = kept.peek(circle.id)
        assert fresh is not circle and not fresh.pending_events
        assert len(fresh.hats) == len(circle.hats) - 1
        # One with changes not yet saved is never adopted.
        kept.adopt(circle)
        assert kept.peek(circle.id) is fresh
    finally:
        node.close()


def test_a_copy_shares_only_what_never_changes(tmp_path: Path) -> None:
    import copy

    node = open_node(Settings(data_dir=tmp_path / "node"))
    try:
        ada = node.circle.found_circle(
            name="Kitchen", aim="Feed", domain="Food", founder_name="Ada"
        )
        ben = node.people.add_founding_member(ada, "Ben")
        proposal = node.proposals.draft_proposal(ada, "Rota", "Share the rota")
        node.proposals.present(ada, proposal)
        node.proposals.open_reactions(ada, proposal)
        node.consent.open_consent_round(ada, proposal)
        node.consent.consent(ada, proposal, "tight")
        node.consent.raise_objection(ben, proposal, "Ben cannot do Sundays")
        process = node.records.get_proposal(proposal)
        twin = copy.deepcopy(process)
        # Answers are never changed once given: shared. Everything else is the copy's own.
        assert twin.answers[ada] is process.answers[ada]
        assert twin.answers is not process.answers and twin.answers == process.answers
        assert twin.objections[0] is not process.objections[0]
        assert twin.objections == process.objections
        assert twin.id == process.id and twin.version == process.version
        twin.objections[0].withdrawn = True
        del twin.answers[ada]
        assert not process.objections[0].withdrawn and ada in process.answers
        circle = node.records.get_circle()
        assert copy.deepcopy(circle).participants == circle.participants
        assert copy.deepcopy(circle).participants is not circle.participants
    finally:
        node.close()


def test_a_listing_reads_its_kept_records_at_once_and_follows_the_store(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = Settings(data_dir=tmp_path / "node")
    first, second = open_node(settings), open_node(settings)
    try:
        ada, hat = found_with_hat(first)
        taken = [
            first.decisions.take_everyday_decision(ada, hat, HAT_AREA, f"Rota {n}", "Sundays")
            for n in range(30)
        ]
        assert [str(d.id) for d in first.records.list_decisions()] == taken
        # Another worker challenges two of them: the next listing here shows it.
        second.decisions.challenge_decision(ada, taken[3], "Sundays are hard for some")
        second.decisions.challenge_decision(ada, taken[17], "And for others")
        reads: list[object] = []
        select_events = first.store.recorder.select_events

        def counted(originator_id: object, **options: object) -> object:
            reads.append(originator_id)
            return select_events(originator_id, **options)  # type: ignore[arg-type]

        monkeypatch.setattr(first.store.recorder, "select_events", counted)
        listed = first.records.list_decisions()
        assert [str(d.id) for d in listed] == taken
        assert [n for n, d in enumerate(listed) if d.challenges] == [3, 17]
        # One read for the thirty kept decisions, not one each (the index has its own).
        assert not {UUID(t) for t in taken} & set(reads)
    finally:
        first.close()
        second.close()


def test_a_listing_larger_than_the_kept_set_does_not_push_out_the_circle(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    node = open_node(Settings(data_dir=tmp_path / "node"))
    try:
        ada, hat = found_with_hat(node)
        taken = [
            node.decisions.take_everyday_decision(ada, hat, HAT_AREA, f"Rota {n}", "Sundays")
            for n in range(20)
        ]
        monkeypatch.setattr("node.store.kept.KEPT", 8)
        small = Kept(node.store.repository, size=8)
        monkeypatch.setattr(node.store, "kept", small)
        node.records.peek_circle()
        node.feed.own_feed()
        assert [str(d.id) for d in node.records.list_decisions()] == taken
        kept = set(small._kept)
        assert {node.records.circle_id, OWN_FEED_ID} <= kept and {UUID(t) for t in taken} <= kept
    finally:
        node.close()


def test_events_after_many_versions_in_one_read_are_those_read_one_by_one(
    open_store: NodeOpener, monkeypatch: pytest.MonkeyPatch
) -> None:
    node = open_store()
    ada, hat = found_with_hat(node)
    for n in range(5):
        node.decisions.take_everyday_decision(ada, hat, HAT_AREA, f"Rota {n}", "Sundays")
    monkeypatch.setattr("node.store.sqlite_store.LATER_CHUNK", 3)  # several statements
    recorder = node.store.recorder
    versions = [
        (aggregate_id, version)
        for aggregate_id in (node.records.circle_id, OWN_FEED_ID, index_id("decision"), uuid4())
        for version in (0, 1, 3)
    ]
    one_by_one = [
        (e.originator_id, e.originator_version, e.topic, e.state)
        for aggregate_id, version in versions
        for e in recorder.select_events(aggregate_id, gt=version)
    ]
    at_once = [
        (e.originator_id, e.originator_version, e.topic, e.state)
        for e in events_after(recorder, versions)
    ]
    assert one_by_one and sorted(at_once, key=str) == sorted(one_by_one, key=str)
    # In one read where the store can.
    assert hasattr(recorder, "select_later") == (open_store.kind != "memory")  # type: ignore[attr-defined]


def test_a_window_reads_only_its_records_and_follows_another_workers_filings(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = Settings(data_dir=tmp_path / "node")
    first, second = open_node(settings), open_node(settings)
    try:
        ada, hat = found_with_hat(first)
        taken = [
            first.decisions.take_everyday_decision(ada, hat, HAT_AREA, f"Rota {n}", "Sundays")
            for n in range(10)
        ]
        assert first.records.ids("decision") == tuple(UUID(t) for t in taken)
        # Another worker files two more: the next window here holds them.
        taken += [
            second.decisions.take_everyday_decision(ada, hat, HAT_AREA, f"Late {n}", "Mondays")
            for n in range(2)
        ]
        reads: list[object] = []
        peek_all = first.store.kept.peek_all

        def counted(ids: list[UUID]) -> list[object]:
            reads.extend(ids)
            return peek_all(ids)

        monkeypatch.setattr(first.store.kept, "peek_all", counted)
        window, total = first.records.window("decision", Decision, 8, 3)
        assert [str(d.id) for d in window] == taken[8:11] and total == 12
        assert reads == [UUID(t) for t in taken[8:11]]
    finally:
        first.close()
        second.close()


def test_newest_first_reads_from_the_last_filed_back_only_as_far_as_asked(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    node = open_node(Settings(data_dir=tmp_path / "node"))
    try:
        ada, hat = found_with_hat(node)
        taken = [
            node.decisions.take_everyday_decision(ada, hat, HAT_AREA, f"Rota {n}", "Sundays")
            for n in range(NEWEST_READ * 2 + 5)
        ]
        reads: list[UUID] = []
        peek_all = node.store.kept.peek_all

        def counted(ids: list[UUID]) -> list[object]:
            reads.extend(ids)
            return peek_all(ids)

        monkeypatch.setattr(node.store.kept, "peek_all", counted)
        newest = node.records.newest_first("decision", Decision)
        assert str(next(newest).id) == taken[-1]
        assert reads == [UUID(t) for t in taken[-NEWEST_READ:]]  # one read of the newest few
        # Read on to the first: every decision once, newest first.
        assert [str(d.id) for d in newest] == taken[-2::-1]
        assert sorted(reads) == sorted(UUID(t) for t in taken)
    finally:
        node.close()


def test_an_aggregate_not_found_is_asked_for_again_in_one_read_and_found_once_saved(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = Settings(data_dir=tmp_path / "node")
    first, second = open_node(settings), open_node(settings)
    try:
        first.circle.found_circle(name="Kitchen", aim="Feed", domain="Food", founder_name="Ada")
        kept = first.store.kept
        missing = index_id("plan")  # no plan filed yet: no index of plans
        with pytest.raises(AggregateNotFoundError):
            kept.peek(missing)
        reads: list[str] = []
        for name, recorder in (
            ("events", first.store.recorder),
            ("snapshots", first.store.snapshots.recorder),  # type: ignore[union-attr]
        ):
            monkeypatch.setattr(recorder, "select_events", _counted(recorder, name, reads))
        # Asked again (as the node asks for the messages it holds back after every save):
        # one read of its events, not a load from its snapshot and its events.
        with pytest.raises(AggregateNotFoundError):
            kept.peek(missing)
        assert reads == ["events"]
        # Another worker makes it: the next use here finds it, and keeps it.
        second.save(Index(kind="plan"))
        assert kept.peek(missing).kind == "plan"
        reads.clear()
        assert kept.peek(missing).kind == "plan"
        assert reads == ["events"]  # the events after the kept version, as for any kept one
    finally:
        first.close()
        second.close()


def test_the_aggregates_remembered_as_not_found_are_at_most_the_kept_size(
    tmp_path: Path,
) -> None:
    node = open_node(Settings(data_dir=tmp_path / "node"))
    try:
        kept = Kept(node.store.repository, size=3)
        asked = [uuid4() for _ in range(5)]
        for aggregate_id in asked:
            with pytest.raises(AggregateNotFoundError):
                kept.peek(aggregate_id)
        assert list(kept._missing) == asked[2:]  # the most recently asked
    finally:
        node.close()


def _counted(recorder: object, name: str, reads: list[str]) -> object:
    select_events = recorder.select_events  # type: ignore[attr-defined]

    def counted(*args: object, **options: object) -> object:
        reads.append(name)
        return select_events(*args, **options)

    return counted


def test_an_aggregate_missing_is_looked_for_again_by_its_events_alone(tmp_path: Path) -> None:
    """A node before its circle is founded asks at every run taken whether it has one: the
    register, missing, is looked for again with one read of its events, not its snapshot
    then its events; once another handle stores it, it is found."""
    settings = Settings(data_dir=tmp_path / "node")
    first, second = open_node(settings), open_node(settings)
    reads: list[str] = []
    events = second.store.events.recorder
    assert second.store.snapshots is not None
    snapshots = second.store.snapshots.recorder

    def counted(recorder: object, name: str) -> None:
        select = recorder.select_events  # type: ignore[attr-defined]

        def select_events(*args: object, **kwargs: object) -> object:
            reads.append(name)
            return select(*args, **kwargs)

        recorder.select_events = select_events  # type: ignore[attr-defined]

    counted(events, "events")
    counted(snapshots, "snapshots")
    try:
        assert not second.records.is_founded
        reads.clear()
        assert not second.records.is_founded
        assert reads == ["events"], reads
        first.circle.found_circle(name="Kitchen", aim="Feed", domain="Food", founder_name="Ada")
        assert second.records.is_founded
        assert second.records.circle_id == first.records.circle_id
    finally:
        first.close()
        second.close()
