"""Serving a node's data folder from a real `circle-node serve` process for a benchmark."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

from node.demo.local_cluster import free_port

ROOT = Path(__file__).resolve().parents[1]


@contextlib.contextmanager
def served(
    data: Path,
    pull_interval: float = 3600.0,
    database_url: str | None = None,
    threads: int | None = None,
    poll: float = 0.1,
) -> Iterator[str]:
    """A `circle-node serve` process for `data` (its store on PostgreSQL if `database_url`;
    with `threads` request threads, else the node's default), once /healthz answers (asked
    every `poll` seconds)."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k != "CIRCLE_NODE_DATABASE_URL"}
    if database_url:
        env["CIRCLE_NODE_DATABASE_URL"] = database_url
    url = f"http://127.0.0.1:{port}"
    log = (data / "serve.log").open("ab")
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "node",
            "serve",
            "--data",
            str(data),
            "--port",
            str(port),
            "--pull-interval",
            str(pull_interval),
            *(["--threads", str(threads)] if threads else []),
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
        cwd=ROOT,
        env=env,
    )
    try:
        wait_until_serving(process, url, data / "serve.log", poll=poll)
        yield url
    finally:
        stop(process)
        log.close()


def wait_until_serving(
    process: subprocess.Popen[bytes], url: str, log: Path, timeout: float = 30.0, poll: float = 0.1
) -> None:
    """Wait until `url`/healthz answers (RuntimeError if the process dies or never answers)."""
    deadline = time.monotonic() + timeout
    while True:
        if process.poll() is not None:
            raise RuntimeError(f"the server did not start; see {log}")
        try:
            with urllib.request.urlopen(f"{url}/healthz", timeout=1):
                return
        except OSError:
            if time.monotonic() > deadline:
                raise RuntimeError(f"the server did not answer in {timeout:.0f} s") from None
            time.sleep(poll)


def stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def rss_mb(pid: int) -> float:
    """A process's resident set size, in MiB (from /proc)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmRSS for process {pid}")
