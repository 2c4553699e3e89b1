"""Forks and leaked keys between nodes in one process (PROTOCOL.md 6.1 and 7.4): a node restored
from an old backup forks its feed, `recover`'s superseding rotation resolves it at every peer
(by push and by pull), and an entry signed by a key retired since is kept as evidence without
stopping the feed.

Cast: node `a` (the kitchen circle, which is backed up, restored and recovers), and its peers
`b` and `c`."""

from __future__ import annotations

import asyncio
import re
import subprocess
import sys
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import msgspec
import pytest
from fastapi.testclient import TestClient

from federation.feed import FeedState, append, incept
from federation.keys import NodeKeys
from federation.verify import Reason, decode_entry
from federation.wire import FeedPage, NodeDescriptor, Push, SignedEntry, encode
from node.app.logbook import read_logbook
from node.app.node import CircleNode
from node.app.persistence import open_node, recover_node_feed, rotate_node_key
from node.cli.backup import backup
from node.cli.restore import restore
from node.http.api.relations import peer_out
from node.http.server import ServerOptions, create_app
from node.network.batch import Outgoing
from node.network.delivery import Federator
from node.network.feeds import dropped_entries_key
from node.settings import Settings
from tests.conftest import Clock
from tests.node.test_cli import run
from tests.node.test_federation_node import connect, deliver, publish

Make = Callable[[str], CircleNode]


class Pulls:
    """The network as the puller of `reader` sees it: every pull is served by `node`."""

    def __init__(self, node: CircleNode, reader: CircleNode) -> None:
        self.node, self.reader = node, reader

    async def pull(self, url: str, after: int, limit: int) -> FeedPage:
        return self.node.feed.page(after, limit, self.reader.feed.feed_id)


def banners(node: CircleNode) -> list[str]:
    """The alerts the members' pages show (the overview at `/` is drawn by the same base)."""
    client = TestClient(create_app(node, None, ServerOptions(public_url="http://testserver")))
    page = client.get("/")
    assert page.status_code == 200
    return [
        " ".join(text.split())
        for text in re.findall(r'<p class="alert"[^>]*>(.*?)</p>', page.text, re.S)
    ]


def restored(a: CircleNode, tmp_path: Path, clock: Clock, name: str) -> CircleNode:
    """A node opened from a backup of `a` taken now (`a` goes on, as if it were lost later)."""
    archive = tmp_path / f"{name}.tar"
    backup(Settings(data_dir=tmp_path / "a"), archive)
    restore(archive, tmp_path / name)
    return open_node(Settings(data_dir=tmp_path / name), clock)


