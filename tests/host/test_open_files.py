"""A host raises its process's limit of open files for its circles (node/host/circles.py,
`allow_open_files`): a service's default soft limit is often 1,024, and each circle served
holds a few files open. Run in a process of its own: the limit is the process's."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

_RAISING = """
import logging, resource, sys
from node.host.circles import allow_open_files

logging.basicConfig(stream=sys.stdout, format="%(levelname)s %(message)s")
soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
resource.setrlimit(resource.RLIMIT_NOFILE, (256, hard))
print("raised", allow_open_files(600), resource.getrlimit(resource.RLIMIT_NOFILE)[0])
print("kept", allow_open_files(300), resource.getrlimit(resource.RLIMIT_NOFILE)[0])
# A hard limit below what is needed: raised as far as it goes, and said in the log.
resource.setrlimit(resource.RLIMIT_NOFILE, (256, 700))
print("capped", allow_open_files(5000), resource.getrlimit(resource.RLIMIT_NOFILE)[0])
"""


def test_the_soft_limit_is_raised_up_to_the_hard_limit_and_a_low_hard_limit_is_said() -> None:
    done = subprocess.run(
        [sys.executable, "-c", _RAISING], capture_output=True, text=True, cwd=ROOT, timeout=60
    )
    assert done.returncode == 0, done.stderr[-2000:]
    lines = done.stdout.splitlines()
    assert "raised 600 600" in lines
    assert "kept 600 600" in lines  # never lowered
    assert "capped 700 700" in lines
    warning = next(line for line in lines if line.startswith("WARNING"))
    assert "may need 5000 open files" in warning and "at most 700" in warning
