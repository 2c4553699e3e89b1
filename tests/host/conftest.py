"""What the host's tests share: a separate single-circle node beside the host."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from node.demo.local_cluster import LocalNode
from tests.host.test_serve_host import cli


@pytest.fixture
def outside(tmp_path: Path) -> Iterator[LocalNode]:
    """A separate single-circle node, served as today."""
    node = LocalNode(tmp_path, "coop", pull_interval=1.0)
    cli(
        "init", "--data", str(node.data), "--name", "Co-op", "--aim", "Hold us",
        "--domain", "All", "--founder", "Bea",
    )  # fmt: skip
    try:
        node.start()
        yield node
    finally:
        node.stop()
