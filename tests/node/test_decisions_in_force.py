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

        def not_again() -> list[Decision]:
            raise AssertionError("every decision was read again")

        monkeypatch.setattr(first.records, "list_decisions", not_again)
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
        monkeypatch.setattr(first.records, "list_decisions", listed)
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
