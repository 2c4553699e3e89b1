"""A host served by a real `circle-node serve --data HOST` process, for the host's tests."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import urllib.request
from pathlib import Path

from node.demo.local_cluster import free_port, wait_for

ROOT = Path(__file__).resolve().parents[2]


class HostProcess:
    """`circle-node serve --data HOST` in a subprocess."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = folder.parent / "host.log"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        command = [sys.executable, "-m", "node", "serve", "--data", str(self.folder)]
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                [*command, "--port", str(self.port), "--pull-interval", "1"],
                stdout=log,
                stderr=subprocess.STDOUT,
                env={**os.environ, "PYTHONUNBUFFERED": "1"},
                cwd=ROOT,
            )
        wait_for(self.healthy, 60, "the host to serve")

    def healthy(self) -> bool:
        assert self.process is not None
        if self.process.poll() is not None:
            raise RuntimeError(f"the host exited:\n{self.log.read_text()[-3000:]}")
        try:
            return self.health()["status"] == "ok"
        except OSError:
            return False

    def health(self) -> dict:  # type: ignore[type-arg]
        with urllib.request.urlopen(f"{self.url}/healthz", timeout=2) as response:
            return json.load(response)  # type: ignore[no-any-return]

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
