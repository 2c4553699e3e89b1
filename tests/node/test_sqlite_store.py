"""The SQLite store's reads of events, on a few connections of their own shared by every thread
(node/store/sqlite_store.py): the same answers as the library's pooled reads, the last committed
state whoever committed it, a few connections kept however many threads read, closed with the
store, and errors the node answers 503."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from eventsourcing.persistence import InterfaceError, OperationalError
from eventsourcing.sqlite import SQLiteAggregateRecorder

from domain.register import index_id
from node.app.persistence import open_node
from node.settings import Settings
from node.store.sqlite_store import Readers, readers_of


def _pooled(recorder: object, originator_id: object, **kwargs: object) -> list[object]:
    """The library's own read, through its connection pool and a transaction."""
    return list(SQLiteAggregateRecorder.select_events(recorder, originator_id, **kwargs))  # type: ignore[arg-type]


def test_reads_of_events_answer_as_the_library_reads_them(tmp_path: Path) -> None:
    node = open_node(Settings(data_dir=tmp_path / "node"))
    try:
        ada = node.circle.found_circle(
            name="Kitchen", aim="Feed", domain="Food", founder_name="Ada"
        )
        for number in range(5):
            node.people.add_founding_member(ada, f"Member {number}")
        circle_id = node.records.circle_id
        recorder = node.store.recorder
        assert readers_of(recorder.datastore) is not None  # type: ignore[attr-defined]
        for kwargs in (
            {},
            {"gt": 2},
            {"lte": 3},
            {"gt": 1, "lte": 4},
            {"desc": True, "limit": 1},
            {"desc": True},
            {"gt": 2, "limit": 2},
            {"gt": 10_000},
        ):
            ours = list(recorder.select_events(circle_id, **kwargs))  # type: ignore[arg-type]
            assert ours == _pooled(recorder, circle_id, **kwargs), kwargs
        assert list(recorder.select_events(index_id("nothing"))) == []
        # The snapshots' recorder reads the same way.
        node.store.take_snapshot(circle_id)
        snapshots = node.store.snapshots.recorder  # type: ignore[union-attr]
        latest = list(snapshots.select_events(circle_id, desc=True, limit=1))
        assert latest and latest == _pooled(snapshots, circle_id, desc=True, limit=1)
    finally:
        node.close()


def test_a_thread_reads_what_another_handle_committed_on_a_connection_kept_for_reads(
    tmp_path: Path,
) -> None:
    settings = Settings(data_dir=tmp_path / "node")
    first, second = open_node(settings), open_node(settings)
    try:
        ada = first.circle.found_circle(
            name="Kitchen", aim="Feed", domain="Food", founder_name="Ada"
        )
        version = first.records.peek_circle().version
        readers = readers_of(first.store.recorder.datastore)  # type: ignore[attr-defined]
        assert readers is not None
        seen: list[int] = []

        def read() -> None:
            seen.append(first.records.peek_circle().version)

        second.people.add_founding_member(ada, "Ben")
        threads = [threading.Thread(target=read) for _ in range(5)]
        for thread in threads:
            thread.start()
            thread.join()
        # Committed by another handle (another worker) after this node last read: seen, by
        # each thread, on the one connection kept between reads one after another.
        assert seen and all(each > version for each in seen)
        assert readers.open_idle == 1
    finally:
        first.close()
        second.close()
    with pytest.raises(InterfaceError):
        readers.rows("SELECT 1", [])  # closed with the store, in every thread


def test_a_store_that_cannot_be_read_is_an_operational_error(tmp_path: Path) -> None:
    readers = Readers(str(tmp_path / "no such folder" / "circle.sqlite"), timeout=1)
    with pytest.raises(OperationalError):
        readers.rows("SELECT 1", [])
    readers.close()


def test_an_in_memory_store_reads_through_the_pool() -> None:
    from eventsourcing.sqlite import SQLiteDatastore

    assert readers_of(SQLiteDatastore(":memory:")) is None


def test_reads_at_once_open_more_connections_and_only_a_few_stay_open(tmp_path: Path) -> None:
    import sqlite3

    readers = Readers(str(tmp_path / "circle.sqlite"), timeout=1, keep=2)
    # Five reads under way at once (as five threads would hold them), each on a connection.
    taken = [readers._take() for _ in range(5)]
    assert len({id(each) for each in taken}) == 5
    for connection in taken:
        readers._give_back(connection)
    assert readers.open_idle == 2  # the rest closed as their reads ended
    for connection in taken[2:]:
        with pytest.raises(sqlite3.ProgrammingError):
            connection.execute("SELECT 1")  # closed
    # The next reads take the kept ones: no connection is opened for them.
    assert readers.rows("SELECT 1", []) == [(1,)]
    assert readers._take() in taken[:2]
    readers.close()


# Threads reading in a loop while the store closes, in a process of its own (a crash there
# is a failed test, not a lost test run).
_READING_WHILE_CLOSING = """
import sqlite3, sys, threading, time
from node.store.sqlite_store import Readers

path = sys.argv[1]
made = sqlite3.connect(path)
made.execute("CREATE TABLE t (a)")
made.executemany("INSERT INTO t VALUES (?)", [(i,) for i in range(2000)])
made.commit()
made.close()
for _ in range(30):
    readers = Readers(path, timeout=1)
    refused = []

    def read():
        while True:
            try:
                readers.rows("SELECT a FROM t WHERE a > ? ORDER BY a DESC", [5])
            except Exception as error:
                refused.append(type(error).__name__)
                return

    threads = [threading.Thread(target=read) for _ in range(3)]
    for thread in threads:
        thread.start()
    time.sleep(0.02)
    readers.close()
    for thread in threads:
        thread.join()
    assert refused == ["InterfaceError"] * 3, refused
print("closed cleanly")
"""


def test_closing_waits_for_the_reads_under_way_and_refuses_new_ones(tmp_path: Path) -> None:
    # Closing a connection while another thread ran a statement on it crashed the process
    # (SIGSEGV) when `serve` stopped while delivery was reading.
    import subprocess
    import sys

    done = subprocess.run(
        [sys.executable, "-c", _READING_WHILE_CLOSING, str(tmp_path / "circle.sqlite")],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=Path(__file__).resolve().parents[2],
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == "closed cleanly"
