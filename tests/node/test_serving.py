"""How the node serves: the threads that carry out requests."""

from __future__ import annotations

from pathlib import Path

import anyio.to_thread
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from node.cli import app as cli
from node.persistence import open_node
from node.server import ServerOptions, create_app
from node.settings import Settings


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
