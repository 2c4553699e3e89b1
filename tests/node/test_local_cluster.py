"""Nodes served on this machine (node/demo/local_cluster.py): a node whose port another process
took first is started again on a new one, and another process answering on a node's port is
never taken for it."""

from __future__ import annotations

import json
import os
import urllib.request
from pathlib import Path

from node.demo.local_cluster import LocalNode, free_port


def _served_id(node: LocalNode) -> str:
    with urllib.request.urlopen(f"{node.url}/healthz", timeout=5) as response:
        return str(json.load(response)["node"])


def test_a_node_whose_port_is_taken_starts_on_another(tmp_path: Path) -> None:
    first, second = LocalNode(tmp_path, "first"), LocalNode(tmp_path, "second")
    first.start()
    try:
        # The second was given the port the first now serves on (as when two probes of the
        # kernel return the same free port): it must not take the first's answers for its own.
        second.port, second.url = first.port, first.url
        second.start()
        try:
            assert second.port != first.port and second.running
            with first.handle() as a, second.handle() as b:
                assert _served_id(first) == a.feed.node_id
                assert _served_id(second) == b.feed.node_id != a.feed.node_id
            assert "address already in use" in second.log.read_text().lower()
        finally:
            second.stop()
    finally:
        first.stop()


def test_free_ports_are_never_handed_out_twice() -> None:
    ports = [free_port() for _ in range(200)]
    assert len(set(ports)) == len(ports)


def test_a_node_may_run_at_a_lower_priority(tmp_path: Path) -> None:
    node = LocalNode(tmp_path, "niced", nice=5)
    node.start()
    try:
        assert node.process is not None
        ours = os.getpriority(os.PRIO_PROCESS, 0)
        assert os.getpriority(os.PRIO_PROCESS, node.process.pid) == min(19, ours + 5)
    finally:
        node.stop()
