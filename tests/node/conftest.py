"""Fixtures shared by the node's tests."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from node.app.node import CircleNode
from node.app.persistence import open_node
from node.settings import Settings
from tests.conftest import Clock


@pytest.fixture
def make(tmp_path: Path, clock: Clock) -> Iterator[Callable[[str], CircleNode]]:
    """Opens nodes by name, each with a SQLite store of its own; closes them afterwards."""
    opened: list[CircleNode] = []

    def make(name: str) -> CircleNode:
        node = open_node(Settings(data_dir=tmp_path / name), clock)
        opened.append(node)
        return node

    yield make
    for node in opened:
        node.close()