def test_a_forked_feed_is_recovered_and_peers_go_on_taking_it(
    make: Make, tmp_path: Path, clock: Clock
) -> None:
    # Given a node whose peers b and c hold its feed up to seq n, and d (down for a while) up
    # to seq k, when the node was backed up.
    a, b, c, d = make("a"), make("b"), make("c"), make("d")
    connect(a, b), connect(a, c), connect(a, d)
    publish(a, 2)
    deliver(a, b), deliver(a, c), deliver(a, d)
    backup_seq = a.feed.own_feed().head
    old = restored(a, tmp_path, clock, "a-old")  # the backup, opened later
    publish(a, 3)
    deliver(a, b), deliver(a, c)
    n = a.feed.own_feed().head
    dropped = a.feed.own_entries(backup_seq, 100)
    a.close()
    # When the node restored from the backup takes its feed back from d alone (b and c cannot
    # be reached), it holds nothing more, and signs at seqs it had used: b and c stop it.
    copy = d.peering.held_copy(old.feed.feed_id, old.take_back.base(), 1000)
    assert copy is not None and old.take_back.take([("d", [copy])]) == 0
    assert not old.take_back.pending
    publish(old, 1)
    forked = old.feed.own_entries(backup_seq, 100)
    for peer in (b, c):
        reply = peer.intake.receive_push(old.outbox.pending_push(peer.feed.feed_id))  # type: ignore[arg-type]
        assert reply.reason == Reason.EQUIVOCATION
        assert peer.peering.peer(old.feed.feed_id).stopped  # type: ignore[union-attr]
    assert deliver(old, d) == 1  # d held less: it takes the entry b and c refused
    # And it recovers right after the last entry its peers agree on.
    seq = recover_node_feed(old, Settings(data_dir=tmp_path / "a-old"), backup_seq)
    assert seq == backup_seq + 1 and old.feed.own_feed().head == seq
    # Its own entry after that seq is kept apart too.
    mine = dropped_entries_key(old.feed.own_entries(backup_seq, 1)[0].hash)
    assert old.store.feeds.select_entries(mine, backup_seq, 10) == [encode(e) for e in forked]
    # Then b takes the superseding rotation by push, and c by pull, from the stopped feed; d,
    # which held the entry signed after the restore, by push.
    assert deliver(old, b) == 1 and deliver(old, d) == 1
    stopped = c.peering.peer(old.feed.feed_id)
    assert stopped is not None
    puller = Federator(c, Pulls(old, c))  # type: ignore[arg-type]
    assert asyncio.run(puller.take_superseding(stopped)) == 1
    record = d.peering.peer(old.feed.feed_id)
    assert record is not None and (record.superseded_seq, record.superseded_dropped) == (seq, 1)
    for peer in (b, c):
        record = peer.peering.peer(old.feed.feed_id)
        assert record is not None and not record.stopped
        assert record.superseded_seq == seq and record.superseded_dropped == n - backup_seq
        # The dropped entries are kept apart, as evidence, and the feed held ends at the rotation.
        assert record.superseded_evidence is not None
        kept = peer.store.feeds.select_entries(record.superseded_evidence, backup_seq, 100)
        assert kept == [encode(entry) for entry in dropped]
        assert peer.peering.peer_feed(old.feed.feed_id).next_seq == seq + 1
        # The members are told which entries were dropped.
        told = [line.text for line in read_logbook(peer)]
        assert any(f"entries {seq} to {n}" in text for text in told), told
        (banner,) = banners(peer)
        assert "Recovered feed" in banner and old.feed.node_id in banner
        assert f"entries {seq} to {n}" in banner
        shown = peer_out(peer, record).superseded  # and the member API
        assert shown is not None and (shown.seq, shown.dropped) == (seq, n - backup_seq)
    # And both go on taking the feed, signed by the new key.
    publish(old, 2)
    assert deliver(old, b) == 2 and deliver(old, c) == 2 and deliver(old, d) == 2
    for peer in (b, c, d):
        assert peer.peering.peer_feed(old.feed.feed_id).next_seq == old.feed.own_feed().next_seq


def test_an_entry_signed_by_a_retired_key_is_evidence_and_the_feed_goes_on(
    make: Make, tmp_path: Path
) -> None:
    # Given a node that rotated its key after b took its first entries.
    a, b = make("a"), make("b")
    connect(a, b)
    publish(a, 2)
    first_keys = a.feed.keys
    assert first_keys is not None
    deliver(a, b)
    head = a.feed.own_feed().head
    rotate_node_key(a, Settings(data_dir=tmp_path / "a"))
    deliver(a, b)
    # When a thief of the retired key signs another entry at a seq before the rotation.
    previous, _ = a.feed.own_entries(head - 2, 2)
    at = FeedState(
        a.feed.feed_id, head, previous.hash, first_keys.current_public, first_keys.next_digest
    )
    stolen, _ = append(at, first_keys, "decision.record", b"\x80", 5)
    reply = b.intake.receive_push(Push(a.feed.feed_id, [stolen], []))
    # Then it is kept as evidence that the key leaked, the members are told, and the feed goes on.
    assert reply.reason == Reason.RETIRED_KEY
    peer = b.peering.peer(a.feed.feed_id)
    assert peer is not None and not peer.stopped
    assert peer.retired_key_seq == head and peer.retired_key_conflicting == encode(stolen)
    assert any("retired" in line.text for line in read_logbook(b))
    (banner,) = banners(b)
    assert "Leaked key" in banner and a.feed.node_id in banner and f"place {head}" in banner
    shown = peer_out(b, peer).retired_key  # and the member API
    assert shown is not None and shown.seq == head and shown.conflicting == encode(stolen).hex()
    publish(a, 1)
    assert deliver(a, b) == 1
    # A feed held by a version that did not record its key events: they are read from the
    # entries held, and come out the same.
    feed = b.peering.peer_feed(a.feed.feed_id)
    recorded = feed.key_epochs()
    assert recorded is not None and len(recorded) == 2
    del feed.__dict__["key_events"]
    assert feed.key_epochs() is None
    assert b.peering.key_history(feed)() == recorded


