"""Through the real CLI: `backup`, more published, `restore`, `serve`: the restored node takes
its feed back from its peer before it signs again, and the peer never sees a fork."""

from __future__ import annotations

import json
import urllib.request
from pathlib import Path

import pytest

from node.network.take_back import TAKE_BACK_FILE
from tests.e2e.cluster import NodeProcess, cli, cluster, start_all, wait_for
from tests.e2e.test_federation import decide, found_with_rota, head, held, peer_all

pytestmark = pytest.mark.timeout(240)


def health(node: NodeProcess) -> str:
    """What the node's /healthz says of a take-back ("" when none is pending)."""
    try:
        with urllib.request.urlopen(f"{node.url}/healthz", timeout=2) as response:
            return str(json.load(response).get("taking_back") or "")
    except OSError:
        return ""


def test_backup_publish_restore_serve_takes_back_and_never_forks(tmp_path: Path) -> None:
    with cluster(tmp_path, "kitchen", "coop") as nodes:
        kitchen, coop = nodes["kitchen"], nodes["coop"]
        with kitchen.handle() as store:
            author = found_with_rota(store, "Kitchen")
        start_all(nodes.values())
        peer_all(nodes)
        # The kitchen publishes, is backed up, publishes more; the co-op holds all of it.
        with kitchen.handle() as store:
            decide(store, *author, 2, "Before")
        wait_for(lambda: held(coop, kitchen) == head(kitchen), what="the co-op to follow")
        archive = tmp_path / "kitchen.tar"
        result = cli("backup", str(archive), "--data", str(kitchen.data))
        assert result.returncode == 0, result.stderr
        with kitchen.handle() as store:
            decide(store, *author, 3, "After the backup")
        wait_for(lambda: held(coop, kitchen) == head(kitchen), what="the co-op to follow")
        published = head(kitchen)
        kitchen.stop()

        # Restored into a new folder: it says it will take its feed back when served, and
        # until then a command that would publish is refused in one line.
        restored = NodeProcess(tmp_path, "restored")
        restored.data.rmdir()  # restore makes it
        result = cli("restore", str(archive), "--data", str(restored.data))
        assert result.returncode == 0, result.stderr
        assert "takes back" in result.stdout and (restored.data / TAKE_BACK_FILE).exists()
        assert head(restored) < published
        result = cli("rotate-key", "--data", str(restored.data))
        assert result.returncode == 1 and "restored from a backup" in result.stderr
        assert "Traceback" not in result.stderr and len(result.stderr.splitlines()) == 1

        # Served while the co-op is down: it cannot take its feed back, and says so.
        coop.stop()
        try:
            restored.spawn()
            wait_for(lambda: "could be reached" in health(restored), what="the restored node")
            assert "circle-node recover" in health(restored)
            assert "no peer could be reached" in restored.log.read_text()
            # The co-op back, the restored node takes back every entry it published from it,
            # then signs again.
            coop.start()
            wait_for(restored.healthy, 60, "the take-back")  # "ok" once taken back
            assert head(restored) == published
            assert not (restored.data / TAKE_BACK_FILE).exists()
            with restored.handle() as store:
                decide(store, *author, 1, "After the restore")
                assert store.feed.own_feed().head == published + 1
            wait_for(lambda: held(coop, restored) == published + 1, what="the co-op to take it")
            with urllib.request.urlopen(f"{coop.url}/healthz", timeout=5) as response:
                assert json.load(response)["equivocating_peers"] == []
        finally:
            restored.stop()
