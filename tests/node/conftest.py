"""Fixtures shared by the node's tests."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from node.app.node import CircleNode
from node.app.persistence import open_node
from node.settings import Settings
from tests.conftest import Clock
from tests.node.circles import make_active, make_member


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


@pytest.fixture
def nodes(tmp_path: Path) -> Iterator[Callable[[str], CircleNode]]:
    """Opens nodes by name, as `make` does but on the real clock (for delivery, whose timers
    and backoffs run on it); closes them afterwards."""
    opened: list[CircleNode] = []

    def open_one(name: str) -> CircleNode:
        opened.append(open_node(Settings(data_dir=tmp_path / name)))
        return opened[-1]

    yield open_one
    for node in opened:
        node.close()


@pytest.fixture
def linked(make: Callable[[str], CircleNode]) -> dict[str, CircleNode]:
    """Two nodes: the co-op and the kitchen, each active, the kitchen a member circle of the
    co-op (each step by consent, everything moved between them)."""
    nodes = {}
    for key in ("coop", "kitchen"):
        node = make(key)
        node.circle.found_circle(name=key, aim="Care", domain="Care", founder_name=f"{key} founder")
        make_active(node)
        nodes[key] = node
    make_member(nodes, "coop", "kitchen")
    return nodes
