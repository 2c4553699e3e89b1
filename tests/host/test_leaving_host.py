"""A circle leaves its host (`circle-node host release`) and is restored on another
(`circle-node restore --circle`), both hosts served by real `circle-node serve` processes: the
old host answers 410 Gone with the new URL and signs nothing more for it; the circle's peers (a
circle of the old host and a separate node) follow it to the new host and take its next
decision there, its feed continuing from the move."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from federation.feed import feed_id_from_node_id
from node.app.node import CircleNode
from node.app.persistence import open_node
from node.demo.local_cluster import LocalNode, wait_for
from node.demo.scripted import form_aim
from node.host.layout import circle_settings
from node.settings import Settings
from tests.host.serving import HostProcess
from tests.host.test_serve_host import cli, get, held, refused

pytestmark = pytest.mark.timeout(300)


def init(host: Path, slug: str) -> None:
    cli(
        "init", "--data", str(host), "--slug", slug, "--name", slug.title(),
        "--aim", "Feed us", "--domain", "Food", "--founder", "Ada",
    )  # fmt: skip


def circle(host: Path, slug: str) -> CircleNode:
    """The host's circle opened in this process (as a second worker would)."""
    return open_node(circle_settings(Settings.load(host), slug))


def rota(node: CircleNode) -> tuple[str, str]:
    """The founder wears an operational hat, to take everyday decisions: (founder, hat)."""
    founder = next(iter(node.records.get_circle().participants))
    form_aim(node, "The kitchen feeds the co-op's members, as its mission asks")
    hat = node.hats.define_hat(founder, "Rota holder", "Keeps the rota", [], ["rota"])
    selection = node.hats.open_selection(founder, hat)
    node.hats.nominate(founder, selection, founder, "I keep it already")
    node.hats.open_change_round(founder, selection)
    node.hats.propose_candidate(founder, selection, founder, "Nominated")
    node.consent.consent(founder, selection)
    node.consent.close_consent_round(founder, selection)
    return founder, hat


def decide(host: Path, slug: str, who: tuple[str, str], title: str) -> int:
    """An everyday decision in the circle; returns its feed's head after it."""
    node = circle(host, slug)
    try:
        node.decisions.take_everyday_decision(*who, "rota", title, "Cover Sundays")
        return node.feed.own_feed().head
    finally:
        node.close()


def location(url: str) -> tuple[int, str | None]:
    """The status and `Location` of an answer that is an error."""
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, response.headers.get("Location")
    except urllib.error.HTTPError as error:
        return error.code, error.headers.get("Location")


def url_of(node: CircleNode, node_id: str) -> str | None:
    peer = node.peering.peer(feed_id_from_node_id(node_id))
    return None if peer is None or peer.moving_to else peer.url


