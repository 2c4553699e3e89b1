"""Starting and stopping `circle-node serve` over and over: on a port another process holds
(one line, exit 1, the store untouched), and stopped by SIGTERM or SIGINT at random moments
from the instant it has started (exit 0). No start or stop crashes the process: stopping once
closed the store while delivery's threads still read it (SIGSEGV in 10 of 20 starts on a taken
port). 20 cycles under `make test`, 200 under `make soak`."""

from __future__ import annotations

import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from node.app.persistence import open_node
from node.demo.local_cluster import free_port
from node.settings import Settings
from tests.reliability.harness import ROOT, SOAK, record, scaled

pytestmark = pytest.mark.timeout(1800 if SOAK else 120)

STARTED = "Application startup complete"
CRASHED = ("Traceback", "Fatal Python error", "Segmentation fault")


def _serve(data: Path, port: int, log: Path) -> subprocess.Popen[bytes]:
    with log.open("wb") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "node", "serve", "--data", str(data), "--port", str(port)],
            stdout=out,
            stderr=subprocess.STDOUT,
            env={**os.environ, "PYTHONUNBUFFERED": "1", "PYTHONFAULTHANDLER": "1"},
            cwd=ROOT,
        )


def _wait_for_start(process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 30
    while STARTED not in log.read_text(errors="replace"):
        assert process.poll() is None, f"exited {process.returncode}:\n{log.read_text()[-3000:]}"
        assert time.monotonic() < deadline, f"no start within 30 s:\n{log.read_text()[-3000:]}"
        time.sleep(0.01)


def _cycle(data: Path, number: int, rng: random.Random) -> dict[str, Any]:
    """One start and stop; the case is chosen by `number`: a taken port, SIGTERM, SIGINT."""
    log = data.parent / f"{data.name}-{number}.log"
    case = ("taken", "SIGTERM", "SIGINT")[number % 3]
    port = free_port()
    holder = None
    if case == "taken":
        holder = socket.create_server(("127.0.0.1", port))
    try:
        process = _serve(data, port, log)
        delay = 0.0
        if case != "taken":
            _wait_for_start(process, log)
            delay = rng.choice((0.0, 0.0, rng.uniform(0, 0.3)))  # mostly at once
            time.sleep(delay)
            process.send_signal(signal.SIGTERM if case == "SIGTERM" else signal.SIGINT)
        code = process.wait(timeout=60)
    finally:
        if holder is not None:
            holder.close()
    output = log.read_text(errors="replace")
    assert code >= 0, f"{case}: killed by signal {-code}:\n{output[-3000:]}"
    assert not any(crash in output for crash in CRASHED), f"{case}:\n{output[-3000:]}"
    if case == "taken":
        assert code == 1, output
        assert output.strip() == f"error: cannot listen on 127.0.0.1:{port}: Address already in use"
    else:
        assert code == 0, f"{case} after {delay:.2f} s: exit {code}:\n{output[-3000:]}"
    return {"case": case, "delay": round(delay, 3), "exit": code}


def test_serve_starts_and_stops_without_crashing(tmp_path: Path, rng: random.Random) -> None:
    cycles = scaled(20, 200)
    # Two nodes in turn side by side (each its own copy of one founded node): half the time.
    first = tmp_path / "node0"
    store = open_node(Settings(data_dir=first))
    try:
        store.circle.found_circle(name="Kitchen", aim="Feed", domain="Food", founder_name="Ada")
        node_id = store.feed.node_id
    finally:
        store.close()
    folders = [first, tmp_path / "node1"]
    shutil.copytree(first, folders[1])
    seeds = [rng.getrandbits(32) for _ in folders]

    def run(lane: int) -> list[dict[str, Any]]:
        lane_rng = random.Random(seeds[lane])
        return [
            _cycle(folders[lane], number, lane_rng) for number in range(lane, cycles, len(folders))
        ]

    with ThreadPoolExecutor(len(folders)) as lanes:
        done = [each for lane in lanes.map(run, range(len(folders))) for each in lane]
    # Every stop left a store that opens as the same node.
    for folder in folders:
        again = open_node(Settings(data_dir=folder))
        try:
            assert again.feed.node_id == node_id
            assert again.records.get_circle().name == "Kitchen"
        finally:
            again.close()
    record("start_stop", {"cycles": len(done), "runs": done})
    assert len(done) == cycles
