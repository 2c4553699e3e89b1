"""Secrets and personal data at rest.

- Personal tokens are stored only as hashes: after tokens are issued (by the CLI's operator, by
  the secretary through the API, on admission) and used (the API, the web sign-in), no file of
  the node holds one.
- Secret files (node.keys, a staged rotation's node.keys.pending, store.key) are created 0600
  and refused, by the library and by the command line, when group or others have any access.
- A data folder the node makes is its owner's alone, and so is the SQLite store (0600), in
  any folder.
- Encryption at rest covers the bodies table (the node's own bodies and those peers sent) as
  well as the events: with it on, the SQLite file holds the feed's entries (public, signed
  bytes: they are kept as signed) and none of the plaintext.
"""

from __future__ import annotations

import os
import re
import sqlite3
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from federation.wire import encode
from node.app.credentials import token_hash
from node.app.persistence import open_node
from node.http.server import ServerOptions, create_app
from node.network.identity import KEYS_FILE, PENDING_FILE, stage_rotation
from node.settings import Settings
from node.store.keyfiles import KeyFileError
from tests.conftest import Clock


def stored_bytes(folder: Path) -> bytes:
    """Every byte of every file in the folder (the store, its journal, the keys...)."""
    return b"".join(path.read_bytes() for path in sorted(folder.rglob("*")) if path.is_file())


