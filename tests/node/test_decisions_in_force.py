"""The decisions in force a member circle's summary reads (node/app/decisions_in_force.py):
the same lists as every decision read afresh, kept up to date by the node's own saves and by
another worker's on the same store, without reading every decision again.

Cast: Ada founds the kitchen and wears its rota hat; a second worker serves the same store.
"""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pytest

from bench.circles import HAT_AREA, found_with_hat
from domain.decision import Decision
from domain.values import DecisionKind, Purpose
from node.app.node import CircleNode
from node.app.persistence import open_node
from node.demo.scripted import consent_to
from node.settings import Settings
from tests.conftest import Clock


def read_afresh(node: CircleNode, today: date) -> tuple[list[str], list[str]]:
    """The lists as every decision says them now."""
    decisions = node.records.list_decisions()
    policies = sorted(d.title for d in decisions if d.in_force and d.kind == DecisionKind.POLICY)
    return policies, sorted(d.title for d in decisions if d.is_review_due(today))


def test_the_lists_follow_own_saves_and_another_workers(
    tmp_path: Path, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = Settings(data_dir=tmp_path / "kitchen")
    first, second = open_node(settings, clock), open_node(settings, clock)
    try:
        # Given: everyday decisions, two reviewed soon, and a policy; the lists read once.
        ada, hat = found_with_hat(first)
        today = first.records.today()
        soon = today + timedelta(days=3)
        for n in range(5):
            review = soon if n < 2 else None
            first.decisions.take_everyday_decision(
                ada, hat, HAT_AREA, f"Rota {n}", "Sundays", review_date=review
            )
        consent_to(first, Purpose.ADOPT_POLICY, {}, title="Quiet hours")
        in_force = first.records.decisions_in_force
        assert in_force.lists(today) == (["Quiet hours"], [])

        # When: this worker adopts another policy, and the other worker takes a decision and
        # revokes the first policy; then the reviews come due.
        listed = first.records.list_decisions

        def not_again(ids: object) -> list[Decision]:
            raise AssertionError("every decision was read again")

        monkeypatch.setattr(first.store.kept, "replay_all", not_again)
        consent_to(first, Purpose.ADOPT_POLICY, {}, title="Shared fridge")
        second.decisions.take_everyday_decision(
            ada, hat, HAT_AREA, "Late rota", "Mondays", review_date=soon
        )
        (quiet,) = [d for d in listed() if d.title == "Quiet hours"]
        consent_to(second, Purpose.REVOKE_DECISION, {"decision_id": str(quiet.id)}, title="No more")
        later = soon + timedelta(days=1)

        # Then: the lists are those every decision gives, read without reading them all.
        assert in_force.lists(today) == (["Shared fridge"], [])
        assert in_force.lists(later) == (["Shared fridge"], ["Late rota", "Rota 0", "Rota 1"])
        assert in_force.lists(later) == read_afresh(first, later)
    finally:
        first.close()
        second.close()


def test_pending_changes_count_as_the_save_leaves_them(tmp_path: Path, clock: Clock) -> None:
    node = open_node(Settings(data_dir=tmp_path / "kitchen"), clock)
    try:
        # Given: a policy in force, read once.
        found_with_hat(node)
        consent_to(node, Purpose.ADOPT_POLICY, {}, title="Quiet hours")
        today = node.records.today()
        in_force = node.records.decisions_in_force
        assert in_force.lists(today) == (["Quiet hours"], [])
        # When: a change not yet saved revokes it (as a save's summary sees it).
        (policy,) = node.records.list_decisions()
        pending = node.records.get_decision(policy.id)
        pending._revoked("a proposal")
        # Then: the lists leave it out, and the stored state is unchanged.
        assert in_force.lists(today, [pending]) == ([], [])
        assert in_force.lists(today) == (["Quiet hours"], [])
    finally:
        node.close()


def test_a_restarted_node_builds_the_lists_in_a_few_reads_keeping_no_decision(
    tmp_path: Path, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = Settings(data_dir=tmp_path / "kitchen")
    node = open_node(settings, clock)
    try:
        # Given: twenty-five everyday decisions, some reviewed soon, a policy adopted and one
        # revoked, in a store a node opens afresh (nothing of it in memory).
        ada, hat = found_with_hat(node)
        soon = node.records.today() + timedelta(days=3)
        for n in range(25):
            review = soon if n % 4 == 0 else None
            node.decisions.take_everyday_decision(
                ada, hat, HAT_AREA, f"Rota {n}", "Sundays", review_date=review
            )
        consent_to(node, Purpose.ADOPT_POLICY, {}, title="Quiet hours")
        consent_to(node, Purpose.ADOPT_POLICY, {}, title="Shared fridge")
        (quiet,) = [d for d in node.records.list_decisions() if d.title == "Quiet hours"]
        consent_to(node, Purpose.REVOKE_DECISION, {"decision_id": str(quiet.id)}, title="No more")
        decision_ids = set(node.records.ids("decision"))
        later = soon + timedelta(days=1)
        expected = read_afresh(node, later)
    finally:
        node.close()
    node = open_node(settings, clock)
    try:
        recorder = node.store.recorder
        reads: list[object] = []
        select_events, select_later = recorder.select_events, recorder.select_later

        def counted_events(originator_id: object, **options: object) -> object:
            reads.append(originator_id)
            return select_events(originator_id, **options)  # type: ignore[arg-type]

        def counted_later(versions: list[tuple[object, int]]) -> object:
            reads.append(len(versions))
            return select_later(versions)

        monkeypatch.setattr(recorder, "select_events", counted_events)
        monkeypatch.setattr(recorder, "select_later", counted_later)
        monkeypatch.setattr("node.store.kept.REPLAYED", 10)
        # When: the lists are first read.
        lists = node.records.decisions_in_force.lists(later)
        # Then: they are those every decision gives, read ten decisions to a read, not one
        # each; and none of the decisions is kept in memory for it.
        assert lists == expected
        assert (
            len(decision_ids) == 27 and expected[0] == ["Shared fridge"] and len(expected[1]) == 7
        )
        assert not decision_ids & set(reads)
        assert [r for r in reads if isinstance(r, int)] == [10, 10, 7]
        assert not decision_ids & set(node.store.kept._kept)
    finally:
        node.close()
