"""One PostgreSQL pool per process and server: many stores, one schema each (a host's circles),
open no more connections than the pool's size, and one more for their outbox claims."""

from __future__ import annotations

import contextlib
import socket
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg
import pytest
from psycopg import sql

from node.app.node import CircleNode
from node.app.persistence import open_node, postgres_env
from node.settings import Settings, SettingsError
from node.store.postgres_pool import shared_pools
from tests.conftest import require_postgres

STORES = 50
POOL = 4


@pytest.fixture
def schemas() -> Iterator[list[str]]:
    base = require_postgres()
    prefix = f"circle_pool_{uuid.uuid4().hex[:8]}"
    names = [f"{prefix}_{i}" for i in range(STORES)]
    yield names
    with psycopg.connect(base, autocommit=True) as connection:
        for name in names:
            connection.execute(
                sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(name))
            )


def _connections(name: str) -> int:
    """The server's sessions opened under the application name `name` (this test's)."""
    with psycopg.connect(require_postgres(), autocommit=True) as connection:
        row = connection.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE application_name = %s "
            "AND pid <> pg_backend_pid()",
            (name,),
        ).fetchone()
    assert row is not None
    return int(row[0])


def test_fifty_stores_on_fifty_schemas_share_one_pool(
    schemas: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    tag = f"pool-test-{uuid.uuid4().hex[:8]}"
    monkeypatch.setenv("PGAPPNAME", tag)  # libpq names this test's sessions so
    base = require_postgres()
    pools_before = shared_pools()
    nodes: list[CircleNode] = []
    try:
        for number, schema in enumerate(schemas):
            settings = Settings(
                data_dir=tmp_path / f"circle{number}",
                database_url=f"{base}?schema={schema}",
                database_pool_size=POOL,
            )
            nodes.append(open_node(settings))
        assert shared_pools() == pools_before + 1
        for number, node in enumerate(nodes):
            node.circle.found_circle(name=f"Circle {number}", aim="A", domain="D", founder_name="F")
            assert node.outbox.claim_outbox(bytes(32))  # a schema's claim is its own
        assert 1 <= _connections(tag) <= POOL + 1  # the pool, and the claims' own connection
        # Each store reads its own schema, not another's.
        assert [node.records.get_circle().name for node in nodes] == [
            f"Circle {number}" for number in range(STORES)
        ]
        # Closing some leaves the others working, on the same pool.
        for node in nodes[: STORES // 2]:
            node.close()
        left = nodes[STORES // 2 :]
        for node in left:
            assert node.records.get_circle().name.startswith("Circle ")
            assert not node.outbox.claim_outbox(bytes(32))  # still held by that store
            node.outbox.release_outbox(bytes(32))
        assert _connections(tag) <= POOL + 1
        # A store reopened on a closed one's schema finds what it stored.
        again = open_node(
            Settings(
                data_dir=tmp_path / "circle0",
                database_url=f"{base}?schema={schemas[0]}",
                database_pool_size=POOL,
            )
        )
        nodes.append(again)
        assert again.records.get_circle().name == "Circle 0"
        assert again.outbox.claim_outbox(bytes(32))  # its claim ended with the closed store
    finally:
        for node in nodes:
            node.close()  # again, for those closed already: nothing more is closed
    # The last store closed closes the pool and the claims' connection.
    assert shared_pools() == pools_before
    assert _connections(tag) == 0


def test_the_pool_size_is_a_setting(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "circle-node.toml").write_text(
        'database_url = "postgresql://db.example/coop?schema=kitchen"\ndatabase_pool_size = 3\n'
    )
    settings = Settings.load(tmp_path)
    assert settings.database_pool_size == 3
    env = postgres_env(str(settings.database_url), settings.database_pool_size)
    assert (env["POSTGRES_POOL_SIZE"], env["POSTGRES_MAX_OVERFLOW"]) == ("3", "0")
    assert Settings(data_dir=tmp_path).database_pool_size == 10
    monkeypatch.setenv("CIRCLE_NODE_DATABASE_POOL_SIZE", "0")
    with pytest.raises(SettingsError, match=r"^CIRCLE_NODE_DATABASE_POOL_SIZE: "):
        Settings.load(tmp_path)


class CountedServer:
    """The PostgreSQL server, reached through a forwarder on loopback that counts the
    connections made to it (whatever in the process makes them)."""

    def __init__(self, host: str, port: int) -> None:
        self._upstream = (host, port)
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = self._listener.getsockname()[1]
        self.connects = 0
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return  # closed
            self.connects += 1
            server = socket.create_connection(self._upstream)
            for source, sink in ((client, server), (server, client)):
                threading.Thread(target=_pump, args=(source, sink), daemon=True).start()

    def close(self) -> None:
        self._listener.close()


def _pump(source: socket.socket, sink: socket.socket) -> None:
    with contextlib.suppress(OSError):
        while data := source.recv(1 << 16):
            sink.sendall(data)
    with contextlib.suppress(OSError):
        sink.shutdown(socket.SHUT_WR)


def test_stores_opened_on_many_schemas_connect_no_more_than_the_pool(
    schemas: list[str], tmp_path: Path
) -> None:
    """A host's start: its circles opened one after another, each on a schema of its own that
    is made if missing, connect to the server no more often than the pool's size (and once
    more, to make the first schema before the pool exists)."""
    base = urlsplit(require_postgres())
    counted = CountedServer(base.hostname or "localhost", base.port or 5432)
    user, at, _ = base.netloc.rpartition("@")
    through = urlunsplit(base._replace(netloc=f"{user}{at}127.0.0.1:{counted.port}"))
    nodes: list[CircleNode] = []
    try:
        # When a host opens its circles, each on a schema of its own (made on opening).
        for number, schema in enumerate(schemas):
            settings = Settings(
                data_dir=tmp_path / f"circle{number}",
                database_url=f"{through}?schema={schema}",
                database_pool_size=POOL,
            )
            nodes.append(open_node(settings))
        # Then the server saw the pool's connections, and the first schema's own: not one
        # connection per circle.
        assert counted.connects <= POOL + 1, counted.connects
    finally:
        for node in nodes:
            node.close()
        counted.close()