def test_tokens_are_stored_only_as_hashes(tmp_path: Path) -> None:
    data = tmp_path / "kitchen"
    founded = subprocess.run(
        [sys.executable, "-m", "node", "init", "--name", "Kitchen", "--aim", "Feed",
         "--domain", "Food", "--founder", "Ada", "--data", str(data)],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert founded.returncode == 0, founded.stderr
    tokens = re.findall(r"cn_[A-Za-z0-9_-]{43}", founded.stdout)
    assert len(tokens) == 1
    node = open_node(Settings(data_dir=data))
    try:
        ada = node.tokens.person_for_token(tokens[0])
        assert ada is not None
        client = TestClient(create_app(node, None, ServerOptions(public_url="http://testserver")))
        bearer = {"Authorization": f"Bearer {tokens[0]}"}
        ben = client.post("/api/people", json={"name": "Ben"}, headers=bearer).json()
        admitted = client.post(
            f"/api/people/{ben['person_id']}/admit", json={"level": "full"}, headers=bearer
        ).json()
        tokens.append(admitted["token"])
        issued = client.post("/api/tokens", json={"person_id": ada}, headers=bearer)
        assert issued.status_code == 201, issued.text
        tokens.append(issued.json()["token"])
        tokens.append(node.tokens.issue_token(ada)[1])
        for token in tokens:  # each one works: for the API, and to sign in on the web
            response = client.get("/api/circle", headers={"Authorization": f"Bearer {token}"})
            assert response.status_code == 200
            page = client.get("/sign-in")
            csrf = re.search(r'name="csrf" value="([^"]+)"', page.text)
            assert csrf is not None
            signed = client.post(
                "/sign-in",
                data={"csrf": csrf.group(1), "token": token},
                follow_redirects=False,
            )
            assert signed.status_code == 303 and token not in signed.headers["set-cookie"]
    finally:
        node.close()
    stored = stored_bytes(data)
    assert len(tokens) == 4
    for token in tokens:
        for part in (token, token[3:], token[3:25], token[-20:]):
            assert part.encode() not in stored, "a token (or part of one) is stored"
        # What is stored is its hash (so the scan above reads the records it should).
        assert token_hash(token).encode() in stored


@pytest.mark.parametrize("mode", [0o640, 0o604, 0o620, 0o602, 0o660, 0o644, 0o666, 0o610])
def test_key_files_others_can_touch_are_refused(tmp_path: Path, mode: int) -> None:
    settings = Settings(data_dir=tmp_path / "node", encrypt=True)
    node = open_node(settings)
    (settings.data_dir / "circle-node.toml").write_text("encrypt = true\n")  # for the CLI
    # A rotation staged but not finished (as after a crash midway): its keys wait in
    # node.keys.pending, which the next start reads.
    assert node.feed.keys is not None
    stage_rotation(settings.data_dir, node.feed.keys.rotated())
    own = node.feed.own_feed()
    signed, _ = own.rotate(node.feed.keys, 1)
    node.save(own, entries=[(own.feed_id, own.head, encode(signed))])
    node.close()
    secrets = [settings.data_dir / KEYS_FILE, settings.data_dir / PENDING_FILE]
    secrets.append(settings.store_key_path)
    for path in secrets:
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path
    for path in secrets:
        os.chmod(path, mode)
        with pytest.raises(KeyFileError, match="chmod 600"):
            open_node(settings).close()
        if mode == 0o640:  # the command line refuses too, in one sentence (no traceback)
            result = subprocess.run(
                [sys.executable, "-m", "node", "id", "--data", str(settings.data_dir)],
                capture_output=True,
                text=True,
                timeout=60,
            )
            assert result.returncode == 1 and "chmod 600" in result.stderr, result.stderr
            assert "Traceback" not in result.stderr
        os.chmod(path, 0o600)
    # With every file back to 0600, the node opens and finishes the rotation.
    node = open_node(settings)
    assert node.feed.keys is not None and node.feed.keys.current_public == node.feed.own_feed().key
    node.close()
    assert not (settings.data_dir / PENDING_FILE).exists()


def test_a_data_folder_the_node_makes_is_its_owners_alone(tmp_path: Path) -> None:
    data = tmp_path / "new" / "node"
    open_node(Settings(data_dir=data)).close()
    assert stat.S_IMODE(data.stat().st_mode) == 0o700
    assert stat.S_IMODE((data / KEYS_FILE).stat().st_mode) == 0o600


def test_the_store_is_its_owners_alone(tmp_path: Path, clock: Clock) -> None:
    """The SQLite store and its -wal and -shm are 0600, also in a folder the node did not make
    (a Docker volume, made 0755 beforehand), and a store that others could read (restored from
    an older backup, or made by an older version) is made 0600 when the node opens it."""
    data = tmp_path / "volume"
    data.mkdir(mode=0o755)
    os.chmod(data, 0o755)
    settings = Settings(data_dir=data)
    store = data / "circle.sqlite"
    files = [store, data / "circle.sqlite-wal", data / "circle.sqlite-shm"]
    node = open_node(settings, clock)
    node.circle.found_circle(name="Moonflower circle", aim="A", domain="D", founder_name="Philippa")
    try:
        for path in files:  # while the node runs, SQLite keeps its log and shared memory
            assert stat.S_IMODE(path.stat().st_mode) == 0o600, path
    finally:
        node.close()
    os.chmod(store, 0o644)
    node = open_node(settings, clock)
    try:
        assert node.records.get_circle().name == "Moonflower circle"
        for path in files:
            assert stat.S_IMODE(path.stat().st_mode) == 0o600, path
    finally:
        node.close()


def test_encryption_at_rest_covers_bodies_and_the_entry_table(tmp_path: Path, clock: Clock) -> None:
    settings = Settings(data_dir=tmp_path / "kitchen", encrypt=True)
    node = open_node(settings, clock)
    garden = open_node(Settings(data_dir=tmp_path / "garden"), clock)  # a peer, not encrypted
    try:
        node.circle.found_circle(
            name="Moonflower circle",
            aim="Unmistakable aim text",
            domain="Gardens",
            founder_name="Philippa Quayle",
        )
        gardener = garden.circle.found_circle(
            name="Quinceharbour garden",
            aim="Xylophone orchards",
            domain="Land",
            founder_name="Bartholomew Nightingale",
        )
        garden.hats.define_hat(gardener, "Waterer", "Waters", [], ["water"])
        node.peering.add_peer(garden.feed.descriptor("g", "http://g.invalid"), "http://g.invalid")
        garden.peering.add_peer(node.feed.descriptor("k", "http://k.invalid"), "http://k.invalid")
        push = garden.outbox.pending_push(node.feed.feed_id)
        assert push is not None and push.bodies
        assert node.intake.receive_push(push).accepted == len(push.entries)
        own_entries = node.feed.own_entries(-1, 100)
        peer_entries = [garden.feed.inception(), *garden.feed.own_entries(0, 100)]
    finally:
        node.close()
        garden.close()
    files = sorted(settings.data_dir.glob("circle.sqlite*"))
    stored = b"".join(path.read_bytes() for path in files)
    plaintexts = [
        b"Moonflower",
        b"Unmistakable aim text",
        b"Philippa Quayle",
        b"Quinceharbour",  # in a body a peer sent
        b"Xylophone orchards",
        b"Bartholomew Nightingale",
        b"Waterer",
    ]
    for plaintext in plaintexts:
        assert plaintext not in stored, plaintext
    # The entry table is in the file, holding every entry as it was signed (public bytes);
    # the bodies table holds every body, none of them as plaintext.
    with sqlite3.connect(settings.data_dir / "circle.sqlite") as db:
        entries = [row[0] for row in db.execute("SELECT signed FROM feed_entries")]
        bodies = [row[0] for row in db.execute("SELECT data FROM bodies")]
    assert len(entries) == len(own_entries) + len(peer_entries)
    for signed in [*own_entries, *peer_entries]:
        assert encode(signed) in entries and encode(signed) in stored
    assert len(bodies) >= 2 and all(body not in push.bodies for body in bodies)
    for body in push.bodies:
        assert body not in stored
    # The same story without encryption has the words in plain sight (so the scan can fail).
    plain = Settings(data_dir=tmp_path / "plain")
    again = open_node(plain, clock)
    again.circle.found_circle(
        name="Moonflower circle", aim="Unmistakable aim text", domain="D", founder_name="F"
    )
    again.close()
    assert b"Unmistakable aim text" in stored_bytes(plain.data_dir)
    # And the encrypted node reads it all back.
    reopened = open_node(settings, clock)
    try:
        view = reopened.relations.peer_view(peer_entries[0].hash)
        assert view is not None and view.profile["name"] == "Quinceharbour garden"
        assert reopened.records.get_circle().name == "Moonflower circle"
    finally:
        reopened.close()


def test_rate_limits_refill_with_time_and_are_per_client() -> None:
    from node.http.ratelimit import RateLimiter

    now = [0.0]
    limiter = RateLimiter(per_minute=6.0, burst=3.0, clock=lambda: now[0])
    assert [limiter.allow("a") for _ in range(4)] == [True, True, True, False]
    assert limiter.retry_after("a") == 10  # one token every 10 s
    assert limiter.allow("b")  # another client has its own bucket
    now[0] += 9.0
    assert not limiter.allow("a")
    now[0] += 1.5
    assert limiter.allow("a") and not limiter.allow("a")
    now[0] += 3600
    assert [limiter.allow("a") for _ in range(4)] == [True, True, True, False]  # burst, no more


def test_many_addresses_reset_no_ones_limit() -> None:
    """More addresses than the limiter tracks: no bucket that still limits its client is
    forgotten (it used to forget them all at once past 10,000 addresses), the addresses it
    cannot track share one bucket, and what it tracks stays bounded. Clients whose buckets
    have filled up again make room."""
    from node.http.ratelimit import RateLimiter

    now = [0.0]
    limiter = RateLimiter(per_minute=6.0, burst=3.0, clock=lambda: now[0], max_keys=100)
    assert [limiter.allow("a") for _ in range(4)] == [True, True, True, False]
    # A spray of 1,000 addresses, twice each: the 99 tracked get their two, the rest share 3.
    sprayed = sum(limiter.allow(f"spray-{n}") for n in range(1000) for _ in range(2))
    assert sprayed == 99 * 2 + 3
    assert len(limiter._buckets) == 100
    assert not limiter.allow("a")  # still limited
    assert limiter.retry_after("a") == 10 and limiter.retry_after("spray-999") == 10
    now[0] += 10.0
    assert limiter.allow("a") and not limiter.allow("a")  # refilled at its rate, no more

    # Cycling through one address more than are tracked never resets anyone: in all, each
    # tracked address's burst and one shared burst, however many rounds.
    cycling = RateLimiter(per_minute=6.0, burst=3.0, clock=lambda: now[0], max_keys=100)
    allowed = sum(cycling.allow(f"c-{n}") for _ in range(20) for n in range(101))
    assert allowed == 100 * 3 + 3
    assert len(cycling._buckets) == 100

    # Once their buckets are full again (30 s), the tracked clients are forgotten: new ones
    # each get a bucket of their own.
    now[0] += 30.0
    fresh = sum(cycling.allow(f"new-{n}") for n in range(100) for _ in range(4))
    assert fresh == 100 * 3
    assert len(cycling._buckets) == 100


def test_sign_in_and_join_limits_hold_over_http(tmp_path: Path) -> None:
    from federation.wire import Push
    from tests.node.api.everyone import everyone

    world = everyone()
    app = create_app(world.node, None, ServerOptions(public_url="http://testserver"))
    client = TestClient(app, follow_redirects=False)
    page = client.get("/sign-in")
    csrf = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert csrf is not None
    statuses = [
        client.post("/sign-in", data={"csrf": csrf.group(1), "token": f"cn_{n}"}).status_code
        for n in range(12)
    ]
    assert statuses == [401] * 10 + [429] * 2  # ten tries at once, then one every 6 s
    right = client.post("/sign-in", data={"csrf": csrf.group(1), "token": world.tokens["ada"]})
    assert right.status_code == 429 and int(right.headers["retry-after"]) >= 1
    # Unknown nodes: three pushes at once from one address, then 429; a known peer's pushes
    # are never limited.
    msgpack = {"Content-Type": "application/msgpack"}
    stranger = Push(world.stranger.feed.feed_id, [world.stranger.feed.inception()], [])
    codes = [
        client.post("/federation/inbox", content=encode(stranger), headers=msgpack).status_code
        for _ in range(5)
    ]
    assert codes == [403, 403, 403, 429, 429]
    peer = Push(
        world.peer.feed.feed_id,
        [world.peer.feed.inception(), *world.peer.feed.own_entries(0, 10)],
        [],
    )
    codes = [
        client.post("/federation/inbox", content=encode(peer), headers=msgpack).status_code
        for _ in range(10)
    ]
    assert codes == [200] * 10


def test_a_backup_holds_keys_so_it_is_its_owners_alone(tmp_path: Path, clock: Clock) -> None:
    from node.cli.backup import backup
    from node.cli.restore import restore

    settings = Settings(data_dir=tmp_path / "kitchen", encrypt=True)
    node = open_node(settings, clock)
    node.circle.found_circle(name="Moonflower circle", aim="A", domain="D", founder_name="Philippa")
    node.close()
    (settings.data_dir / "circle-node.toml").write_text("encrypt = true\n")
    saved = tmp_path / "kitchen.backup"
    saved.write_bytes(b"an older backup, readable by all")
    os.chmod(saved, 0o644)
    names = backup(settings, saved)
    assert set(names) == {
        "circle.sqlite",
        "node.keys",
        "store.key",
        "circle-node.toml",
        "take-back.pending",
    }
    assert stat.S_IMODE(saved.stat().st_mode) == 0o600
    assert b"Moonflower" not in saved.read_bytes()  # the store inside is still encrypted
    target = tmp_path / "restored" / "kitchen"
    restore(saved, target)
    assert stat.S_IMODE(target.stat().st_mode) == 0o700
    for name in ("node.keys", "store.key"):
        assert stat.S_IMODE((target / name).stat().st_mode) == 0o600
    again = open_node(Settings.load(target), clock)
    assert again.records.get_circle().name == "Moonflower circle"
    again.close()
