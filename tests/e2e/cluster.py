"""End-to-end helpers: the package's local cluster, and the CLI run as a subprocess."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from node.demo.local_cluster import LocalNode as NodeProcess
from node.demo.local_cluster import local_cluster as cluster
from node.demo.local_cluster import wait_for

ROOT = Path(__file__).resolve().parents[2]

__all__ = ["NodeProcess", "cli", "cluster", "wait_for"]


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "node", *args],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT,
    )