def test_a_circle_leaves_its_host_and_its_peers_follow_it(
    tmp_path: Path, outside: LocalNode
) -> None:
    old_folder, new_folder = tmp_path / "a" / "host", tmp_path / "b" / "host"
    old_folder.parent.mkdir()
    new_folder.parent.mkdir()
    for slug in ("kitchen", "garden"):
        init(old_folder, slug)
    node = circle(old_folder, "kitchen")
    try:
        who = rota(node)
        kitchen = node.feed.node_id
    finally:
        node.close()
    old, new = HostProcess(old_folder), HostProcess(new_folder)
    try:
        old.start()
        coop = cli("id", "--data", str(outside.data)).strip()
        here = f"{old.url}/c/kitchen"
        cli("peer", "add", f"{old.url}/c/garden", "--data", str(old_folder), "--circle", "kitchen")
        cli("peer", "add", here, "--data", str(old_folder), "--circle", "garden")
        cli("peer", "add", outside.url, "--data", str(old_folder), "--circle", "kitchen")
        cli("peer", "add", here, "--expect", kitchen, "--data", str(outside.data))
        first = decide(old_folder, "kitchen", who, "Rota 1")
        wait_for(
            lambda: (
                held(old_folder, "garden", kitchen) == first
                and held(outside.data, None, kitchen) == first
            ),
            60,
            "the kitchen's peers to hold its feed",
        )

        # The kitchen leaves the old host for the new one.
        there = f"{new.url}/c/kitchen"
        backup = tmp_path / "kitchen.tar"
        out = cli(
            "host", "release", "--data", str(old_folder), "--circle", "kitchen",
            "--to", there, str(backup),
        )  # fmt: skip
        moved = first + 1
        assert f"at entry {moved} that it is served at {there}" in out
        assert backup.stat().st_mode & 0o777 == 0o600

        # The old host: 410 Gone with the new URL for everything but its feed's public reads,
        # which end at the move; nothing signs for it (the CLI refuses it in one line).
        status, raw = get(f"{here}/proposals?page=2")
        assert status == 410
        problem = json.loads(raw)
        assert problem["reason"] == "moved" and problem["moved_to"] == there
        assert location(f"{here}/proposals?page=2") == (410, f"{there}/proposals?page=2")
        assert get(f"{here}/api/circle")[0] == 410
        assert get(f"{here}/federation/node")[0] == 200
        assert old.health()["circles"]["kitchen"] == {
            "status": "moved", "node": kitchen, "moved_to": there,
        }  # fmt: skip
        out = refused("people", "--data", str(old_folder), "--circle", "kitchen")
        assert f"moved to {there}" in out and out.count("\n") == 1
        out = refused("move", "https://elsewhere.example", "--data", str(old_folder),
                      "--circle", "kitchen")  # fmt: skip
        assert f"moved to {there}" in out

        # Its peers, pulling from the old URL, still learn the move there (its feed's pages
        # end with it), and wait for the new URL to serve the feed before they follow.
        wait_for(
            lambda: (
                held(old_folder, "garden", kitchen) == moved
                and held(outside.data, None, kitchen) == moved
            ),
            60,
            "the kitchen's peers to pull the move from the old host",
        )
        wait_for(lambda: "left this host" in old.log.read_text(), 30, "the kitchen's work to stop")

        # Restored on the new host, and served there: it takes its feed back, then signs.
        cli("restore", "--data", str(new_folder), "--circle", "kitchen", str(backup))
        new.start()
        wait_for(lambda: new.health()["circles"]["kitchen"]["status"] == "ok", 60, "the take-back")
        assert new.health()["circles"]["kitchen"]["head"] == moved
        second = decide(new_folder, "kitchen", who, "Rota 2")
        assert second == moved + 1

        # Its peers follow it to the new host and take its next decision there: the feed goes
        # on from the move, with no fork (a fork would stop the feed at its peers).
        def followed() -> bool:
            garden = circle(old_folder, "garden")
            coop_node = open_node(Settings(data_dir=outside.data))
            try:
                return url_of(garden, kitchen) == there and url_of(coop_node, kitchen) == there
            finally:
                garden.close()
                coop_node.close()

        wait_for(followed, 90, "the kitchen's peers to follow it")
        wait_for(
            lambda: (
                held(old_folder, "garden", kitchen) == second
                and held(outside.data, None, kitchen) == second
            ),
            90,
            "the kitchen's next decision to reach its peers",
        )
        assert old.health()["circles"]["kitchen"]["status"] == "moved"
        assert "equivocat" not in outside.log.read_text().lower()
        node = circle(old_folder, "kitchen")
        try:
            assert node.feed.own_feed().head == moved  # the old host signed nothing more
        finally:
            node.close()
        assert coop != kitchen

        # Started again, the old host still answers for it as gone, and lists it as moved.
        old.stop()
        old.start()
        assert old.health()["circles"]["kitchen"]["status"] == "moved"
        assert get(f"{here}/")[0] == 410
        assert get(f"{here}/federation/feed?after=0")[0] == 200
        assert f"moved to {there}/" in get(f"{old.url}/")[1].decode()
    finally:
        new.stop()
        old.stop()


def test_release_and_restore_refuse_what_they_cannot_do(tmp_path: Path) -> None:
    host, other = tmp_path / "host", tmp_path / "other"
    init(host, "kitchen")
    init(other, "kitchen")
    backup = tmp_path / "kitchen.tar"

    out = refused(
        "host", "release", "--data", str(host), "--circle", "pantry",
        "--to", "https://b.example/c/pantry", str(backup),
    )  # fmt: skip
    assert "no circle 'pantry'" in out and not backup.exists()
    out = refused(
        "host", "release", "--data", str(host), "--circle", "kitchen",
        "--to", "not a url", str(backup),
    )  # fmt: skip
    assert "not a node's base URL" in out

    cli("backup", "--data", str(host), "--circle", "kitchen", str(backup))
    out = refused("restore", "--data", str(other), "--circle", "kitchen", str(backup))
    assert "already holds a circle 'kitchen'" in out
    out = refused("restore", "--data", str(other), str(backup))
    assert "restore a circle into it with --circle SLUG" in out
    # Into another slug of that host, or into a plain folder: a node of its own, as backed up.
    cli("restore", "--data", str(other), "--circle", "pantry", str(backup))
    assert "pantry" in cli("host", "list", "--data", str(other))
    cli("restore", "--data", str(tmp_path / "single"), str(backup))
    cli("restore", "--data", str(tmp_path / "new"), "--circle", "kitchen", str(backup))
    assert cli("host", "list", "--data", str(tmp_path / "new")).startswith("kitchen  Kitchen")

    cli(
        "host", "release", "--data", str(host), "--circle", "kitchen",
        "--to", "https://b.example/c/kitchen", str(backup),
    )  # fmt: skip
    out = refused(
        "host", "release", "--data", str(host), "--circle", "kitchen",
        "--to", "https://c.example/c/kitchen", str(backup),
    )  # fmt: skip
    assert "already left this host for https://b.example/c/kitchen" in out
    # Run again with the same URL, it writes the backup again (finishing an interrupted run).
    backup.unlink()
    cli(
        "host", "release", "--data", str(host), "--circle", "kitchen",
        "--to", "https://b.example/c/kitchen", str(backup),
    )  # fmt: skip
    assert backup.exists()
    assert "moved to https://b.example/c/kitchen" in cli("host", "list", "--data", str(host))


