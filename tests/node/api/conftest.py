"""Fixtures of the member API's tests: a node on SQLite in the test's folder, and its circle."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from node.app.node import CircleNode
from node.app.persistence import open_node
from node.settings import Settings
from tests.conftest import Clock
from tests.node.api.world import Circle, kitchen


@pytest.fixture
def api_node(tmp_path: Path, clock: Clock) -> Iterator[CircleNode]:
    node = open_node(Settings(data_dir=tmp_path / "kitchen"), clock)
    yield node
    node.close()


@pytest.fixture
def circle(api_node: CircleNode) -> Circle:
    return kitchen(api_node)
