"""A command run beside the server (`circle-node move`, another process on the same store,
serving nothing) appends to the own feed: the served node pushes it at once, not at its safety
poll. On SQLite the server hears the commit from the store's `-wal` file
(node/store/file_changes.py); on PostgreSQL the command's store sends a notification
(node/store/append_notices.py)."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path

import pytest

from node.app.persistence import open_node
from node.network.deliveries import Deliveries
from node.network.delivery import Federator
from node.settings import Settings
from node.store.file_changes import wal_file
from tests.node.test_deliveries import caught_up, driving, until
from tests.node.test_delivery import FakeNetwork

pytestmark = pytest.mark.timeout(120)
ROOT = Path(__file__).resolve().parents[2]


def move_command(
    data: Path, url: str, database_url: str | None
) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    env.pop("CIRCLE_NODE_DATABASE_URL", None)
    if database_url is not None:
        env["CIRCLE_NODE_DATABASE_URL"] = database_url
    return subprocess.run(
        [sys.executable, "-m", "node", "move", url, "--data", str(data)],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def pushes_what_a_command_appends(tmp_path: Path, database_url: str | None) -> None:
    settings = Settings(data_dir=tmp_path / "kitchen", database_url=database_url)
    kitchen = open_node(settings)
    garden = open_node(Settings(data_dir=tmp_path / "garden"))
    try:
        kitchen.peering.add_peer(garden.feed.descriptor("garden", "garden"), "garden")
        garden.peering.add_peer(kitchen.feed.descriptor("kitchen", "kitchen"), "kitchen")
        network = FakeNetwork({"kitchen": kitchen, "garden": garden})
        # No safety poll to speak of: only the other process's commit can wake the push.
        deliveries = Deliveries(safety_poll=3600)
        federator = Federator(kitchen, network, pull_interval=3600)  # type: ignore[arg-type]
        deliveries.add(
            "kitchen",
            federator,
            notices=kitchen.store.notice_source(),
            changed_file=kitchen.store.changed_file(),
        )

        async def scenario() -> None:
            await until(lambda: caught_up(garden, kitchen), "the first push")
            held = garden.peering.peer_feed(kitchen.feed.feed_id).next_seq
            pushes = network.pushes
            moved = await asyncio.to_thread(
                move_command, settings.data_dir, "https://kitchen.example", database_url
            )
            assert moved.returncode == 0, moved.stderr

            def pushed() -> bool:
                return garden.peering.peer_feed(kitchen.feed.feed_id).next_seq > held

            await until(pushed, "the command's entry pushed")
            assert network.pushes > pushes

        asyncio.run(driving(deliveries, scenario))
    finally:
        kitchen.close()
        garden.close()


def test_an_entry_a_command_appends_to_a_sqlite_store_is_pushed(tmp_path: Path) -> None:
    pushes_what_a_command_appends(tmp_path, None)


def test_an_entry_a_command_appends_to_a_postgresql_store_is_pushed(
    postgres_url: str, tmp_path: Path
) -> None:
    pushes_what_a_command_appends(tmp_path, postgres_url)


def test_the_file_watched_is_the_stores_wal_and_a_store_in_memory_has_none(
    tmp_path: Path,
) -> None:
    assert wal_file(str(tmp_path / "node.db")) == tmp_path.resolve() / "node.db-wal"
    assert wal_file(":memory:") is None
    assert wal_file("file:kitchen?mode=memory&cache=shared") is None