def test_the_held_half_of_an_equivocation_proof_verifies_on_its_own(make: Make) -> None:
    # Given a feed whose entry 2 carries a signature that does not verify: inside a pulled page,
    # only the chain vouches for it (the page's last entry is signed).
    author = NodeKeys.generate()
    inception, state = incept(author, 1)
    entries = []
    for number in range(1, 4):
        signed, _ = append(state, author, "decision.record", None, number)
        if number == 2:
            signed = SignedEntry(signed.entry, bytes(64))
        entries.append(signed)
        state = replace(state, next_seq=state.next_seq + 1, last_hash=signed.hash)
    b = make("b")
    b.peering.add_peer(
        NodeDescriptor(1, inception.hash, inception, 3, "a", "http://a.invalid"), "http://a.invalid"
    )
    assert b.intake.receive_page(FeedPage(inception.hash, entries, [], 3)) == 3
    # When the author signs another entry at seq 2.
    before = replace(state, next_seq=2, last_hash=entries[0].hash)
    fork, _ = append(before, author, "decision.record", b"\x80", 9)
    b.intake.receive_push(Push(inception.hash, [fork], []))
    # Then the proof holds both, with the held entry's chain up to a signature that verifies.
    peer = b.peering.peer(inception.hash)
    assert peer is not None and peer.stopped and peer.equivocation_seq == 2
    assert peer.equivocation_held == encode(entries[1])
    assert msgspec.msgpack.decode(peer.equivocation_chain, type=list[SignedEntry]) == [entries[2]]


def test_recover_on_the_command_line_says_what_it_drops_and_peers_take_it(
    make: Make, tmp_path: Path, clock: Clock
) -> None:
    # Given a node backed up at seq k whose peer holds its feed up to n > k.
    a, b = make("a"), make("b")
    connect(a, b)
    publish(a, 2)
    deliver(a, b)
    k = a.feed.own_feed().head
    assert run("backup", str(tmp_path / "a.tar"), "--data", str(tmp_path / "a")).returncode == 0
    publish(a, 3)
    deliver(a, b)
    n = a.feed.own_feed().head
    a.close()
    # When it is restored (its later entries lost with the disk) and recovered.
    assert run("restore", str(tmp_path / "a.tar"), "--data", str(tmp_path / "a2")).returncode == 0
    data = ("--data", str(tmp_path / "a2"))
    asked = run_with_input("n\n", "recover", *data)
    # Then `recover` first says what will be dropped, and signs nothing unless confirmed.
    assert asked.returncode == 1 and "nothing was signed" in asked.stderr
    assert f"entry {k + 1}" in asked.stdout and f"what its peers hold after seq {k}" in asked.stdout
    wrong = run("recover", "--after", str(k + 5), "--yes", *data)
    assert wrong.returncode == 1 and len(wrong.stderr.strip().splitlines()) == 1
    assert "Traceback" not in wrong.stderr
    done = run("recover", "--yes", *data)
    assert done.returncode == 0, done.stderr
    assert f"superseding rotation at seq {k + 1}" in done.stdout and "new backup" in done.stdout
    # And the peer takes the rotation, drops entries k+1 to n (kept as evidence), and goes on.
    recovered = open_node(Settings(data_dir=tmp_path / "a2"), clock)
    try:
        assert deliver(recovered, b) == 1
        peer = b.peering.peer(recovered.feed.feed_id)
        assert peer is not None and peer.superseded_seq == k + 1
        assert peer.superseded_dropped == n - k
        publish(recovered, 1)
        assert deliver(recovered, b) == 1
        # `rotate-key` says to take a new backup: the one before lacks the new next key.
    finally:
        recovered.close()
    rotated = run("rotate-key", *data)
    assert rotated.returncode == 0 and "Take a new backup now" in rotated.stdout


