"""The SQLite store of feed entries and bodies: new stores get SQLite's default pages (stores
made with larger ones keep theirs), rows are inserted many per statement, bodies are looked up
in hash order."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from federation.wire import body_hash, encode
from node.app.persistence import open_node
from node.settings import Settings
from node.store.recorders import by_hash
from tests.conftest import Clock


def page_size(path: Path) -> int:
    connection = sqlite3.connect(path)
    try:
        (size,) = connection.execute("PRAGMA page_size").fetchone()
        return int(size)
    finally:
        connection.close()


def test_a_new_store_has_sqlite_pages_and_an_old_one_keeps_its_own(
    tmp_path: Path, clock: Clock
) -> None:
    new = Settings(data_dir=tmp_path / "new")
    open_node(new, clock).close()
    assert page_size(new.sqlite_path) == 4096
    # A store made with 16 KiB pages (by an earlier version): opened as it is.
    old = Settings(data_dir=tmp_path / "old")
    old.data_dir.mkdir(mode=0o700)
    made = sqlite3.connect(old.sqlite_path)
    made.execute("PRAGMA page_size = 16384")
    made.execute("PRAGMA journal_mode = WAL")
    made.execute("CREATE TABLE earlier (x)")
    made.close()
    node = open_node(old, clock)
    try:
        own = node.feed.own_feed()
        assert own.head == 0 and node.feed.page(-1, 10, None).entries
    finally:
        node.close()
    assert page_size(old.sqlite_path) == 16384


def test_rows_go_in_several_statements_and_bodies_bound_twice_merge(
    tmp_path: Path, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("node.store.sqlite_recorder.ROWS_PER_INSERT", 3)
    node = open_node(Settings(data_dir=tmp_path / "a"), clock)
    try:
        assert node.feed.keys is not None
        reader, other = bytes([1]) * 32, bytes([2]) * 32
        own = node.feed.own_feed()
        entries, bodies = [], []
        for number in range(10):
            body = b"body %d" % number
            audience = [reader] if number % 2 else []
            signed = own.append(
                node.feed.keys, "decision.record", body, 1_767_225_600_000, audience
            )
            entries.append((own.feed_id, own.head, encode(signed)))
            bodies.append(node.store.body_row(body, audience))
        # The same body once more, for another audience: readable by both.
        shared = b"body 1"
        bodies.append(node.store.body_row(shared, [other]))
        node.save(own, entries=entries, bodies=bodies)
        assert len(node.store.feeds.select_entries(node.feed.feed_id, 0, 100)) == 10
        digests = [body_hash(b"body %d" % number) for number in range(10)]
        found = node.store.feeds.select_bodies([*digests, *digests])  # asked twice: found once
        assert sorted(found) == sorted(digests)
        assert found[body_hash(shared)][2] == reader + other
        assert found[body_hash(b"body 2")][2] == b""
        # Serving goes by each entry's own audience.
        assert node.feed.page(0, 100, other).bodies == [b"body %d" % n for n in (0, 2, 4, 6, 8)]
        assert len(node.feed.page(0, 100, reader).bodies) == 10
    finally:
        node.close()


def test_events_go_in_several_statements_with_their_notification_ids(
    tmp_path: Path, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("node.store.sqlite_recorder.ROWS_PER_INSERT", 3)
    node = open_node(Settings(data_dir=tmp_path / "a"), clock)
    try:
        ada = node.circle.found_circle(
            name="Kitchen", aim="Feed", domain="Food", founder_name="Ada"
        )
        circle = node.records.get_circle()
        for number in range(7):
            circle.define_hat(
                ada, f"Hat {number}", "Does things", [], [f"area {number}"], 12, "operational"
            )
        recordings = node.save(circle)  # seven events: three statements
        assert len(recordings) == 7
        stored = node.store.recorder.select_notifications(start=1, limit=10_000)
        by_id = {n.id: (n.originator_id, n.originator_version) for n in stored}
        for recording in recordings:
            event = recording.domain_event
            assert by_id[recording.notification.id] == (
                event.originator_id,
                event.originator_version,
            )
        assert node.records.get_circle().version == circle.version
    finally:
        node.close()


def test_body_rows_go_in_in_the_order_of_their_hashes_and_keep_theirs_within_one() -> None:
    # Given body rows in no order, two of them of one hash (one body bound for two audiences).
    rows = [
        (b"\x02", b"b", b""),
        (b"\x01", b"a", b"x"),
        (b"\x03", b"c", b""),
        (b"\x01", b"a", b"y"),
    ]
    # Then they are inserted by hash, and the two of one hash in the order they came (so that
    # their audiences merge as they came).
    assert by_hash(rows) == [rows[1], rows[3], rows[0], rows[2]]


def test_bodies_new_and_held_in_one_save_keep_the_upserts_outcome(
    tmp_path: Path, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Bodies held already and new ones in one save, three rows to a statement (statements of
    # new rows, of held ones, of both, and with a hash twice): a held body keeps its data, its
    # audience merges with the new one (public if either is), a new one is stored as bound.
    monkeypatch.setattr("node.store.sqlite_recorder.ROWS_PER_INSERT", 3)
    node = open_node(Settings(data_dir=tmp_path / "a"), clock)
    try:
        reader, other = bytes([1]) * 32, bytes([2]) * 32
        first = [(b"held %d" % n, [reader] if n % 2 else []) for n in range(6)]
        node.save(bodies=[node.store.body_row(body, audience) for body, audience in first])
        again = [(b"held %d" % n, [other]) for n in range(6)]
        new = [(b"new %d" % n, [reader] if n % 2 else []) for n in range(7)]
        twice = [(b"new 0", [other]), (b"new 1", [other]), (b"new 1", [])]
        rows = [node.store.body_row(body, audience) for body, audience in again + new + twice]
        node.save(bodies=rows)
        found = node.store.feeds.select_bodies([row[0] for row in rows])
        for n in range(6):  # held: a public one stays public, another merges the audiences
            expected = reader + other if n % 2 else b""
            assert found[body_hash(b"held %d" % n)] == (
                body_hash(b"held %d" % n),
                b"held %d" % n,
                expected,
            )
        assert found[body_hash(b"new 0")][2] == b""  # public first: stays public
        assert found[body_hash(b"new 1")][2] == b""  # then bound public: public
        for n in range(2, 7):
            assert found[body_hash(b"new %d" % n)][1:] == (
                b"new %d" % n,
                reader if n % 2 else b"",
            )
        assert len(found) == 13
        # All held, bound again for readers they have: the audiences stay as they are.
        node.save(bodies=[node.store.body_row(b"held %d" % n, [reader]) for n in range(6)])
        found = node.store.feeds.select_bodies([body_hash(b"held 1"), body_hash(b"held 2")])
        assert found[body_hash(b"held 1")][2] == reader + other
        assert found[body_hash(b"held 2")][2] == b""
    finally:
        node.close()
