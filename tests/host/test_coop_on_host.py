"""A co-op that hosts its circles: the co-op's circle and two member circles on one host, served
by a real process. They join the network and the co-op by the same messages as circles on nodes
of their own, and a policy of the co-op that binds its member circles reaches both."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterator
from pathlib import Path

import pytest

from domain.values import CoopLink, Peering, Purpose
from node.app.joining import join_network
from node.app.node import CircleNode
from node.app.persistence import open_node
from node.demo.network_cast import CIRCLES, MISSION_LINKS, Network
from node.demo.scripted import make_active
from node.host.layout import circle_settings
from node.settings import Settings
from tests.host.serving import HostProcess

pytestmark = pytest.mark.timeout(300)


class HostedCircle:
    """One circle of the host, as the story's `Network` reaches a node: its URL, and its store
    opened in this process (as a command does while the host serves)."""

    def __init__(self, host: HostProcess, slug: str) -> None:
        self.host = host
        self.settings = circle_settings(Settings(data_dir=host.folder), slug)
        self.url = f"{host.url}/c/{slug}"
        self.log = host.log

    @property
    def running(self) -> bool:
        return self.host.process is not None and self.host.process.poll() is None

    @contextlib.contextmanager
    def handle(self) -> Iterator[CircleNode]:
        node = open_node(self.settings)
        try:
            yield node
        finally:
            node.close()


def test_a_coops_policy_reaches_two_member_circles_on_its_host(tmp_path: Path) -> None:
    host = HostProcess(tmp_path / "coop-host")
    keys = ("coop", "kitchen", "garden")
    circles = {key: HostedCircle(host, key) for key in keys}
    network = Network(circles, lambda line: None)  # type: ignore[arg-type]
    for key in keys:
        name, aim = CIRCLES[key]
        with network.open(key) as node:
            node.circle.found_circle(name=name, aim=aim, domain="Care", founder_name="Founder")
            make_active(node, MISSION_LINKS[key])
    try:
        host.start()
        for member in ("kitchen", "garden"):
            # The member circle asks the co-op's circle, on the same host, to join the network.
            with network.open(member) as node:
                asyncio.run(join_network(node, circles["coop"].url, circles[member].url, "Hello"))
            network.decide(
                "coop",
                Purpose.ADMIT_TO_NETWORK,
                {"circle": network.ref(member)},
                f"Admit the {member}",
            )
            network.until(
                "the admission",
                lambda m: network.relationship(m, "coop").peering == Peering.PEERS,
                member,
            )
            # Then to be part of the co-op, which welcomes it.
            network.decide(member, Purpose.APPLY_TO_COOP, {"circle": network.ref("coop")}, "Apply")
            network.until(
                "the application",
                lambda m: network.relationship("coop", m).coop == CoopLink.APPLIED,
                member,
            )
            network.decide("coop", Purpose.ADMIT_MEMBER, {"circle": network.ref(member)}, "Welcome")
            network.until(
                "the welcome",
                lambda m: network.relationship(m, "coop").coop == CoopLink.MEMBER_OF,
                member,
            )
        # The co-op adopts a policy that binds its member circles: both show it.
        network.decide(
            "coop",
            Purpose.ADOPT_POLICY,
            {"binds_member_circles": True},
            "Every circle reviews its budget each quarter",
        )

        def binding(member: str) -> list[str]:
            with network.open(member) as node:
                return [policy["text"] for policy in node.relations.policies_from_coops()]

        network.until(
            "the co-op's policy to reach its circles",
            lambda: all(binding(m) for m in ("kitchen", "garden")),
        )
        for member in ("kitchen", "garden"):
            assert binding(member) == ["Every circle reviews its budget each quarter"]
        assert host.health()["status"] == "ok"
    finally:
        host.stop()
