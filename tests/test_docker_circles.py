"""docker/circles.sh, the script of compose's one-shot services, run with `sh` against a stand-in
`circle-node` that keeps a host's circles and peers in a file: it founds the circles of the list
once, peers each member circle with the co-op both ways once, waits for a node that does not
answer yet, and stops at the first failure. And every command it runs is one the command line
has (once the co-op host is in)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

DOCKER = Path(__file__).resolve().parents[1] / "docker"
URL = "https://circles.example"

# A host's circles and peers in STUB_STATE; every call is recorded there.
STUB = """
import json, os, sys
path = os.environ["STUB_STATE"]
state = json.load(open(path))
args = sys.argv[1:]
state["calls"].append(args)
def option(name):
    return args[args.index(name) + 1]
def done(code=0):
    json.dump(state, open(path, "w"))
    sys.exit(code)
circles, peers = state["circles"], state["peers"]
if args[0] == "id":
    if option("--circle") not in circles:
        print("error: no circle " + option("--circle"), file=sys.stderr)
        done(1)
    print(circles[option("--circle")])
elif args[0] == "init":
    if state["init_fails"]:
        print("error: the store cannot be reached", file=sys.stderr)
        done(1)
    circles[option("--slug")] = "cn1" + option("--slug")
    peers[option("--slug")] = []
    with open(option("--token-file"), "w") as kept:
        kept.write("t-" + option("--slug") + "\\n")
    print("Founder's personal token: in " + option("--token-file"))
elif args[:2] == ["peer", "list"]:
    for node in peers[option("--circle")]:
        print(node + "  " + "peer".ljust(10) + "  -  -  holds their seq 0")
elif args[:2] == ["peer", "add"]:
    if state["unreachable"]:
        state["unreachable"] -= 1
        print("error: could not reach " + args[2], file=sys.stderr)
        done(1)
    assert args[2] == os.environ["CIRCLE_NODE_URL"].rstrip("/") + "/c/" + option("--expect")[3:]
    peers[option("--circle")].append(option("--expect"))
    print("Added peer")
else:
    done(2)
