"""A command about a host's circle (`people`, `peer add`, `token issue`...) opens the circle
without loading the HTTP layer: the member API's routes take about a second to import, paid
by every command run otherwise (they read only the circle's marker, node/host/moved_marker.py).
In a process of its own: what is imported is the process's."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from typer.testing import CliRunner

from node.cli.main import app

ROOT = Path(__file__).resolve().parents[2]

_OPENING = """
import sys
from pathlib import Path
from node.cli.opening import opened

with opened(Path(sys.argv[1]), circle="kitchen") as (node, settings):
    assert node.records.get_circle().name == "Kitchen"
loaded = sorted(name for name in sys.modules if name.startswith(("node.http", "fastapi")))
print(" ".join(loaded) or "none")
"""


def test_a_command_opens_a_hosted_circle_without_the_http_layer(tmp_path: Path) -> None:
    host = tmp_path / "coop"
    founded = CliRunner().invoke(
        app,
        [
            "init", "--data", str(host), "--slug", "kitchen", "--name", "Kitchen",
            "--aim", "Feed us", "--domain", "The kitchen", "--founder", "Ada",
        ],
    )  # fmt: skip
    assert founded.exit_code == 0, founded.output
    done = subprocess.run(
        [sys.executable, "-c", _OPENING, str(host)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == "none"
