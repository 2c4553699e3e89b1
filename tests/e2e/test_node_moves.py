"""Two real nodes on loopback: one moves to another port and says so (`circle-node move`); the
other follows it there over HTTP, with no `peer add` again."""

from __future__ import annotations

from pathlib import Path

import pytest

from node.demo.local_cluster import free_port
from tests.e2e.cluster import cli, cluster, start_all, wait_for
from tests.e2e.test_federation import decide, found_with_rota, head, held, peer_all

pytestmark = pytest.mark.timeout(240)


def test_a_node_that_moves_is_followed_by_its_peer(tmp_path: Path) -> None:
    with cluster(tmp_path, "coop", "kitchen") as nodes:
        coop, kitchen = nodes["coop"], nodes["kitchen"]
        with kitchen.handle() as store:
            founder, hat = found_with_rota(store, "Kitchen")
        start_all(nodes.values())
        peer_all(nodes)
        wait_for(lambda: held(coop, kitchen) == head(kitchen), what="the coop to hold the feed")

        # Given the Kitchen's node moves to another port, and says so.
        old = kitchen.url
        kitchen.stop()
        kitchen.port = free_port()
        kitchen.url = f"http://127.0.0.1:{kitchen.port}"
        kitchen.start()
        result = cli("move", kitchen.url, "--data", str(kitchen.data))
        assert result.returncode == 0, result.stderr

        # Then the coop's node takes the move and follows it to the new URL.
        def coop_knows_it_at(url: str) -> bool:
            with coop.handle() as store, kitchen.handle() as author:
                peer = store.peering.peer(author.feed.feed_id)
                return peer is not None and peer.url == url and not peer.moving_to

        wait_for(lambda: coop_knows_it_at(kitchen.url), what="the coop to follow the move")
        assert kitchen.url != old
        # And the Kitchen's later decisions reach it there.
        with kitchen.handle() as store:
            decide(store, founder, hat, 3, "Rota")
        wait_for(lambda: held(coop, kitchen) == head(kitchen), what="the decisions to arrive")
        assert "said it moved" not in coop.log.read_text()
