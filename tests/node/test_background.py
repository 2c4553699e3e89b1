"""The background work of several circles' apps in one process (node/http/background.py): one
delivery loop and one calendar for all of them, a circle added or removed while it runs."""

from __future__ import annotations

import asyncio
from pathlib import Path

from node.app.persistence import open_node
from node.http.background import run_background
from node.http.server import ServerOptions, create_app
from node.logs import CIRCLE
from node.settings import Settings
from tests.node.test_deliveries import until


def test_one_loop_serves_every_circles_app_and_circles_come_and_go(tmp_path: Path) -> None:
    nodes = [open_node(Settings(data_dir=tmp_path / name)) for name in ("a", "b", "c")]
    try:
        apps = [
            create_app(node, None, ServerOptions(f"http://host.example/c/{name}/"), circle=name)
            for node, name in zip(nodes, "abc", strict=True)
        ]
        checked: list[str] = []
        for node, name in zip(nodes, "abc", strict=True):
            node.decisions.update_due_dates = lambda name=name: checked.append(name)  # type: ignore[method-assign, misc]
            node.circle.found_circle(name=name, aim="Feed", domain="Food", founder_name="Ada")

        async def scenario() -> None:
            async with run_background(
                [app.state.served for app in apps[:2]], ServerOptions("http://host.example/")
            ) as running:
                deliveries = running.deliveries
                assert sorted(deliveries.members) == [
                    "http://host.example/c/a/",
                    "http://host.example/c/b/",
                ]
                await until(lambda: sorted(checked) == ["a", "b"], "both calendars checked")
                # Delivery's lines for a circle name it (node/logs.py).
                assert deliveries.members["http://host.example/c/b/"].context.get(CIRCLE) == "b"
                running.add(apps[2].state.served)
                assert apps[2].state.served.federator is not None
                await until(lambda: deliveries.members["http://host.example/c/c/"].ready, "c")
                await running.remove(apps[0].state.served)
                assert "http://host.example/c/a/" not in deliveries.members
                assert nodes[0].observer is apps[0].state.served.metrics

        asyncio.run(scenario())
    finally:
        for node in nodes:
            node.close()
