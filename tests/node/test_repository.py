"""Aggregates are replayed from their events as the library does, without its per-event
runtime Protocol check."""

from __future__ import annotations

from typing import Any

import pytest
from eventsourcing.application import project_aggregate
from eventsourcing.domain import CanMutateProtocol

from domain.values import Level
from node.app.node import CircleNode
from node.store.repository import Repository


def test_a_circle_replays_from_its_events_as_the_library_replays_it(
    node: CircleNode, monkeypatch: pytest.MonkeyPatch
) -> None:
    ada = node.circle.found_circle(
        name="Kitchen", aim="Feed people", domain="Food", founder_name="Ada"
    )
    ben = node.people.add_founding_member(ada, "Ben")
    for level in [Level.LEARNING, Level.FULL] * 60:
        node.people.change_level(ada, ben, level)
    assert isinstance(node.store.repository, Repository)
    node.store.repository.snapshot_store = None  # from the events alone
    ours = node.store.repository.get(node.records.circle_id)
    library = node.store.repository.get(node.records.circle_id, projector_func=project_aggregate)
    assert ours.version == library.version > 120
    assert vars(ours) == vars(library)

    # The Protocol check is not made: replay works with it refusing every event.
    def refuse(cls: Any, instance: Any) -> bool:
        raise AssertionError("checked")

    monkeypatch.setattr(type(CanMutateProtocol), "__instancecheck__", refuse)
    assert node.store.repository.get(node.records.circle_id).version == ours.version