done()
"""


class Host:
    """The stand-in command on the PATH, and the state it keeps."""

    def __init__(self, folder: Path) -> None:
        self.bin = folder / "bin"
        self.bin.mkdir()
        command = self.bin / "circle-node"
        command.write_text(f"#!{sys.executable} -S\n{STUB}")
        command.chmod(0o755)
        self.state = folder / "state.json"
        self.founders = folder / "founders"
        self.save({"circles": {}, "peers": {}, "calls": [], "init_fails": False, "unreachable": 0})

    def load(self) -> dict[str, Any]:
        loaded: dict[str, Any] = json.loads(self.state.read_text())
        return loaded

    def save(self, state: dict[str, Any]) -> None:
        self.state.write_text(json.dumps(state))

    def set(self, **values: Any) -> None:
        self.save({**self.load(), **values})

    def calls(self, command: str) -> list[list[str]]:
        return [call for call in self.load()["calls"] if " ".join(call).startswith(command)]

    def run(self, step: str) -> subprocess.CompletedProcess[str]:
        environment = {
            "PATH": f"{self.bin}{os.pathsep}{os.environ['PATH']}",
            "STUB_STATE": str(self.state),
            "CIRCLES": str(DOCKER / "circles.txt"),
            "CIRCLE_NODE_DATA": "/data",
            "CIRCLE_NODE_URL": URL + "/",
            "CIRCLES_PAUSE": "0",
            "CIRCLES_TRIES": "3",
            "FOUNDERS": str(self.founders),
        }
        return subprocess.run(
            ["sh", str(DOCKER / "circles.sh"), step],
            env=environment,
            capture_output=True,
            text=True,
            timeout=60,
        )


@pytest.fixture
def host(tmp_path: Path) -> Host:
    return Host(tmp_path)


def test_found_founds_each_circle_of_the_list_once(host: Host) -> None:
    # When the host holds no circle yet, each is founded with its line's details.
    first = host.run("found")
    assert first.returncode == 0, first.stderr
    inits = host.calls("init")
    assert [call[call.index("--slug") + 1] for call in inits] == ["coop", "kitchen", "garden"]
    kitchen = inits[1]
    for option, value in (
        ("--data", "/data"),
        ("--name", "Kitchen circle"),
        ("--aim", "Feed the neighbourhood"),
        ("--domain", "The kitchen"),
        ("--founder", "Ben"),
    ):
        assert kitchen[kitchen.index(option) + 1] == value, option
    # Each founder's token is in a file of its own, readable by its owner only (umask 077),
    # in a folder only they enter; the log says where, never what.
    assert host.founders.stat().st_mode & 0o777 == 0o700
    for slug in ("coop", "kitchen", "garden"):
        kept = host.founders / f"{slug}.token"
        assert kept.read_text() == f"t-{slug}\n" and kept.stat().st_mode & 0o777 == 0o600
        assert f"t-{slug}" not in first.stdout + first.stderr
        assert f"Founder's personal token: in {kept}" in first.stdout
    assert [call[call.index("--token-file") + 1] for call in inits] == [
        str(host.founders / f"{slug}.token") for slug in ("coop", "kitchen", "garden")
    ]
    # Run again, it founds nothing.
    again = host.run("found")
    assert again.returncode == 0, again.stderr
    assert len(host.calls("init")) == 3
    assert "circle kitchen: founded already, node cn1kitchen" in again.stdout


def test_peer_peers_each_member_circle_with_the_coop_both_ways_once(host: Host) -> None:
    assert host.run("found").returncode == 0
    done = host.run("peer")
    assert done.returncode == 0, done.stderr
    assert host.load()["peers"] == {
        "coop": ["cn1kitchen", "cn1garden"],
        "kitchen": ["cn1coop"],
        "garden": ["cn1coop"],
    }
    added = host.calls("peer add")
    assert added[0][2:5] == [URL + "/c/kitchen", "--expect", "cn1kitchen"]
    assert added[0][-2:] == ["--circle", "coop"]
    # Run again, it adds nobody.
    again = host.run("peer")
    assert again.returncode == 0, again.stderr
    assert len(host.calls("peer add")) == 4
    assert "circle kitchen: peer of coop already" in again.stdout


def test_peer_waits_for_the_node_to_answer_and_gives_up_with_a_reason(host: Host) -> None:
    assert host.run("found").returncode == 0
    # Not reachable for two tries: the third succeeds.
    host.set(unreachable=2)
    assert host.run("peer").returncode == 0
    assert len(host.load()["peers"]["coop"]) == 2
    # Never reachable: it stops after its tries, saying which.
    host.set(unreachable=100, peers={"coop": [], "kitchen": [], "garden": []})
    failed = host.run("peer")
    assert failed.returncode != 0
    assert "error: circle coop could not add kitchen as a peer" in failed.stderr
    assert host.load()["unreachable"] == 100 - 3


def test_a_step_that_fails_stops_the_script(host: Host) -> None:
    # Peering a host that holds no circles: refused, saying what to run first.
    refused = host.run("peer")
    assert refused.returncode != 0
    assert "error: the host holds no circle coop: run found first" in refused.stderr
    # A founding that fails stops there, and the service fails.
    host.set(init_fails=True)
    failed = host.run("found")
    assert failed.returncode != 0 and len(host.calls("init")) == 1
    assert host.run("unknown").returncode != 0


def test_every_command_the_script_runs_is_one_the_command_line_has(host: Host) -> None:
    import typer.main

    from node.cli.main import app

    cli = typer.main.get_command(app)
    init = cli.commands["init"]  # type: ignore[attr-defined]
    assert any("--slug" in param.opts for param in init.params)
    assert host.run("found").returncode == 0 and host.run("peer").returncode == 0
    for call in host.load()["calls"]:
        command: Any = cli
        words = list(call)
        while hasattr(command, "commands"):  # a group: its command is the next word
            command = command.commands[words.pop(0)]
        options = {opt for param in command.params for opt in param.opts}
        given = {word for word in words if word.startswith("--")}
        assert given <= options, (call, given - options)
