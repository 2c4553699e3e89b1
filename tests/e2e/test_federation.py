"""Three real nodes on loopback: publishing, push and pull, a node down and back, key
rotation, and a peer that equivocates."""

from __future__ import annotations

import asyncio
import json
import urllib.request
from pathlib import Path

import aiohttp
import pytest

from federation.feed import FeedState, append, node_id
from federation.verify import decode_entry, decode_push_reply
from federation.wire import Push, encode
from node.app.node import CircleNode
from node.demo.scripted import form_aim
from tests.e2e.cluster import NodeProcess, cli, cluster, start_all, wait_for

pytestmark = pytest.mark.timeout(240)


def found_with_rota(node: CircleNode, name: str) -> tuple[str, str]:
    """Found a circle that forms its aim together and whose founder wears an operational hat;
    returns (founder, hat)."""
    founder = node.circle.found_circle(
        name=name, aim=f"{name}'s aim", domain="Care", founder_name="Ada"
    )
    form_aim(node, f"{name} cares for people as the co-op's mission asks")
    hat = node.hats.define_hat(founder, "Rota holder", "Keeps the rota", [], ["rota"])
    selection = node.hats.open_selection(founder, hat)
    node.hats.nominate(founder, selection, founder, "I keep it already")
    node.hats.open_change_round(founder, selection)
    node.hats.propose_candidate(founder, selection, founder, "Nominated")
    node.consent.consent(founder, selection)
    node.consent.close_consent_round(founder, selection)
    return founder, hat


def decide(node: CircleNode, founder: str, hat: str, count: int, label: str) -> None:
    for number in range(count):
        node.decisions.take_everyday_decision(
            founder, hat, "rota", f"{label} {number}", "Cover Sundays"
        )


def held(node: NodeProcess, of: NodeProcess) -> int:
    """The highest seq of `of`'s feed that `node` holds and has verified."""
    with node.handle() as store, of.handle() as author:
        return store.peering.peer_feed(author.feed.feed_id).next_seq - 1


def head(node: NodeProcess) -> int:
    with node.handle() as store:
        return store.feed.own_feed().head


def decisions_seen(node: NodeProcess, of: NodeProcess) -> set[str]:
    with node.handle() as store, of.handle() as author:
        view = store.relations.peer_view(author.feed.feed_id)
        return {d["title"] for d in view.decisions.values()} if view else set()


def peer_all(nodes: dict[str, NodeProcess]) -> None:
    for name, node in nodes.items():
        for other_name, other in nodes.items():
            if other_name != name:
                result = cli("peer", "add", other.url, "--data", str(node.data))
                assert result.returncode == 0, result.stderr