@pytest.mark.postgres
@pytest.mark.parametrize("password", [False, True], ids=["no-password", "password-file"])
def test_a_circle_of_a_host_on_postgresql_is_backed_up_and_restored_in_its_schema(
    tmp_path: Path, postgres_url: str, password: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    import psycopg
    from psycopg import sql

    if password:  # as the docker setup gives it (the test server trusts any password)
        secret = tmp_path / "database-password"
        secret.write_text("s3cret\n")
        monkeypatch.setenv("CIRCLE_NODE_DATABASE_PASSWORD_FILE", str(secret))

    base, _, schema = postgres_url.rpartition("?schema=")
    hosts = {name: tmp_path / name for name in ("a", "b")}
    for name, folder in hosts.items():
        folder.mkdir()
        (folder / "circle-node.toml").write_text(f'database_url = "{base}?schema={schema}{name}"\n')
    backup = tmp_path / "kitchen.tar"
    try:
        init(hosts["a"], "kitchen")
        node = circle(hosts["a"], "kitchen")
        try:
            kitchen, head = node.feed.node_id, node.feed.own_feed().head
        finally:
            node.close()
        out = cli("backup", "--data", str(hosts["a"]), "--circle", "kitchen", str(backup))
        assert "postgresql/" in out and "circle.sqlite" not in out
        cli("restore", "--data", str(hosts["b"]), "--circle", "kitchen", str(backup))
        node = circle(hosts["b"], "kitchen")
        try:
            assert (node.feed.node_id, node.feed.own_feed().head) == (kitchen, head)
            assert node.records.get_circle().name == "Kitchen"
        finally:
            node.close()
        # Restored into its own schema: the same slug on another host, not the first one's.
        with psycopg.connect(base, autocommit=True) as connection:
            found = connection.execute(
                "SELECT schema_name FROM information_schema.schemata WHERE schema_name LIKE %s",
                (f"{schema}_\\_kitchen",),
            ).fetchall()
        assert sorted(row[0] for row in found) == [f"{schema}a_kitchen", f"{schema}b_kitchen"]
    finally:
        with psycopg.connect(base, autocommit=True) as connection:
            for name in hosts:
                connection.execute(
                    sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(
                        sql.Identifier(f"{schema}{name}_kitchen")
                    )
                )


def test_a_hosts_node_signs_nothing_once_its_circle_has_left(tmp_path: Path) -> None:
    """The host's node of a circle (its feed writer gated by the marker) had loaded its feed
    before another process released the circle: its next signing conflicts with the move and,
    tried again, is refused; it stays refused."""
    from node.host.circles import opened_circles
    from node.host.moved_marker import mark_moved
    from node.network.own_feed import IdentityError

    folder = tmp_path / "host"
    init(folder, "kitchen")
    with opened_circles(Settings.load(folder)) as (hosted,):
        served = hosted.node
        who = rota(served)
        served.decisions.take_everyday_decision(*who, "rota", "Rota 1", "Cover Sundays")
        before = served.feed.own_feed().head

        releasing = circle(folder, "kitchen")
        try:
            mark_moved(hosted.settings.data_dir, "https://b.example/c/kitchen")
            moved = releasing.feed.announce_url("https://b.example/c/kitchen")
        finally:
            releasing.close()
        assert moved == before + 1
        for title in ("Rota 2", "Rota 3"):
            with pytest.raises(IdentityError, match=r"moved to https://b\.example/c/kitchen"):
                served.decisions.take_everyday_decision(*who, "rota", title, "Cover Sundays")
        assert served.feed.own_feed().head == moved
        assert served.records.get_circle().name == "Kitchen"  # reads go on