def run_with_input(text: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "node", *args],
        input=text,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.parametrize("kind", ["memory", "sqlite", "postgres"])
def test_a_superseding_rotation_moves_the_entries_it_drops_apart_in_every_store(
    kind: str, tmp_path: Path, clock: Clock, request: pytest.FixtureRequest
) -> None:
    if kind == "memory":
        env = {"PERSISTENCE_MODULE": "node.store.memory_store"}
        node = CircleNode(env=env, clock=clock, keys=NodeKeys.generate())
    else:
        url = request.getfixturevalue("postgres_url") if kind == "postgres" else None
        node = open_node(Settings(data_dir=tmp_path / kind, database_url=url), clock)
    try:
        # Given an own feed of four entries after the inception.
        own, rows, bodies = node.feed.sign([Outgoing("decision.record", None, [])] * 4)
        node.store.save(own, entries=rows, bodies=bodies)
        dropped = node.feed.own_entries(2, 10)
        # When a superseding rotation follows entry 2.
        rotation = node.feed.supersede(2, stage=lambda keys: None)
        # Then the feed is 0..3, ending with the rotation, and entries 3 and 4 are kept apart.
        held = node.feed.own_entries(-1, 10)
        assert [decode_entry(entry).seq for entry in held] == [0, 1, 2, 3]
        assert held[-1] == rotation and node.feed.own_feed().head == 3
        evidence = dropped_entries_key(rotation.hash)
        assert node.store.feeds.select_entries(evidence, 2, 10) == [encode(e) for e in dropped]
        # And the feed goes on with the new key.
        own, rows, bodies = node.feed.sign([Outgoing("decision.record", None, [])])
        node.store.save(own, entries=rows, bodies=bodies)
        assert decode_entry(node.feed.own_entries(3, 10)[0]).seq == 4
    finally:
        node.close()


def test_a_backup_taken_before_a_rotation_cannot_recover_and_says_so(
    make: Make, tmp_path: Path, clock: Clock
) -> None:
    # Given a node backed up, which then rotated its key; its peer holds the rotation.
    a, b = make("a"), make("b")
    connect(a, b)
    publish(a, 2)
    deliver(a, b)
    archive = tmp_path / "a.tar"
    backup(Settings(data_dir=tmp_path / "a"), archive)
    rotate_node_key(a, Settings(data_dir=tmp_path / "a"))
    publish(a, 1)
    deliver(a, b)
    a.close()
    # When it is restored from the backup and takes its feed back (the rotation with it).
    restore(archive, tmp_path / "a2")
    old = open_node(Settings(data_dir=tmp_path / "a2"), clock)
    copy = b.peering.held_copy(old.feed.feed_id, old.take_back.base(), 1000)
    assert copy is not None and old.take_back.take([("b", [copy])]) == 2
    assert old.take_back.pending  # its key file cannot sign the feed
    old.close()
    # Then `recover` refuses in one line (the node does not even open: its key file lacks the
    # key the feed is signed with now), and signs nothing.
    refused = run("recover", "--yes", "--data", str(tmp_path / "a2"))
    assert refused.returncode == 1 and "Traceback" not in refused.stderr
    assert len(refused.stderr.strip().splitlines()) == 1
    assert "key file does not hold the key" in refused.stderr
    reopened = open_node(Settings(data_dir=tmp_path / "a2"), clock, federated=False)
    try:
        assert reopened.feed.own_feed().head == copy.head
    finally:
        reopened.close()
