"""How the node serves: the threads that carry out requests."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import anyio.to_thread
import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from node.app.persistence import open_node
from node.cli.main import app as cli
from node.http.server import ServerOptions, create_app
from node.settings import Settings
from tests.conftest import Clock
from tests.node.circles import make_active, select


def test_requests_are_carried_out_by_as_many_threads_as_set(tmp_path: Path) -> None:
    node = open_node(Settings(data_dir=tmp_path / "node"))
    try:
        for threads in (4, 2):
            app = create_app(node, None, ServerOptions("http://testserver", threads=threads))
            with TestClient(app) as client:
                assert client.get("/healthz").status_code == 200

                async def limit() -> float:
                    return anyio.to_thread.current_default_thread_limiter().total_tokens

                assert client.portal is not None
                assert client.portal.call(limit) == threads
    finally:
        node.close()


def test_serve_refuses_a_number_of_threads_below_one(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["serve", "--data", str(tmp_path), "--threads", "0"])
    assert result.exit_code == 2
    assert "Invalid value for '--threads'" in result.output
    assert not (tmp_path / "circle.sqlite").exists()  # refused before opening anything


def test_sign_in_reads_a_local_store_on_the_event_loop_and_a_remote_one_in_a_thread(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import threading

    from node.app.tokens import Tokens
    from node.store.application import NodeStore

    node = open_node(Settings(data_dir=tmp_path / "node"))
    try:
        ada = node.circle.found_circle(
            name="Kitchen", aim="Feed", domain="Food", founder_name="Ada"
        )
        _, token = node.tokens.issue_token(ada)
        assert node.store.reads_are_local  # SQLite
        threads: list[str] = []
        looked_up = Tokens.person_for_token

        def person_for_token(self: Tokens, token: str) -> str | None:
            threads.append(threading.current_thread().name)
            return looked_up(self, token)

        monkeypatch.setattr(Tokens, "person_for_token", person_for_token)
        with TestClient(create_app(node, None, ServerOptions("http://testserver"))) as client:
            loop = client.portal.call(_thread_name)  # type: ignore[union-attr]
            headers = {"Authorization": f"Bearer {token}"}
            assert client.get("/api/circle", headers=headers).status_code == 200
            monkeypatch.setattr(NodeStore, "reads_are_local", property(lambda self: False))
            assert client.get("/api/circle", headers=headers).status_code == 200
            wrong = {"Authorization": "Bearer cn_wrong"}
            assert client.get("/api/circle", headers=wrong).status_code == 401
        assert threads[0] == loop
        assert threads[1] != loop and threads[2] != loop
    finally:
        node.close()


async def _thread_name() -> str:
    import threading

    return threading.current_thread().name


def test_reviews_come_due_by_the_calendar_while_the_node_serves(
    tmp_path: Path, clock: Clock
) -> None:
    import time

    node = open_node(Settings(data_dir=tmp_path / "node"), clock)
    try:
        ada = node.circle.found_circle(
            name="Kitchen", aim="Feed", domain="Food", founder_name="Ada"
        )
        make_active(node)
        cook = node.hats.define_hat(ada, "Cook", "Cooks", [], ["menus"])
        select(node, cook, ada)
        review = clock.now.date() + timedelta(days=2)
        decision = node.decisions.take_everyday_decision(ada, cook, "menus", "Soup", "Soup", review)
        options = ServerOptions("http://testserver", due_interval=0.05)
        with TestClient(create_app(node, None, options)):
            time.sleep(0.3)  # checked, and nothing is due yet
            assert node.records.get_decision(decision).status == "in_force"
            clock.advance(days=3)
            deadline = time.monotonic() + 10
            while node.records.get_decision(decision).status != "review_due":
                assert time.monotonic() < deadline, "the review never came due"
                time.sleep(0.05)
    finally:
        node.close()


def test_a_store_that_fails_the_calendar_check_is_one_line_and_the_checks_go_on(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    import logging
    import time

    from eventsourcing.persistence import OperationalError

    from node.app.decisions import Decisions

    node = open_node(Settings(data_dir=tmp_path / "node"))
    try:
        node.circle.found_circle(name="Kitchen", aim="Feed", domain="Food", founder_name="Ada")
        calls: list[int] = []
        update_due_dates = Decisions.update_due_dates

        def failing(self: Decisions) -> None:
            calls.append(1)
            if len(calls) <= 3:
                raise OperationalError("attempt to write a readonly database")
            update_due_dates(self)

        monkeypatch.setattr(Decisions, "update_due_dates", failing)
        options = ServerOptions("http://testserver", due_interval=0.05)
        with (
            caplog.at_level(logging.WARNING),
            TestClient(create_app(node, None, options)),
        ):
            deadline = time.monotonic() + 10
            while len(calls) < 5:
                assert time.monotonic() < deadline
                time.sleep(0.05)
        # Three failed checks: one line as the store began to fail, one when it served again.
        lines = [r for r in caplog.records if r.name in ("circle_node.server", "circle_node.store")]
        assert [r.name for r in lines] == ["circle_node.store"] * 2, lines
        assert all(r.exc_info is None for r in lines)
        assert "readonly" in lines[0].getMessage()
        assert "again" in lines[1].getMessage()
    finally:
        node.close()


def test_stopping_the_server_waits_for_the_background_threads_before_the_store_closes(
    tmp_path: Path,
) -> None:
    # A task cancelled while it waits on a worker thread does not stop the thread: `serve`
    # closed the store while delivery's and the calendar's threads still read it (SIGSEGV).
    import threading
    import time

    node = open_node(Settings(data_dir=tmp_path / "node"))
    under_way = threading.Event()
    left: list[float] = []
    peers = node.peering.peers

    def slow_peers() -> list[object]:
        under_way.set()
        time.sleep(0.5)
        left.append(time.monotonic())
        return peers()  # type: ignore[return-value]

    node.peering.peers = slow_peers  # type: ignore[method-assign]
    try:
        app = create_app(node, None, ServerOptions("http://testserver", poll_interval=0.01))
        with TestClient(app):
            assert under_way.wait(5)
        stopped = time.monotonic()
        assert left and left[0] <= stopped  # the thread's read was over when the server stopped
        calls = len(left)
        time.sleep(0.6)
        assert len(left) == calls  # and none began after
    finally:
        node.close()
