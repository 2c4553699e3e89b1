"""The PostgreSQL store of feed entries and bodies: a save's rows go in one statement per table
(arrays of columns), bodies bound again merge their audiences, in a later save or in the same
one."""

from __future__ import annotations

from typing import Any

import psycopg
import pytest

from federation.wire import body_hash, encode
from node.app.node import CircleNode
from node.app.persistence import open_node
from node.settings import Settings
from tests.conftest import Clock

READER, OTHER = bytes([1]) * 32, bytes([2]) * 32


def appended(node: CircleNode, bodies: list[tuple[bytes, list[bytes]]]) -> dict[str, Any]:
    """What saves the own feed's next entries with these bodies (and their audiences)."""
    assert node.feed.keys is not None
    own = node.feed.own_feed()
    entries, rows = [], []
    for body, audience in bodies:
        signed = own.append(node.feed.keys, "decision.record", body, 1_767_225_600_000, audience)
        entries.append((own.feed_id, own.head, encode(signed)))
        rows.append(node.store.body_row(body, audience))
    return {"aggregate": own, "entries": entries, "bodies": rows}


@pytest.fixture
def node(tmp_path: Any, clock: Clock, postgres_url: str) -> Any:
    opened = open_node(Settings(data_dir=tmp_path / "node", database_url=postgres_url), clock)
    yield opened
    opened.close()


def test_a_saves_rows_go_in_one_statement_per_table(
    node: CircleNode, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given ten entries, half of their bodies for one reader.
    save = appended(node, [(b"body %d" % n, [READER] if n % 2 else []) for n in range(10)])
    # When they are saved, no statement is sent once per row.
    many: list[object] = []
    executemany = psycopg.Cursor.executemany

    def counted(self: psycopg.Cursor[Any], query: Any, params_seq: Any, **kwargs: Any) -> None:
        many.append(query)
        executemany(self, query, params_seq, **kwargs)

    monkeypatch.setattr(psycopg.Cursor, "executemany", counted)
    node.save(save.pop("aggregate"), **save)
    assert many == []
    # Then every entry and body is stored, each body for its own audience.
    assert len(node.store.feeds.select_entries(node.feed.feed_id, 0, 100)) == 10
    found = node.store.feeds.select_bodies([body_hash(b"body %d" % n) for n in range(10)])
    assert found[body_hash(b"body 2")][2] == b""
    assert found[body_hash(b"body 3")][2] == READER


def test_a_body_bound_again_is_readable_by_both_audiences(node: CircleNode) -> None:
    # Given a body for one reader, and another public one.
    save = appended(node, [(b"shared", [READER]), (b"public", [])])
    node.save(save.pop("aggregate"), **save)
    # When a later save binds both again for another reader, and a new body twice (for the
    # other reader, then for the first one) in the same save.
    again = [(b"shared", [OTHER]), (b"public", [OTHER])]
    save = appended(node, [*again, (b"twice", [OTHER]), (b"twice", [READER])])
    node.save(save.pop("aggregate"), **save)
    # Then each is readable by every audience it was bound for, and the public one stays so.
    found = node.store.feeds.select_bodies([body_hash(b) for b in (b"shared", b"public", b"twice")])
    assert found[body_hash(b"shared")][2] == READER + OTHER
    assert found[body_hash(b"public")][2] == b""
    assert found[body_hash(b"twice")][2] == OTHER + READER
    assert len(node.store.feeds.select_entries(node.feed.feed_id, 0, 100)) == 6
    # And bound again for readers it has, a body's audience stays as it is (no growth).
    save = appended(node, [(b"shared", [READER]), (b"shared", [OTHER]), (b"twice", [READER])])
    node.save(save.pop("aggregate"), **save)
    found = node.store.feeds.select_bodies([body_hash(b) for b in (b"shared", b"twice")])
    assert found[body_hash(b"shared")][2] == READER + OTHER
    assert found[body_hash(b"twice")][2] == OTHER + READER


def test_bodies_are_read_in_one_statement_however_many(
    node: CircleNode, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a page's worth of bodies (more than SQLite's statements take at once).
    bodies = [b"body %d" % n for n in range(1200)]
    save = appended(node, [(body, []) for body in bodies])
    node.save(save.pop("aggregate"), **save)
    # When they are read, one statement reads them all.
    statements: list[object] = []
    execute = psycopg.Cursor.execute

    def counted(self: psycopg.Cursor[Any], query: Any, *args: Any, **kwargs: Any) -> Any:
        statements.append(query)
        return execute(self, query, *args, **kwargs)

    monkeypatch.setattr(psycopg.Cursor, "execute", counted)
    found = node.store.stored_data([body_hash(body) for body in bodies])
    assert len(statements) == 1
    assert found == {body_hash(body): body for body in bodies}
    assert node.store.stored_data([]) == {}
