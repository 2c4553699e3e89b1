"""docker/circles.sh, compose's one-shot script, with the real command line on a real host's
folder and a real `serve`: `found` founds the co-op's circles of docker/circles.txt once, and
`peer` peers each member circle with the co-op, both ways, over HTTP through the host's URL."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest

from node.demo.local_cluster import free_port, wait_for
from tests.e2e.cluster import ROOT, cli

pytestmark = pytest.mark.timeout(420)
DOCKER = ROOT / "docker"


def healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/healthz", timeout=2) as response:
            return bool(json.load(response)["status"] == "ok")
    except OSError:
        return False


def test_the_script_founds_the_circles_of_a_host_and_peers_them_with_the_coop(
    tmp_path: Path,
) -> None:
    data, port = tmp_path / "host", free_port()
    url = f"http://127.0.0.1:{port}"
    bin_folder = tmp_path / "bin"
    bin_folder.mkdir()
    command = bin_folder / "circle-node"
    command.write_text(f'#!/bin/sh\nexec {sys.executable} -m node "$@"\n')
    command.chmod(0o755)
    environment = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith("CIRCLE_NODE_") or name.startswith("CIRCLE_NODE_TEST_")
    }
    environment |= {
        "PATH": f"{bin_folder}{os.pathsep}{os.environ['PATH']}",
        "CIRCLES": str(DOCKER / "circles.txt"),
        "CIRCLE_NODE_DATA": str(data),
        "CIRCLE_NODE_URL": url,
        "FOUNDERS": str(tmp_path / "founders"),
    }

    def script(step: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            ["sh", str(DOCKER / "circles.sh"), step],
            env=environment,
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=300,
        )

    # Founded once: three circles, each founder's token in a file of its own (mode 0600, in a
    # folder of mode 0700), and the output says only where.
    founded = script("found")
    assert founded.returncode == 0, founded.stderr
    founders = tmp_path / "founders"
    assert founders.stat().st_mode & 0o777 == 0o700
    for slug in ("coop", "kitchen", "garden"):
        kept = founders / f"{slug}.token"
        token = kept.read_text().strip()
        assert token.startswith("cn_") and kept.stat().st_mode & 0o777 == 0o600
        assert token not in founded.stdout + founded.stderr
        assert f"Founder's personal token: in {kept}" in founded.stdout
    listed = cli("host", "list", "--data", str(data))
    # A line per circle: its slug, name, node id and path.
    ids = {line.split()[0]: line.split()[-2] for line in listed.stdout.splitlines()}
    assert sorted(ids) == ["coop", "garden", "kitchen"]
    coop_token = (founders / "coop.token").read_text().strip()
    # Run again, it founds nothing, and leaves the files as they are.
    again = script("found")
    assert again.returncode == 0 and "Founder's personal token" not in again.stdout
    assert (founders / "coop.token").read_text().strip() == coop_token
    # Served, then peered.
    log = (tmp_path / "serve.log").open("wb")
    serve = subprocess.Popen(
        [sys.executable, "-m", "node", "serve", "--data", str(data), "--port", str(port)],
        env=environment,
        cwd=ROOT,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        wait_for(lambda: healthy(url), 60, "the host to serve")
        # The token lets its founder in.
        asked = urllib.request.Request(
            f"{url}/c/coop/api/circle", headers={"Authorization": f"Bearer {coop_token}"}
        )
        with urllib.request.urlopen(asked, timeout=10) as answer:
            assert answer.status == 200
        peered = script("peer")
        assert peered.returncode == 0, peered.stderr
        for circle, peers in (("coop", ("kitchen", "garden")), ("kitchen", ("coop",))):
            listed = cli("peer", "list", "--data", str(data), "--circle", circle)
            for peer in peers:
                line = next(line for line in listed.stdout.splitlines() if ids[peer] in line)
                assert line.split()[1] == "peer" and f"{url}/c/{peer}" in line, line
        # Run again, it adds nobody.
        again = script("peer")
        assert again.returncode == 0 and "Added peer" not in again.stdout
    finally:
        serve.send_signal(signal.SIGTERM)
        serve.wait(timeout=30)
        log.close()
