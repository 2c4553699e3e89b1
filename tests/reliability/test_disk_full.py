"""A write that fails: the disk fills under a serving node (simulated with RLIMIT_FSIZE on the
node's process, which makes every write past the limit fail with EFBIG, as a full disk does;
it works for root, for whom a read-only file would not be read-only). Commands get a clear 503
and change nothing; reads keep working; when space returns, work resumes; nothing is
half-written. The command line under a full disk says so in one line, without a traceback."""

from __future__ import annotations

import asyncio
import resource
import subprocess
import sys
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from tests.reliability.harness import (
    ROOT,
    SOAK,
    Burst,
    Served,
    check_decisions,
    check_replay,
    found_with_rota,
    record,
    scaled,
    send_decisions,
    sqlite_integrity,
)

pytestmark = pytest.mark.timeout(900 if SOAK else 90)

FULL = 1  # bytes a file may reach while the disk is "full": every write fails


@pytest.fixture(autouse=True)
def _prlimit() -> None:
    if not hasattr(resource, "prlimit"):
        pytest.skip("resource.prlimit (Linux) is needed to fill the disk of a process")


def test_a_full_disk_fails_commands_cleanly_and_work_resumes(tmp_path: Path) -> None:
    cycles = scaled(2, 30)
    node = Served(tmp_path, "full")
    store = node.open()
    try:
        founder, hat, token = found_with_rota(store, "Kitchen")
        before = {d.title for d in store.records.list_decisions()}
    finally:
        store.close()
    total = Burst()
    rounds: list[dict[str, Any]] = []
    node.start()
    try:
        assert node.process is not None
        pid = node.process.pid
        for cycle in range(cycles):
            ok = asyncio.run(send_decisions(node.url, token, hat, f"ok{cycle}", per_worker=5))
            assert ok.acknowledged == ok.attempted, ok.problems[:3]
            soft, hard = resource.prlimit(pid, resource.RLIMIT_FSIZE)
            resource.prlimit(pid, resource.RLIMIT_FSIZE, (FULL, hard))
            try:
                full = asyncio.run(
                    send_decisions(
                        node.url, token, hat, f"full{cycle}", per_worker=5, stop_on_error=False
                    )
                )
                listed = _decisions_listed(node.url, token)
                cli = _cli_with_a_full_disk(node.data, founder) if cycle == 0 else None
            finally:
                resource.prlimit(pid, resource.RLIMIT_FSIZE, (soft, hard))
            statuses = sorted({s.status or 0 for s in full.log})
            reasons = sorted({s.reason for s in full.log})
            assert statuses == [503] and reasons == ["store_unavailable"], full.log[:3]
            assert listed >= len(before) + len(total.acknowledged | ok.acknowledged)
            again = asyncio.run(send_decisions(node.url, token, hat, f"again{cycle}", per_worker=5))
            assert again.acknowledged == again.attempted, again.problems[:3]
            for burst in (ok, full, again):
                total.merge(burst)
            rounds.append(
                {"refused_503": len(full.refused), "listed_while_full": listed, "cli": cli}
            )
    finally:
        node.stop()
    store = node.open()
    try:
        figures = check_decisions(store, total, before)
        figures.update(check_replay(store))
        applied = {d.title for d in store.records.list_decisions()}
        tokens = len(store.tokens.tokens_of(founder))
    finally:
        store.close()
    sqlite_integrity(node.settings.sqlite_path)
    assert not set(total.refused) & applied, "a command refused for a full disk was written"
    assert tokens == 1, "the command line wrote a token with a full disk"
    record(
        "disk-full",
        {
            "cycles": cycles,
            "commands_sent": len(total.attempted),
            "refused_503_while_full": len(total.refused),
            "written_while_full": 0,
            **figures,
            "rounds": rounds,
        },
    )


def _decisions_listed(url: str, token: str) -> int:
    """Reads still work with a full disk: the decisions listed by the API."""
    request = urllib.request.Request(
        f"{url}/api/decisions?limit=1", headers={"Authorization": f"Bearer {token}"}
    )
    import json

    with urllib.request.urlopen(request, timeout=15) as response:
        assert response.status == 200
        return int(json.load(response)["total"])


def _cli_with_a_full_disk(data: Path, person: str) -> str:
    """`circle-node token issue` with a full disk: exit 1 and one readable line."""

    def full_disk() -> None:
        _, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
        resource.setrlimit(resource.RLIMIT_FSIZE, (FULL, hard))

    result = subprocess.run(
        [sys.executable, "-m", "node", "token", "issue", person, "--data", str(data)],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT,
        preexec_fn=full_disk,
    )
    assert result.returncode == 1, result.stdout + result.stderr
    assert "Traceback" not in result.stderr, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    return lines[0]


def test_a_snapshot_that_cannot_be_stored_does_not_fail_a_stored_change(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Snapshots are written after the change is stored. When that write fails (the disk
    filled just then), the command has happened: it must not be reported as failed (the
    client would retry it, and it would happen twice). The aggregate replays from its events."""
    from eventsourcing.persistence import OperationalError

    from node.app.persistence import open_node
    from node.settings import Settings

    store = open_node(Settings(data_dir=tmp_path / "snap"))
    try:
        founder, hat, _ = found_with_rota(store, "Kitchen")
        before = {d.title for d in store.records.list_decisions()}
        assert store.store.snapshots is not None
        failed: list[int] = []

        def no_space(*args: Any, **kwargs: Any) -> Any:
            failed.append(1)
            raise OperationalError("database or disk is full")

        monkeypatch.setattr(store.store.snapshots.recorder, "insert_events", no_space)
        titles: set[str] = set()
        while len(titles) < 300 and len(failed) < 3:  # until a few snapshots were due
            title = f"snap-{len(titles)}"
            store.decisions.take_everyday_decision(founder, hat, "rota", title, "Cover Sundays")
            titles.add(title)
        monkeypatch.undo()
        assert failed, "no snapshot was attempted: the test does not test anything"
        burst = Burst(attempted=titles, acknowledged=titles)
        check_decisions(store, burst, before)
        check_replay(store)
    finally:
        store.close()
    record("snapshot-write-fails", {"commands": len(titles), "snapshot_writes_failed": len(failed)})
