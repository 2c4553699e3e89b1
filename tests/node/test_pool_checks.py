"""The shared PostgreSQL pool checks a connection it hands out without a round trip: a
connection the server said nothing on is used as it is; one the server spoke on (its backend
ended, the server shut down) is pinged, and replaced when the ping fails."""

from __future__ import annotations

import socket
import uuid
from pathlib import Path
from typing import Any

import psycopg
import pytest
from psycopg_pool import ConnectionPool

from node.app.persistence import open_node
from node.settings import Settings
from node.store.postgres_pool import checked_if_spoken_to
from tests.conftest import require_postgres


class Pooled:
    """A stand-in for a pooled connection, on one end of a socket pair."""

    def __init__(self, end: socket.socket) -> None:
        self._end = end
        self.closed = False
        self.broken = False
        self.autocommit = True
        self.executed: list[str] = []

    def fileno(self) -> int:
        return self._end.fileno()

    def execute(self, query: str) -> None:
        self.executed.append(query)


def test_a_connection_the_server_said_nothing_on_is_not_pinged() -> None:
    ours, server = socket.socketpair()
    with ours, server:
        connection = Pooled(ours)
        checked_if_spoken_to(connection)
        assert connection.executed == []
        server.sendall(b"E")  # e.g. the notice of a backend terminated while it lay idle
        checked_if_spoken_to(connection)
        assert connection.executed == [""]  # pinged (ConnectionPool.check_connection)
        connection.broken = True
        with pytest.raises(Exception, match="closed"):
            checked_if_spoken_to(connection)


def test_the_pool_pings_only_connections_whose_backend_ended(
    postgres_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pings = []
    check = ConnectionPool.check_connection

    def counted(connection: Any) -> None:
        pings.append(connection)
        check(connection)

    monkeypatch.setattr(ConnectionPool, "check_connection", staticmethod(counted))
    tag = f"pool-check-{uuid.uuid4().hex[:8]}"
    monkeypatch.setenv("PGAPPNAME", tag)
    node = open_node(Settings(data_dir=tmp_path, database_url=postgres_url, database_pool_size=2))
    try:
        node.circle.found_circle(name="Kitchen", aim="Cook", domain="Kitchen", founder_name="Ada")
        for _ in range(5):
            node.records.peek_circle()
        assert pings == []  # no wait on the server before each statement
        with psycopg.connect(require_postgres(), autocommit=True) as admin:
            ended = admin.execute(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                "WHERE application_name = %s AND pid <> pg_backend_pid()",
                (tag,),
            ).fetchone()
        assert ended is not None and ended[0] >= 2
        # The pooled connections' backends are gone: each is found so, and replaced.
        assert node.records.peek_circle().name == "Kitchen"
        assert pings
    finally:
        node.close()
