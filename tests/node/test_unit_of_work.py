"""The unit of work every command runs in (node/app/work.py): the circle read once."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from bench.circles import HAT_AREA, found_with_hat
from node.app.persistence import open_node
from node.app.work import UnitOfWork
from node.settings import Settings


def test_a_command_reads_the_circle_from_the_store_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    node = open_node(Settings(data_dir=tmp_path / "node"))
    try:
        ada, hat = found_with_hat(node)
        peeked: list[Any] = []
        peek = node.store.kept.peek

        def counted(aggregate_id: Any) -> Any:
            peeked.append(aggregate_id)
            return peek(aggregate_id)

        monkeypatch.setattr(node.store.kept, "peek", counted)
        # An everyday decision: its date in the circle's time zone, and its checks of the hat,
        # read the circle as stored once.
        node.decisions.take_everyday_decision(ada, hat, HAT_AREA, "Rota", "Sundays in turn")
        assert peeked.count(node.records.circle_id) == 1
    finally:
        node.close()


def test_the_units_copy_of_the_circle_is_its_own_and_the_shared_one_as_stored(
    tmp_path: Path,
) -> None:
    node = open_node(Settings(data_dir=tmp_path / "node"))
    try:
        ada, _ = found_with_hat(node)
        uow = UnitOfWork(node.records)
        shared = uow.shared_circle()
        assert shared is node.records.peek_circle()  # as kept: nothing was saved since
        mine = uow.circle()
        assert mine is not shared and mine.version == shared.version
        assert uow.circle() is mine  # one copy per unit
        mine.define_hat(ada, "Cook", "Cooks", [], ["food"], 12, "operational")
        assert mine.pending_events and not shared.pending_events
        assert len(shared.hats) == len(mine.hats) - 1
        assert uow.shared_circle() is shared
    finally:
        node.close()


def test_a_consent_reads_the_circle_once(tmp_path: Path) -> None:
    node = open_node(Settings(data_dir=tmp_path / "node"))
    try:
        ada = node.circle.found_circle(
            name="Kitchen", aim="Feed", domain="Food", founder_name="Ada"
        )
        ben = node.people.add_founding_member(ada, "Ben")
        proposal = node.proposals.draft_proposal(ada, "Rota", "Share the rota fairly")
        node.proposals.present(ada, proposal)
        node.proposals.open_reactions(ada, proposal)
        node.consent.open_consent_round(ada, proposal)
        circle_id = node.records.circle_id
        recorder: Any = node.store.events.recorder
        select_events = recorder.select_events
        reads: list[object] = []

        def counted(*args: object, **kwargs: object) -> object:
            reads.append(kwargs.get("originator_id", args[0] if args else None))
            return select_events(*args, **kwargs)

        recorder.select_events = counted
        node.consent.consent(ben, proposal)
        assert reads.count(circle_id) == 1
        assert node.records.get_process(proposal).answers[ben].consents
    finally:
        node.close()
