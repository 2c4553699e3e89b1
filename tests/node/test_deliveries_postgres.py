"""Several processes on one PostgreSQL store: an append in one wakes delivery in another (a
notification), and one process at a time holds the lease that pulls and keeps the calendar,
taken over when its holder dies."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import psycopg
import pytest

from node.app.persistence import open_node
from node.network.deliveries import Deliveries
from node.network.delivery import Federator
from node.settings import Settings
from node.store.leader_lease import LeaderLease
from tests.node.test_deliveries import caught_up, driving, found, until
from tests.node.test_delivery import FakeNetwork

pytestmark = pytest.mark.timeout(120)
ROOT = Path(__file__).resolve().parents[2]

FOUNDING = """
import sys
from pathlib import Path
from node.app.persistence import open_node
from node.settings import Settings

node = open_node(Settings(data_dir=Path(sys.argv[1]), database_url=sys.argv[2]))
node.circle.found_circle(name="Kitchen", aim="Feed", domain="Food", founder_name="Ada")
node.close()
"""

HOLDING = """
import sys, time
import psycopg
from node.store.leader_lease import LeaderLease

lease = LeaderLease(lambda: psycopg.connect(sys.argv[1], autocommit=True), sys.argv[2])
print("held" if lease.try_take() else "not held", flush=True)
time.sleep(600)
"""


def python(script: str, *args: str) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.Popen(
        [sys.executable, "-c", script, *args], env=env, stdout=subprocess.PIPE, text=True
    )


def test_an_append_in_another_process_wakes_this_ones_push(
    postgres_url: str, tmp_path: Path
) -> None:
    settings = Settings(data_dir=tmp_path / "kitchen", database_url=postgres_url)
    kitchen = open_node(settings)
    garden = open_node(Settings(data_dir=tmp_path / "garden"))
    try:
        kitchen.peering.add_peer(garden.feed.descriptor("garden", "garden"), "garden")
        garden.peering.add_peer(kitchen.feed.descriptor("kitchen", "kitchen"), "kitchen")
        network = FakeNetwork({"kitchen": kitchen, "garden": garden})
        source = kitchen.store.notice_source()
        assert source is not None
        # No safety poll to speak of: only the notification can wake the push.
        deliveries = Deliveries(safety_poll=3600)
        federator = Federator(kitchen, network, pull_interval=3600)  # type: ignore[arg-type]
        deliveries.add("kitchen", federator, notices=source)

        async def scenario() -> None:
            await until(lambda: caught_up(garden, kitchen), "the first push")
            pushes = network.pushes
            other = python(FOUNDING, str(settings.data_dir), postgres_url)
            assert await asyncio.to_thread(other.wait, 60) == 0
            await until(lambda: caught_up(garden, kitchen), "the other process's append pushed")
            assert network.pushes > pushes
            assert garden.peering.peer_feed(kitchen.feed.feed_id).next_seq > 1

        asyncio.run(driving(deliveries, scenario))
    finally:
        kitchen.close()
        garden.close()


def test_one_holder_of_the_lease_at_a_time_and_it_is_taken_over_when_its_holder_dies(
    postgres_url: str, tmp_path: Path
) -> None:
    base = postgres_url.split("?")[0]
    name = f"lease-test-{postgres_url.rsplit('=', 1)[-1]}"

    def connect() -> psycopg.Connection[object]:
        return psycopg.connect(base, autocommit=True)

    # Two holders in this process: one has it, the other has not until the first lets go.
    first, second = LeaderLease(connect, name), LeaderLease(connect, name)
    assert first.try_take() and first.held
    assert not second.try_take() and not second.held
    assert first.try_take()  # still held (asked again)
    first.release()
    assert not first.held
    assert second.try_take()
    second.release()

    # A holder in another process, killed: the lease goes with its connection.
    holder = python(HOLDING, base, name)
    try:
        assert holder.stdout is not None
        assert holder.stdout.readline().strip() == "held"
        mine = LeaderLease(connect, name)
        assert not mine.try_take()
        holder.send_signal(signal.SIGKILL)
        holder.wait(30)
        deadline = time.monotonic() + 30
        while not mine.try_take():
            assert time.monotonic() < deadline, "the dead holder's lease was never taken over"
            time.sleep(0.1)
        mine.release()
    finally:
        holder.kill()
        holder.wait(30)


def test_a_holder_whose_check_goes_unanswered_stops_leading(postgres_url: str) -> None:
    base = postgres_url.split("?")[0]
    name = f"lease-test-{postgres_url.rsplit('=', 1)[-1]}-check"
    sessions: list[psycopg.Connection[object]] = []

    def connect() -> psycopg.Connection[object]:
        sessions.append(psycopg.connect(base, autocommit=True))
        return sessions[-1]

    holder = LeaderLease(connect, name, check_timeout=0.5)
    assert holder.try_take()
    # Its session asks the server to end it only after a long silence, and bounds its check.
    session = sessions[0]
    shown = {
        setting: session.execute(f"SHOW {setting}").fetchone()[0]  # type: ignore[index]
        for setting in ("tcp_keepalives_idle", "tcp_keepalives_count", "statement_timeout")
    }
    assert shown == {"tcp_keepalives_idle": "30", "tcp_keepalives_count": "3",
                     "statement_timeout": "500ms"}  # fmt: skip
    # When the server does not answer its check (here: the lock table it reads is locked),
    # the check times out and the holder stops leading, its session (and lock) given up.
    with psycopg.connect(base) as blocking:
        blocking.execute("LOCK TABLE pg_catalog.pg_locks IN ACCESS EXCLUSIVE MODE")
        assert not holder.try_take() and not holder.held
        assert session.closed
    other = LeaderLease(lambda: psycopg.connect(base, autocommit=True), name)
    assert other.try_take()
    other.release()


def test_the_connections_beside_the_pool_have_keepalives_and_a_tcp_user_timeout(
    postgres_url: str, tmp_path: Path
) -> None:
    node = open_node(Settings(data_dir=tmp_path / "kitchen", database_url=postgres_url))
    try:
        recorder = node.store.recorder
        expected = {
            "keepalives": "1",
            "keepalives_idle": "10",
            "keepalives_interval": "5",
            "keepalives_count": "2",
            "tcp_user_timeout": "10000",
        }
        with recorder.connect_apart() as lease_connection:  # type: ignore[attr-defined]
            parameters = lease_connection.info.get_parameters()
        assert {key: parameters.get(key) for key in expected} == expected
        source = node.store.notice_source()  # the listener's connection
        assert source is not None
        assert {key: str(source.connect_kwargs.get(key)) for key in expected} == expected
    finally:
        node.close()


def test_the_workers_of_one_store_share_its_lease(postgres_url: str, tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "kitchen", database_url=postgres_url)
    one, two = open_node(settings), open_node(settings)
    try:
        leases = [one.store.leader_lease(), two.store.leader_lease()]
        assert [lease.try_take() for lease in leases] == [True, False]
        leases[0].release()
        assert leases[1].try_take()
        leases[1].release()
    finally:
        one.close()
        two.close()


def test_when_the_leading_process_stops_another_takes_over_the_pulls(
    postgres_url: str, tmp_path: Path
) -> None:
    settings = Settings(data_dir=tmp_path / "kitchen", database_url=postgres_url)
    workers = [open_node(settings), open_node(settings)]
    garden = open_node(Settings(data_dir=tmp_path / "garden"))
    try:
        workers[0].peering.add_peer(garden.feed.descriptor("garden", "garden"), "garden")
        network = FakeNetwork({"garden": garden})
        loops = []
        for worker in workers:
            deliveries = Deliveries(lease=worker.store.leader_lease(), lease_interval=0.1)
            deliveries.add("kitchen", Federator(worker, network, pull_interval=3600))  # type: ignore[arg-type]
            loops.append(deliveries)

        async def scenario() -> None:
            tasks = [asyncio.create_task(d.run()) for d in loops]
            try:
                await until(lambda: any(d.leading for d in loops), "a process leads")
                await asyncio.sleep(0.5)  # several attempts of the other
                assert sum(d.leading for d in loops) == 1
                first = 0 if loops[0].leading else 1
                member = loops[first].members["kitchen"]
                await until(
                    lambda: member.listing is not None and member.listing.done(),
                    "the leader's first pull",
                )
                await until(lambda: not loops[first]._pulling, "the leader's first pull over")
                await asyncio.to_thread(found, garden, "Garden")  # not pulled by the leader
                tasks[first].cancel()  # stops: the lease is given up
                await asyncio.gather(tasks[first], return_exceptions=True)
                other = loops[1 - first]
                await until(lambda: other.leading, "the other process takes over")
                # Taking over, it pulls at once (its pull interval is an hour).
                await until(lambda: caught_up(workers[1 - first], garden), "garden pulled")
            finally:
                for task in tasks:
                    task.cancel()
                await asyncio.gather(*tasks, return_exceptions=True)

        asyncio.run(scenario())
    finally:
        for node in (*workers, garden):
            node.close()
