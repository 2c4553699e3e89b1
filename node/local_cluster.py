"""Nodes on this machine: `circle-node serve` processes on loopback ports, each with its own
data folder, and in-process handles on their stores. Used by the demo and end-to-end tests."""

from __future__ import annotations

import contextlib
import json
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

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_for(condition: Callable[[], bool], timeout: float = 30.0, what: str = "it") -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.1)
    raise TimeoutError(f"timed out after {timeout:.0f} s waiting for {what}")


class LocalNode:
    """One node: `circle-node serve` in a subprocess, and handles on its store."""

    def __init__(
        self,
        root: Path,
        name: str,
        pull_interval: float = 1.0,
        env: dict[str, str] | None = None,
        public_url: str | None = None,
    ) -> None:
        self.name = name
        self.data = root / name
        self.data.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = self.data / "serve.log"
        self.pull_interval = pull_interval
        self.env = env or {}  # more environment for the process (CIRCLE_NODE_DATABASE_URL...)
        self.public_url = public_url
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def spawn(self) -> None:
        """Start serving, without waiting for it to answer."""
        with self.log.open("ab") as log:
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
                    str(self.pull_interval),
                    *(["--url", self.public_url] if self.public_url else []),
                ],
                stdout=log,
                stderr=subprocess.STDOUT,
                env={**os.environ, "PYTHONUNBUFFERED": "1", **self.env},
                cwd=ROOT,
            )

    def start(self) -> None:
        self.spawn()
        wait_for(self.healthy, 30, f"{self.name} to serve")

    def healthy(self) -> bool:
        if self.process is not None and self.process.poll() is not None:
            raise RuntimeError(f"{self.name} exited:\n{self.log.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(f"{self.url}/healthz", timeout=1) as response:
                return bool(json.load(response)["status"] == "ok")
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
def local_cluster(
    root: Path, *names: str, pull_interval: float = 1.0
) -> Iterator[dict[str, LocalNode]]:
    nodes = {name: LocalNode(root, name, pull_interval) for name in names}
    try:
        yield nodes
    finally:
        for node in nodes.values():
            node.stop()
