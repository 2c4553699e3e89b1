"""Four real nodes on loopback walk every flow between circles (node/demo/network_story.py): joining
the network, co-op membership and binding policies, the double link, corporate membership, a
node down and back, support, federated consent, peering, erasure, and going its own way."""

from __future__ import annotations

import base64
import re
from pathlib import Path

import pytest

from domain.values import CoopLink, Peering, SupportStatus
from federation.pages import verify_page
from federation.verify import decode_signed_entry, verify_inception
from node.app.node import KNOWN_TYPES, CircleNode
from node.demo.local_cluster import local_cluster
from node.demo.network_cast import Network, found_circles, network_views
from node.demo.network_story import run_story
from tests.e2e.cluster import start_all

pytestmark = pytest.mark.timeout(300)


def test_every_flow_between_circles_on_four_real_nodes(tmp_path: Path) -> None:
    told: list[str] = []
    with local_cluster(tmp_path, "coop", "kitchen", "garden", "orchard") as nodes:
        network = Network(nodes, told.append)
        found_circles(network)
        start_all(nodes.values())
        run_story(network, lambda key: nodes[key].stop(), lambda key: nodes[key].start())
        views = "\n".join(network_views(network))
        ref = {key: network.ref(key) for key in nodes}
        rel = network.relationship

        # Each side of each flow recorded it.
        assert rel("coop", "kitchen").coop == rel("kitchen", "coop").coop == CoopLink.WITHDRAWN
        assert rel("kitchen", "coop").peering == Peering.PEERS  # they still peer
        garden = rel("garden", "coop")
        assert garden.coop == CoopLink.MEMBER_OF and garden.corporate
        assert rel("coop", "garden").legal_entity.registered_name == "Todmorden Garden Co-op Ltd"
        assert rel("orchard", "garden").peering == rel("garden", "orchard").peering == "peers"
        with network.open("orchard") as orchard, network.open("kitchen") as kitchen:
            (offered,) = orchard.support.support_requests()
            (asked,) = kitchen.support.support_requests()
            assert offered.status == asked.status == SupportStatus.DELIVERED
            assert set(offered.reflections) == {"us", ref["kitchen"]}
            assert set(asked.reflections) == {"us", ref["orchard"]}
        assert "binds this circle: Safeguarding training for everyone" in views
        assert any(
            "closed the round, counting both circles' answers: consented" in line for line in told
        )
        assert any(
            "✉ Calder Kitchen circle → Equal Care Co-op" in line and "person.erased" in line
            for line in told
        )

        # Every node holds verified copies of the feeds it follows, erasures included.
        for key in nodes:
            with network.open(key) as node:
                for peer in node.peering.peers():
                    _verify_held_feed(node, peer.feed_id)

    # With the nodes stopped: Kim Cook's name is in no file of any node that held it, their
    # logs included; and no log holds a private key or a personal token.
    files = [path for path in tmp_path.rglob("*") if path.is_file()]
    logs = [path for path in files if path.name == "serve.log"]
    assert len(logs) == len(nodes) and all(path.stat().st_size > 0 for path in logs)
    for path in files:
        assert b"Kim Cook" not in path.read_bytes(), path
    secrets = [secret for key in nodes for secret in _secrets_of(tmp_path / key)]
    assert len(secrets) >= 4 * len(nodes)
    for path in logs:
        log = path.read_bytes()
        for secret in secrets:
            assert secret not in log, (path, "a key reached the log")
        assert not re.search(rb"cn_[A-Za-z0-9_-]{20,}", log), (path, "a token reached the log")


def _secrets_of(data: Path) -> list[bytes]:
    """A node's private keys as they could appear in text: raw, hex and base64, of the key
    file's seeds (current and next) and of the store key, if any."""
    found = []
    for name in ("node.keys", "store.key"):
        path = data / name
        if not path.exists():
            continue
        raw = path.read_bytes()
        parts = [raw[:32], raw[32:]] if name == "node.keys" else [raw.strip()]
        for part in filter(None, parts):
            found += [part, part.hex().encode(), base64.b64encode(part).rstrip(b"=")]
            found.append(base64.urlsafe_b64encode(part).rstrip(b"="))
    return found


def _verify_held_feed(node: CircleNode, feed_id: bytes) -> None:
    held = [
        decode_signed_entry(raw) for raw in node.store.feeds.select_entries(feed_id, -1, 100_000)
    ]
    state, _ = verify_page(verify_inception(held[0]), held[1:], KNOWN_TYPES, lambda seq: None)
    assert state.next_seq == len(held)
