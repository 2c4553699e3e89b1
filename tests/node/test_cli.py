"""The command line: the demo, init and logbook, and clean failures."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest


def run(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "node", *args], capture_output=True, text=True, cwd=cwd, timeout=120
    )


def init_garden(data: str) -> list[str]:
    """The arguments of `init` founding the Garden circle in `data`."""
    return [
        *("init", "--data", data, "--name", "Garden", "--aim", "Grow food"),
        *("--domain", "The garden", "--founder", "Ada"),
    ]


def test_the_one_circle_demo_tells_its_story_and_prints_the_logbook() -> None:
    result = run("demo", "--one-circle")
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "Cleo objected" in out
    assert "The circle's logbook, read back from the store" in out
    assert "Consent round 2 on 'Paid travel time' closed: consented" in out
    assert "Review due: 'Sunday cover from the helping circle'" in out
    assert "stepped back, with thanks" in out


def test_the_demo_runs_a_federation_and_cleans_up(tmp_path: Path) -> None:
    import os

    result = subprocess.run(
        [sys.executable, "-m", "node", "demo"],
        capture_output=True,
        text=True,
        timeout=240,
        env={**os.environ, "TMPDIR": str(tmp_path)},
        stdin=subprocess.DEVNULL,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    out = result.stdout
    for step in (
        "1. Joining the network",
        "5. A node down, and back",
        "7. Federated consent",
        "10. Going its own way",
        "Each node's view of the network",
    ):
        assert step in out
    assert "(signed, verified, stored)" in out
    assert "http://127.0.0.1:" in out
    assert list(tmp_path.iterdir()) == []  # it cleaned up after itself


def test_init_then_logbook(tmp_path: Path) -> None:
    data = str(tmp_path / "node")
    result = run(*init_garden(data))
    assert result.returncode == 0, result.stderr
    assert "Founded 'Garden'" in result.stdout
    result = run("logbook", "--data", data)
    assert result.returncode == 0, result.stderr
    assert "Ada founded the circle 'Garden' with the aim: Grow food" in result.stdout


def test_init_can_keep_the_founders_token_in_a_file_of_its_own_instead_of_showing_it(
    tmp_path: Path,
) -> None:
    # A token file in a folder that is not there: refused before anything is founded.
    data, kept = str(tmp_path / "node"), tmp_path / "founders" / "garden.token"
    refused = run(*init_garden(data), "--token-file", str(kept))
    assert refused.returncode == 1 and "Traceback" not in refused.stderr
    assert f"error: cannot write the token file {kept}" in refused.stderr
    assert run("id", "--data", data).returncode == 1  # nothing founded
    # Given the folder, the token is written there, mode 0600, and only where it is is shown.
    kept.parent.mkdir()
    founded = run(*init_garden(data), "--token-file", str(kept))
    assert founded.returncode == 0, founded.stderr
    token = kept.read_text().strip()
    assert token.startswith("cn_") and token not in founded.stdout
    assert f"Founder's personal token: in {kept}" in founded.stdout
    assert kept.stat().st_mode & 0o777 == 0o600
    assert list(kept.parent.iterdir()) == [kept]
    # A founding that fails leaves the file that was there as it was.
    again = run(*init_garden(data), "--token-file", str(kept))
    assert again.returncode == 1 and kept.read_text().strip() == token
    assert list(kept.parent.iterdir()) == [kept]


def test_failures_exit_non_zero_with_a_message_and_no_traceback(tmp_path: Path) -> None:
    data = str(tmp_path / "node")
    args = init_garden(data)
    assert run(*args).returncode == 0
    again = run(*args)
    assert again.returncode == 1
    assert "already has its circle" in again.stderr
    assert "Traceback" not in again.stderr
    empty = run("logbook", "--data", str(tmp_path / "empty"))
    assert empty.returncode == 1 and "`circle-node init` makes one" in empty.stderr
    blank = run(
        "init",
        "--data",
        str(tmp_path / "b"),
        "--name",
        " ",
        "--aim",
        "A",
        "--domain",
        "D",
        "--founder",
        "F",
    )
    assert blank.returncode == 1 and "needs a name" in blank.stderr
    assert "Traceback" not in blank.stderr + empty.stderr


def test_serve_leaves_what_it_built_out_of_the_collectors_way(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import gc

    import uvicorn
    from typer.testing import CliRunner

    from node.cli.main import app

    data = str(tmp_path / "node")
    runner = CliRunner()
    founded = runner.invoke(app, init_garden(data))
    assert founded.exit_code == 0, founded.output
    frozen: list[int] = []
    monkeypatch.setattr("node.logs.configure", lambda stream, level: None)  # this process's logging
    monkeypatch.setattr(
        uvicorn.Server, "run", lambda *args, **kwargs: frozen.append(gc.get_freeze_count())
    )
    try:
        served = runner.invoke(app, ["serve", "--data", data, "--port", "0"])
        assert served.exit_code == 0, served.output
    finally:
        gc.unfreeze()  # this test process goes on
    # Everything the server was built from was frozen before it began to serve.
    assert frozen and frozen[0] > 10_000


# Every command that takes a data folder, with what else it needs.
_COMMANDS = [
    ["id"],
    ["logbook"],
    ["people"],
    ["serve", "--port", "0"],
    ["rotate-key"],
    ["peer", "list"],
    ["catch-up"],
    ["export", "archive.cn"],
    ["backup", "backup.tar"],
    ["join", "http://127.0.0.1:9", "--url", "http://127.0.0.1:8"],
]


@pytest.mark.parametrize("command", _COMMANDS, ids=lambda command: " ".join(command[:2]))
def test_only_init_makes_a_node_every_other_command_names_the_folder_that_holds_none(
    tmp_path: Path, command: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from typer.testing import CliRunner

    from node.cli.main import app

    monkeypatch.chdir(tmp_path)  # where an archive or backup would be written
    runner = CliRunner()
    missing, empty, configured = tmp_path / "typo", tmp_path / "empty", tmp_path / "configured"
    empty.mkdir()
    configured.mkdir()
    (configured / "circle-node.toml").write_text("encrypt = false\n")
    for folder, why in (
        (missing, "the folder does not exist"),
        (empty, "the folder is empty"),
        (configured, "it holds no node.keys"),
    ):
        before = sorted(folder.rglob("*")) if folder.exists() else None
        result = runner.invoke(app, [*command, "--data", str(folder)])
        assert result.exit_code == 1, result.output
        assert result.output == f"error: no node in {folder}: {why}" + (
            " (`circle-node init` makes one)\n"
            if folder is not configured
            else " (restore it from a backup, or `circle-node init` a new node)\n"
        )
        assert (sorted(folder.rglob("*")) if folder.exists() else None) == before  # untouched


def test_version_prints_the_installed_version_and_exits_zero() -> None:
    from importlib.metadata import version

    shown = run("--version")
    assert shown.returncode == 0, shown.stderr
    assert shown.stdout == f"circle-node {version('circle-node')}\n"


def test_a_database_server_that_does_not_answer_is_one_line_not_a_traceback(
    tmp_path: Path,
) -> None:
    # A schema of its own makes the node connect before eventsourcing's pool does.
    folder = tmp_path / "kitchen"
    folder.mkdir()
    (folder / "circle-node.toml").write_text(
        'database_url = "postgresql://postgres@127.0.0.1:1/test?schema=kitchen"\n'
    )
    result = run(
        "init", "--data", str(folder), "--name", "Kitchen", "--aim", "Cook",
        "--domain", "The kitchen", "--founder", "Ada",
    )  # fmt: skip
    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: the node's store cannot be reached")
