"""End-to-end helpers: the package's local cluster, the CLI run as a subprocess, and nodes
started side by side."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterable
from pathlib import Path

from node.demo.local_cluster import LocalNode as NodeProcess
from node.demo.local_cluster import free_port, wait_for
from node.demo.local_cluster import local_cluster as cluster

ROOT = Path(__file__).resolve().parents[2]

__all__ = ["NodeProcess", "cli", "cluster", "start_all", "wait_for"]


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "node", *args],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT,
    )


def start_all(nodes: Iterable[NodeProcess]) -> None:
    """Start every node, as `NodeProcess.start` does each, but side by side: all are spawned
    before any is waited for (each process spends its first seconds importing). One whose
    port was taken first is started again by `start`, on a new port."""
    spawned = list(nodes)
    for node in spawned:
        node.spawn()
    for node in spawned:
        try:
            wait_for(node.healthy, 30, f"{node.name} to serve")
        except RuntimeError as error:
            if "address already in use" not in str(error).lower():
                raise
            node.stop()
            node.port = free_port()
            node.url = f"http://127.0.0.1:{node.port}"
            node.start()