def test_three_nodes_publish_catch_up_rotate_and_detect_equivocation(tmp_path: Path) -> None:
    with cluster(tmp_path, "coop", "kitchen", "garden") as nodes:
        coop, kitchen, garden = nodes["coop"], nodes["kitchen"], nodes["garden"]
        authors = {}
        for name, node in nodes.items():
            with node.handle() as store:
                authors[name] = found_with_rota(store, name.title())
        start_all(nodes.values())
        peer_all(nodes)

        # The co-op publishes; both circles receive and verify everything (push, then pull).
        with coop.handle() as store:
            decide(store, *authors["coop"], 5, "Early")
        for node in (kitchen, garden):
            wait_for(lambda node=node: held(node, coop) == head(coop), what=f"{node.name} sync")
        assert {f"Early {n}" for n in range(5)} <= decisions_seen(garden, coop)

        # The garden node is stopped while the others publish.
        garden.stop()
        with coop.handle() as store:
            decide(store, *authors["coop"], 30, "While away")
        with kitchen.handle() as store:
            decide(store, *authors["kitchen"], 3, "Kitchen")
        wait_for(lambda: held(kitchen, coop) == head(coop), what="kitchen to follow the co-op")

        # Restarted, it catches up fully and verifies all of it.
        garden.start()
        wait_for(lambda: held(garden, coop) == head(coop), what="garden to catch up")
        wait_for(lambda: held(garden, kitchen) == head(kitchen), what="garden to catch up")
        assert {f"While away {n}" for n in range(30)} <= decisions_seen(garden, coop)
        assert {f"Kitchen {n}" for n in range(3)} <= decisions_seen(garden, kitchen)

        # The co-op rotates its key (while serving); peers follow it and take what it signs next.
        result = cli("rotate-key", "--data", str(coop.data))
        assert result.returncode == 0, result.stderr
        with coop.handle() as store:
            new_key = store.feed.own_feed().key
            decide(store, *authors["coop"], 2, "After rotation")
        for node in (kitchen, garden):
            wait_for(lambda node=node: held(node, coop) == head(coop), what="rotation to propagate")
            with node.handle() as store, coop.handle() as author:
                assert store.peering.peer_feed(author.feed.feed_id).key == new_key
        assert {"After rotation 0", "After rotation 1"} <= decisions_seen(kitchen, coop)

        # The kitchen equivocates: it signs a second, different entry at a seq it already
        # published, and pushes it to the garden.
        with kitchen.handle() as store:
            fork_seq = store.feed.own_feed().head
            entries = store.feed.own_entries(fork_seq - 2, 2)
            previous, published = entries[0], entries[1]
            state = FeedState(
                store.feed.feed_id,
                fork_seq,
                previous.hash,
                store.feed.keys.current_public,
                store.feed.keys.next_digest,
            )
            fork, _ = append(state, store.feed.keys, "decision.record", b"\x80", 1)
            kitchen_id = store.feed.feed_id
        assert decode_entry(fork).seq == decode_entry(published).seq == fork_seq
        status, reply = asyncio.run(_push(garden.url, Push(kitchen_id, [fork], [])))
        assert status == 200
        assert decode_push_reply(reply).reason == "equivocation"

        # The garden keeps both signed entries as proof, stops taking the feed, and says so.
        with garden.handle() as store:
            peer = store.peering.peer(kitchen_id)
            assert peer is not None and peer.stopped
            assert peer.equivocation_seq == fork_seq
            assert peer.equivocation_conflicting == encode(fork)
            assert peer.equivocation_held == encode(published)
        listing = cli("peer", "list", "--data", str(garden.data))
        assert f"{node_id(kitchen_id)}  STOPPED (equivocation)" in listing.stdout
        with urllib.request.urlopen(f"{garden.url}/healthz", timeout=5) as response:
            assert json.load(response)["equivocating_peers"] == [node_id(kitchen_id)]

        # Pushed again, the kitchen's feed is refused outright.
        status, _ = asyncio.run(_push(garden.url, Push(kitchen_id, [fork], [])))
        assert status == 409

        # The co-op's feed is still taken by the garden.
        with coop.handle() as store:
            decide(store, *authors["coop"], 1, "Still flowing")
        wait_for(lambda: held(garden, coop) == head(coop), what="the co-op feed to keep flowing")


async def _push(url: str, push: Push) -> tuple[int, bytes]:
    async with (
        aiohttp.ClientSession() as session,
        session.post(
            f"{url}/federation/inbox",
            data=encode(push),
            headers={"Content-Type": "application/msgpack"},
        ) as response,
    ):
        return response.status, await response.read()


def test_catch_up_from_the_command_line(tmp_path: Path) -> None:
    with cluster(tmp_path, "coop", "kitchen") as nodes:
        coop, kitchen = nodes["coop"], nodes["kitchen"]
        with coop.handle() as store:
            founder, hat = found_with_rota(store, "Coop")
            decide(store, founder, hat, 30, "Rota")
        coop.start()
        with kitchen.handle():
            pass  # the kitchen's node is made (the command line makes one by `init` only)
        result = cli("peer", "add", coop.url, "--data", str(kitchen.data))
        assert result.returncode == 0, result.stderr
        result = cli("catch-up", "--data", str(kitchen.data))
        assert result.returncode == 0, result.stderr
        assert held(kitchen, coop) == head(coop)
        assert f"Caught up: {head(coop)} new entries" in result.stdout
