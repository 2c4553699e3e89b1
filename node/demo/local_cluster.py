"""Nodes on this machine: `circle-node serve` processes on loopback ports, each with its own
data folder, and in-process handles on their stores. Used by the demo and end-to-end tests."""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path

from node.app.node import CircleNode
from node.app.persistence import open_node
from node.network.identity import KEYS_FILE
from node.settings import Settings

ROOT = Path(__file__).resolve().parents[2]


_HANDED_OUT: set[int] = set()
_HANDING_OUT = threading.Lock()
# How many times a node is started on a new port when another process took its port first.
PORT_ATTEMPTS = 3
_SERVING = re.compile(r"^Serving node (cn1[a-z2-7]+) at ", re.MULTILINE)


def free_port() -> int:
    """A loopback port free now, and never handed out before by this process (the kernel may
    give the same free port to two probes in a row)."""
    with _HANDING_OUT:
        while True:
            with socket.socket() as probe:
                probe.bind(("127.0.0.1", 0))
                port = int(probe.getsockname()[1])
            if port not in _HANDED_OUT:
                _HANDED_OUT.add(port)
                return port


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
        nice: int = 0,
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
        self.nice = nice  # how much lower its scheduling priority is than this process's
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def spawn(self) -> None:
        """Start serving, without waiting for it to answer."""
        self._make_if_new()
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
        if self.nice:
            ours = os.getpriority(os.PRIO_PROCESS, 0)
            os.setpriority(os.PRIO_PROCESS, self.process.pid, min(19, ours + self.nice))

    def _make_if_new(self) -> None:
        """`serve` opens only a node that exists (on the command line `init` makes it): a
        folder without one gets it here, as `serve` will open it (its config file, and the
        database its environment names)."""
        if (self.data / KEYS_FILE).exists():
            return
        settings = Settings.load(self.data)
        if "CIRCLE_NODE_DATABASE_URL" in self.env:
            url = self.env["CIRCLE_NODE_DATABASE_URL"]
            settings = settings.model_copy(update={"database_url": url})
        open_node(settings).close()

    def start(self) -> None:
        """Serve, and wait until this node answers on its port. A port is only free when it is
        probed: if another process binds it first (a node, or an outgoing connection's
        ephemeral port), the node starts again on a new one (`url` changes)."""
        for attempt in range(1, PORT_ATTEMPTS + 1):
            self.spawn()
            try:
                wait_for(self.healthy, 30, f"{self.name} to serve")
                return
            except RuntimeError as error:
                if "address already in use" not in str(error).lower() or attempt == PORT_ATTEMPTS:
                    raise
            self.port = free_port()
            self.url = f"http://127.0.0.1:{self.port}"

    def healthy(self) -> bool:
        """Whether this node answers on its port: the node id /healthz gives must be the one
        its process said it serves (another process on the same port answers for another)."""
        if self.process is not None and self.process.poll() is not None:
            raise RuntimeError(f"{self.name} exited:\n{self.log.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(f"{self.url}/healthz", timeout=1) as response:
                answer = json.load(response)
        except OSError:
            return False
        said = _SERVING.findall(self.log.read_text(errors="replace"))
        return bool(answer.get("status") == "ok" and said and answer.get("node") == said[-1])

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
