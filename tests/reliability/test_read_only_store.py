"""A write that fails: the node's store is read-only (its file made 0400 or 0444, a folder that
belongs to someone else, a file system mounted read-only, e.g. after disk errors). SQLite then
opens the store read-only and refuses every write ("attempt to write a readonly database").

File modes do not stop root, and mounting needs privileges a test does not have: the node here
opens its store read-only by SQLite's own `mode=ro`, which is what SQLite falls back to when it
cannot open the file for writing (the same state, the same refusals), so the test holds for any
user. Reads keep working; every command gets a clear 503 `store_unavailable` saying the store is
read-only (no traceback, in the answer or the log); the command line exits 1 with one line;
nothing is written: the file is byte for byte what it was, and the state equals a replay.
"""

from __future__ import annotations

import hashlib
import logging
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from node.app import persistence
from node.app.persistence import open_node
from node.http.server import ServerOptions, create_app
from node.settings import Settings
from tests.reliability.harness import ROOT, check_replay, found_with_rota, sqlite_integrity

PROBLEM = "application/problem+json"

# The command line, with the store opened read-only as in `read_only` below.
READ_ONLY_CLI = """
import sys
from node.app import persistence
writable = persistence.event_store_env
def read_only(settings):
    env = writable(settings)
    env["SQLITE_DBNAME"] = f"file:{env['SQLITE_DBNAME']}?mode=ro"
    return env
persistence.event_store_env = read_only
from node.cli.main import app
sys.argv[0] = "circle-node"
app()
"""


def read_only(monkeypatch: pytest.MonkeyPatch) -> None:
    """Open the node's SQLite store as SQLite opens a file it cannot write."""
    writable = persistence.event_store_env

    def env(settings: Settings) -> dict[str, str]:
        found = writable(settings)
        found["SQLITE_DBNAME"] = f"file:{found['SQLITE_DBNAME']}?mode=ro"
        return found

    monkeypatch.setattr(persistence, "event_store_env", env)


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_a_read_only_store_refuses_commands_clearly_and_nothing_is_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    settings = Settings(data_dir=tmp_path / "kitchen")
    store = open_node(settings)
    try:
        founder, hat, token = found_with_rota(store, "Kitchen")
        for n in range(3):
            store.decisions.take_everyday_decision(
                founder, hat, "rota", f"before-{n}", "Cover Sundays"
            )
        decisions = {d.title for d in store.records.list_decisions()}
        tokens = store.tokens.tokens_of(founder)
    finally:
        store.close()
    before = digest(settings.sqlite_path)

    read_only(monkeypatch)
    node = open_node(settings)  # reading works: the node opens
    try:
        client = TestClient(create_app(node, None, ServerOptions(public_url="http://testserver")))
        me = {"Authorization": f"Bearer {token}"}
        # Reads are served.
        listed = client.get("/api/decisions", headers=me)
        assert listed.status_code == 200 and listed.json()["total"] == len(decisions)
        assert client.get("/healthz").status_code == 200
        # Every command is refused with a reason, saying what is wrong; nothing is done.
        commands: list[tuple[str, dict[str, Any]]] = [
            (
                "/api/decisions",
                {"hat_id": hat, "area": "rota", "title": "during", "text": "Cover Mondays"},
            ),
            ("/api/tokens", {"person_id": founder}),
            ("/api/people", {"name": "Ben", "level": "full"}),
            ("/api/proposals", {"title": "Compost", "text": "Weekly"}),
            ("/api/meetings", {"title": "Extra", "when": "2036-04-01T18:00:00Z"}),
        ]
        caplog.clear()
        with caplog.at_level(logging.INFO):
            for path, body in commands:
                answer = client.post(path, headers=me, json=body)
                assert answer.status_code == 503, (path, answer.text)
                assert answer.headers["content-type"] == PROBLEM
                assert int(answer.headers["retry-after"]) >= 1
                problem = answer.json()
                assert problem["reason"] == "store_unavailable", problem
                assert (
                    "read-only" in problem["detail"] and "nothing was changed" in problem["detail"]
                ), problem
                assert "Traceback" not in answer.text
        # The log says why, once a command, without a traceback.
        refusals = [r for r in caplog.records if "readonly" in r.getMessage()]
        assert len(refusals) == len(commands), [r.getMessage() for r in caplog.records]
        assert not [r for r in caplog.records if r.exc_info], "a traceback was logged"
        # The command line: exit 1, one line, no traceback, and no token issued.
        command = ["token", "issue", founder, "--data", str(settings.data_dir)]
        cli = subprocess.run(
            [sys.executable, "-c", READ_ONLY_CLI, *command],
            capture_output=True,
            text=True,
            timeout=60,
            cwd=ROOT,
        )
        assert cli.returncode == 1, cli.stdout + cli.stderr
        assert "Traceback" not in cli.stderr, cli.stderr
        lines = cli.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("error: "), cli.stderr
        assert "readonly" in lines[0] and "nothing was changed" in lines[0], lines[0]
        assert "cn_" not in cli.stdout
    finally:
        node.close()
    monkeypatch.undo()

    # Nothing was written: the store is what it was, whole, and its state a replay of it.
    assert digest(settings.sqlite_path) == before
    sqlite_integrity(settings.sqlite_path)
    store = open_node(settings)
    try:
        assert {d.title for d in store.records.list_decisions()} == decisions
        assert store.tokens.tokens_of(founder) == tokens
        check_replay(store)
        # And once the store is writable again, commands succeed.
        store.decisions.take_everyday_decision(founder, hat, "rota", "after", "Cover Mondays")
        assert {d.title for d in store.records.list_decisions()} == decisions | {"after"}
    finally:
        store.close()
