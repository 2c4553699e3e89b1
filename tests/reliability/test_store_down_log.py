"""The log of a served node while its PostgreSQL server is down: one line as the store starts
failing the background work (delivery, mail, the calendar), one when it serves it again, and
no traceback in between (before: a traceback at every push round, twice a second)."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from node.demo.local_cluster import wait_for
from tests.reliability import own_postgres
from tests.reliability.harness import Served

pytestmark = pytest.mark.timeout(180)

DOWN_FOR = 8.0  # seconds: sixteen push rounds


def test_a_store_down_is_two_lines_in_the_log(
    server: own_postgres.OwnPostgres, tmp_path: Path
) -> None:
    env = {"CIRCLE_NODE_DATABASE_URL": f"{server.url}?schema=down_log"}
    node = Served(tmp_path, "kitchen", env=env)
    store = node.open()
    try:
        store.circle.found_circle(name="Kitchen", aim="Feed", domain="Food", founder_name="Ada")
    finally:
        store.close()
    node.start()

    def written() -> list[dict[str, object]]:
        text = node.log.read_text(errors="replace")
        return [json.loads(line) for line in text.splitlines() if line.startswith("{")]

    def store_lines() -> list[str]:
        return [str(line["message"]) for line in written() if line["logger"] == "circle_node.store"]

    try:
        # Given a node at work, when its database server stops for a while,
        server.stop("fast")
        try:
            wait_for(lambda: len(store_lines()) >= 1, 30, "the outage's line")
            time.sleep(DOWN_FOR)
        finally:
            server.start()
        # and comes back,
        wait_for(lambda: len(store_lines()) >= 2, 60, "the line saying the store is back")
        time.sleep(1.0)
    finally:
        node.stop()
    # then the log says so in two lines, and nothing of the background work in between.
    lines = store_lines()
    assert len(lines) == 2, lines
    assert "cannot be reached" in lines[0] and "again" in lines[1]
    background = ("circle_node.delivery", "circle_node.mail", "circle_node.server")
    noise = [line for line in written() if line["logger"] in background and line["level"] != "info"]
    assert not noise, noise
    assert "Traceback" not in node.log.read_text()
