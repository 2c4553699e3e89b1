"""The command line on a host's folder: `init --slug` adds circles, `host list` lists them, and
every command about one node takes `--circle` there (and only there)."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from node.cli.main import app

runner = CliRunner()


def run(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.output


def found(folder: Path, *more: str, name: str = "Kitchen") -> tuple[int, str]:
    return run(
        "init", "--data", str(folder), *more,
        "--name", name, "--aim", "Feed us", "--domain", "Food", "--founder", "Ada",
    )  # fmt: skip


def test_a_host_folder_holds_circles_made_by_init_slug(tmp_path: Path) -> None:
    host = tmp_path / "host"
    ids = {}
    for slug, name in (("kitchen", "Kitchen"), ("garden", "Garden"), ("north-shed", "Shed")):
        code, out = found(host, "--slug", slug, name=name)
        assert code == 0, out
        assert f"Founded {name!r} in {host / 'circles' / slug}" in out and f"/c/{slug}/" in out
        ids[slug] = out.split("node id ")[1].split()[0]
        assert (host / "circles" / slug / "node.keys").exists()
    assert not (host / "node.keys").exists()
    # `host list`: slug, name, node id and path, by slug.
    code, out = run("host", "list", "--data", str(host))
    assert code == 0, out
    assert out.splitlines() == [
        f"garden  Garden  {ids['garden']}  /c/garden/",
        f"kitchen  Kitchen  {ids['kitchen']}  /c/kitchen/",
        f"north-shed  Shed  {ids['north-shed']}  /c/north-shed/",
    ]
    # Each command about one node works on the circle --circle names.
    for slug, node_id in ids.items():
        assert run("id", "--data", str(host), "--circle", slug) == (0, node_id + "\n")
    code, out = run("people", "--data", str(host), "--circle", "garden")
    assert code == 0 and "Ada" in out
    code, out = run("peer", "list", "--data", str(host), "--circle", "garden")
    assert code == 0 and out == ""
    # The same slug twice: the circle is founded already.
    code, out = found(host, "--slug", "garden", name="Garden again")
    assert (
        code == 1
        and out.startswith("error: ")
        and "Garden again" not in run("host", "list", "--data", str(host))[1]
    )


def test_on_a_host_a_command_needs_its_circle_named(tmp_path: Path) -> None:
    host = tmp_path / "host"
    for slug in ("kitchen", "garden"):
        assert found(host, "--slug", slug)[0] == 0
    for command in (["id"], ["people"], ["peer", "list"], ["logbook"], ["token", "revoke", "x"]):
        code, out = run(*command, "--data", str(host))
        assert code == 1, command
        assert out == (
            f"error: {host} is a host of circles (garden, kitchen): name one with --circle SLUG\n"
        )
    code, out = run("id", "--data", str(host), "--circle", "pantry")
    assert (code, out) == (
        1,
        f"error: no circle 'pantry' in {host} (its circles: garden, kitchen)\n",
    )
    code, out = run("id", "--data", str(host), "--circle", "Kitchen")
    assert code == 1 and "cannot name a circle" in out and len(out.splitlines()) == 1
    # `init` without --slug would make a node of the host's folder.
    code, out = found(host)
    assert (code, out) == (
        1, f"error: {host} is a host of circles (garden, kitchen): add one with --slug SLUG\n"
    )  # fmt: skip
    assert not (host / "node.keys").exists()
    # Backups are of one node's folder.
    code, out = run("backup", str(tmp_path / "b.tar"), "--data", str(host))
    assert code == 1 and "is a host of circles" in out


def test_a_single_nodes_folder_takes_no_circle(tmp_path: Path) -> None:
    node = tmp_path / "node"
    assert found(node)[0] == 0
    code, out = run("id", "--data", str(node), "--circle", "kitchen")
    assert (code, out) == (
        1,
        f"error: {node} holds a single node of its own ({node / 'node.keys'}), not a host's "
        "circles: leave --circle out\n",
    )
    code, out = found(node, "--slug", "kitchen")
    assert code == 1 and "a host's circles go in a folder of their own" in out
    assert not (node / "circles").exists()
    code, out = run("host", "list", "--data", str(node))
    assert code == 1 and "holds a single node of its own" in out
    assert run("id", "--data", str(node))[0] == 0  # as today


def test_host_list_of_a_folder_without_circles_says_how_to_add_one(tmp_path: Path) -> None:
    code, out = run("host", "list", "--data", str(tmp_path))
    assert code == 1 and "--slug SLUG" in out
