"""The Node.js peer for the catch-up row: hypercore 10 replicating between two in-memory cores.

bench/peers/package.json (and its package-lock.json) pin `hypercore` and
`random-access-memory`; the bench installs them itself with `npm ci` into bench/peers/ (the one
download it ever makes, from the npm registry, and only when node_modules is not there yet).
bench/peers/replicate.js appends COUNT x 200-byte entries to one core, replicates them to a
second core in the same process (each block verified by the reader against the writer's
signed Merkle tree) and prints entries/s as JSON.

Without Node.js or npm, or when the install or the run fails, `replicate` returns None with the
reason, and the bench carries on.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

PEERS = Path(__file__).parent / "peers"
ENTRY_SIZE = 200


@dataclass(frozen=True)
class Replication:
    entries: int
    seconds: float
    rate: float  # entries per second
    version: str  # hypercore's version, as installed


def _installed() -> bool:
    return (PEERS / "node_modules" / "hypercore" / "package.json").exists()


def install() -> str | None:
    """Install the pinned packages with `npm ci` unless they are there; None, or why not."""
    if shutil.which("node") is None:
        return "Node.js is not installed"
    if _installed():
        return None
    npm = shutil.which("npm")
    if npm is None:
        return "npm is not installed"
    try:
        result = subprocess.run(
            [npm, "ci", "--no-audit", "--no-fund", "--loglevel=error"],
            cwd=PEERS,
            capture_output=True,
            text=True,
            timeout=300,
        )
    except (OSError, subprocess.TimeoutExpired) as error:
        return f"npm ci failed: {error}"
    if result.returncode != 0 or not _installed():
        last = (result.stderr or result.stdout).strip().splitlines()[-1:] or ["no output"]
        return f"npm ci failed: {last[0][:200]}"
    return None


def replicate(count: int, runs: int = 1) -> tuple[Replication | None, str]:
    """Run the hypercore replication of `count` entries `runs` times: (the median run's
    figures, "") or (None, why not)."""
    problem = install()
    if problem is not None:
        return None, problem
    done = []
    for _ in range(runs):
        replication, problem = _replicate(count)
        if replication is None:
            return None, problem
        done.append(replication)
    return sorted(done, key=lambda r: r.rate)[len(done) // 2], ""


def _replicate(count: int) -> tuple[Replication | None, str]:
    node = shutil.which("node")
    assert node is not None
    try:
        result = subprocess.run(
            [node, "replicate.js", str(count), str(ENTRY_SIZE)],
            cwd=PEERS,
            capture_output=True,
            text=True,
            timeout=600,
        )
    except (OSError, subprocess.TimeoutExpired) as error:
        return None, f"replicate.js failed: {error}"
    if result.returncode != 0:
        last = result.stderr.strip().splitlines()[-1:] or ["no output"]
        return None, f"replicate.js failed: {last[0][:200]}"
    try:
        data = json.loads(result.stdout.strip().splitlines()[-1])
        return (
            Replication(
                entries=int(data["entries"]),
                seconds=float(data["seconds"]),
                rate=float(data["entries_per_s"]),
                version=str(data["hypercore"]),
            ),
            "",
        )
    except (ValueError, KeyError, IndexError) as error:
        return None, f"replicate.js printed no result: {error}"
