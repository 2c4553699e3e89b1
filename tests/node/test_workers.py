"""`serve --workers N` as real processes: refused on SQLite before anything starts; on
PostgreSQL, the workers answer on one port (each says its pid in `X-Worker`) and their metrics
add up, a worker killed is replaced, SIGTERM or SIGINT stops them all (each closes its store)
with exit 0, and workers whose parent is killed stop too."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from node.demo.local_cluster import free_port, wait_for

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.timeout(180)


def _command(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "node", *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
        env={**os.environ, **(env or {})},
    )


@pytest.mark.parametrize("given", ["flag", "file"])
def test_several_workers_on_sqlite_are_refused_in_one_line_before_anything_starts(
    tmp_path: Path, given: str
) -> None:
    data = tmp_path / "garden"
    founded = _command(
        *("init", "--data", str(data), "--name", "Garden", "--aim", "Grow food"),
        *("--domain", "The garden", "--founder", "Ada"),
        env={"CIRCLE_NODE_DATABASE_URL": ""},
    )
    assert founded.returncode == 0, founded.stderr
    port = free_port()
    if given == "file":
        (data / "circle-node.toml").write_text("workers = 3\n")
    refused = _command(
        "serve", "--data", str(data), "--port", str(port),
        *(["--workers", "3"] if given == "flag" else []),
        env={"CIRCLE_NODE_DATABASE_URL": ""},
    )  # fmt: skip
    assert refused.returncode == 1
    assert refused.stderr.startswith("error: several workers need PostgreSQL"), refused.stderr
    assert refused.stderr.count("\n") == 1
    assert refused.stdout == ""
    with socket.create_server(("127.0.0.1", port)):  # the port was never taken
        pass


@dataclass
class Workers:
    process: subprocess.Popen[bytes]
    url: str
    log: Path
    health_checks: int = 0

    def answering(self, tries: int = 60) -> set[int]:
        """The pids in `X-Worker` of `tries` requests to /healthz, each on a new connection."""
        pids = set()
        for _ in range(tries):
            with urllib.request.urlopen(f"{self.url}/healthz", timeout=10) as response:
                pids.add(int(response.headers["X-Worker"]))
            self.health_checks += 1
        return pids

    def metrics(self) -> tuple[float, set[int]]:
        """From /metrics, whichever worker answers: the health checks counted, and the pids
        that the process metrics are given for."""
        with urllib.request.urlopen(f"{self.url}/metrics", timeout=10) as response:
            text = response.read().decode()
        checks = sum(
            float(line.rsplit(" ", 1)[1])
            for line in text.splitlines()
            if line.startswith("circle_node_requests_total{") and 'route="/healthz"' in line
        )
        pids = set(map(int, re.findall(r'^process_start_time_seconds\{pid="(\d+)"', text, re.M)))
        return checks, pids

    def children(self) -> set[int]:
        found = subprocess.run(
            ["ps", "--ppid", str(self.process.pid), "-o", "pid="], capture_output=True, text=True
        )
        return {int(pid) for pid in found.stdout.split()}

    def text(self) -> str:
        return self.log.read_text(errors="replace")


@pytest.fixture
def workers(tmp_path: Path, postgres_url: str) -> Iterator[Workers]:
    """A node on PostgreSQL served by two workers."""
    env = {"CIRCLE_NODE_DATABASE_URL": postgres_url}
    data = tmp_path / "coop"
    founded = _command(
        *("init", "--data", str(data), "--name", "Co-op", "--aim", "Share"),
        *("--domain", "The co-op", "--founder", "Ada"),
        env=env,
    )
    assert founded.returncode == 0, founded.stderr
    port = free_port()
    log = tmp_path / "serve.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "node", "serve", "--data", str(data), "--port", str(port),
             "--workers", "2"],
            stdout=out, stderr=subprocess.STDOUT, cwd=ROOT,
            env={**os.environ, **env, "PYTHONUNBUFFERED": "1"},
        )  # fmt: skip
    served = Workers(process, f"http://127.0.0.1:{port}", log)
    try:
        wait_for(lambda: served.text().count("Application startup complete") == 2, 60, "2 workers")
        yield served
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(10)
        for pid in served.children():
            os.kill(pid, signal.SIGKILL)


def test_every_worker_answers_and_one_killed_is_replaced(workers: Workers) -> None:
    # Given: two workers, each answering on the one port.
    pids = workers.children()
    assert len(pids) == 2
    wait_for(lambda: workers.answering() == pids, 60, "every worker to answer")
    # The metrics add up across the workers, whichever answers.
    assert workers.metrics() == (workers.health_checks, pids)

    # When: one is killed.
    killed = min(pids)
    os.kill(killed, signal.SIGKILL)

    # Then: the parent says so, and starts another that answers too.
    wait_for(lambda: len(workers.children() - {killed}) == 2, 60, "a worker in its place")
    assert f"worker {killed} exited (killed by SIGKILL)" in workers.text()
    now = workers.children()
    assert killed not in now
    wait_for(lambda: workers.answering() == now, 60, "the new worker to answer")
    # The killed worker's counts stay in the sums; the process metrics are the live workers'.
    assert workers.metrics() == (workers.health_checks, now)


@pytest.mark.parametrize("stop", [signal.SIGTERM, signal.SIGINT])
def test_a_signal_to_the_parent_stops_every_worker_cleanly(
    workers: Workers, stop: signal.Signals
) -> None:
    pids = workers.children()
    workers.process.send_signal(stop)
    assert workers.process.wait(60) == 0
    text = workers.text()
    for pid in pids:
        # uvicorn's last line, logged once the app has stopped and before the store is closed.
        assert f"Finished server process [{pid}]" in text
    assert "Traceback" not in text
    assert not any(_alive(pid) for pid in pids)


def test_workers_stop_when_their_parent_is_killed(workers: Workers) -> None:
    pids = workers.children()
    workers.process.kill()
    workers.process.wait(10)
    deadline = time.monotonic() + 60
    while any(_alive(pid) for pid in pids) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not any(_alive(pid) for pid in pids)
    assert workers.text().count("Finished server process") == 2


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A worker that exited but is not reaped yet (its parent gone, init reaps it) is a zombie.
    status = Path(f"/proc/{pid}/stat")
    return status.exists() and status.read_text().split(") ")[-1][:1] != "Z"
