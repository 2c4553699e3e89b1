"""Real node processes on loopback ports, each with its own data folder, for end-to-end tests."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path

from node.application import CircleNode
from node.persistence import open_node
from node.settings import Settings

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "node", *args],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT,
    )


def wait_for(condition: Callable[[], bool], timeout: float = 30.0, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


class NodeProcess:
    """One node: `circle-node serve` in a subprocess, and in-process handles on its store."""

    def __init__(self, root: Path, name: str) -> None:
        self.name = name
        self.data = root / name
        self.data.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = self.data / "serve.log"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self, pull_interval: float = 1.0) -> None:
        log = self.log.open("ab")
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "node",
                "serve",
                "--data",
                str(self.data),
                "--port",
                str(self.port),
                "--pull-interval",
                str(pull_interval),
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=ROOT,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
        wait_for(self.healthy, 30, f"{self.name} to serve")

    def healthy(self) -> bool:
        if self.process is not None and self.process.poll() is not None:
            raise AssertionError(f"{self.name} exited:\n{self.log.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(f"{self.url}/healthz", timeout=1) as response:
                return bool(response.status == 200)
        except OSError:
            return False

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None

    @contextlib.contextmanager
    def handle(self) -> Iterator[CircleNode]:
        """The node's store opened in this process (as a second worker would)."""
        node = open_node(Settings(data_dir=self.data))
        try:
            yield node
        finally:
            node.close()


@contextlib.contextmanager
def cluster(root: Path, *names: str) -> Iterator[dict[str, NodeProcess]]:
    nodes = {name: NodeProcess(root, name) for name in names}
    try:
        yield nodes
    finally:
        for node in nodes.values():
            node.stop()
