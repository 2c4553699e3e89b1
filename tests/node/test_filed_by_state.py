"""The proposals by their stage (node/app/filed_by_state.py): the same pages as every proposal
read afresh and kept to one stage, kept up to date by the node's own saves and by another
worker's on the same store, right after the node opens again, without reading every proposal
again.

Cast: Ada founds the kitchen; a second worker serves the same store.
"""

from __future__ import annotations

from pathlib import Path
from uuid import UUID

import pytest

from bench.circles import found_with_hat
from domain.proposal import Proposal
from domain.values import Stage
from node.app.node import CircleNode
from node.app.persistence import open_node
from node.settings import Settings
from tests.conftest import Clock


def read_afresh(node: CircleNode, stage: Stage) -> list[UUID]:
    """The proposals at the stage, as every proposal says it now, in the order drafted."""
    return [p.id for p in node.records.list_proposals() if p.stage == stage]


def same_as_read_afresh(node: CircleNode, size: int = 2) -> None:
    for stage in Stage:
        whole = read_afresh(node, stage)
        paged: list[UUID] = []
        for offset in range(0, len(whole) + size, size):
            window, total = node.records.proposals_by_stage.window(stage, offset, size)
            assert total == len(whole), stage
            paged += [proposal.id for proposal in window]
        assert paged == whole, stage


def never_listed(node: CircleNode, monkeypatch: pytest.MonkeyPatch) -> None:
    """Reading every proposal again fails the test from now on."""
    kept = node.store.kept
    peek_all = kept.peek_all

    def few(ids: list[UUID]) -> list[Proposal]:
        every = node.records.ids("proposal")
        assert len(every) < 4 or not set(every) <= set(ids), "every proposal was read again"
        return peek_all(ids)

    monkeypatch.setattr(kept, "peek_all", few)


def test_pages_follow_own_saves_another_workers_and_a_restart(
    tmp_path: Path, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = Settings(data_dir=tmp_path / "kitchen")
    first, second = open_node(settings, clock), open_node(settings, clock)
    try:
        # Given: proposals drafted, two presented; the pages read once.
        ada, _ = found_with_hat(first)
        drafted = [first.proposals.draft_proposal(ada, f"Idea {n}", "Text") for n in range(6)]
        for proposal in drafted[:2]:
            first.proposals.present(ada, proposal)
        same_as_read_afresh(first)

        # When: this worker presents another and drafts one; the other worker withdraws one
        # and drafts two.
        with monkeypatch.context() as patched:
            never_listed(first, patched)
            first.proposals.present(ada, drafted[2])
            first.proposals.draft_proposal(ada, "Late idea", "Text")
            second.consent.withdraw(ada, drafted[0])
            for n in range(2):
                second.proposals.draft_proposal(ada, f"Other idea {n}", "Text")
            # Then: the pages are those every proposal gives, read without reading them all.
            for stage in (Stage.DRAFT, Stage.PRESENTED, Stage.WITHDRAWN):
                window, total = first.records.proposals_by_stage.window(stage, 0, 3)
                assert [p.id for p in window] == read_afresh(second, stage)[:3]
                assert total == len(read_afresh(second, stage))
        same_as_read_afresh(first)
        same_as_read_afresh(second)
    finally:
        first.close()
        second.close()

    # And: once the node opens again, its pages are right, and follow its saves.
    again = open_node(settings, clock)
    try:
        same_as_read_afresh(again)
        again.proposals.present(ada, drafted[3])
        same_as_read_afresh(again)
    finally:
        again.close()
