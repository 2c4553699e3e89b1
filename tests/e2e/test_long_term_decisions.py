"""Two real nodes on loopback: the kitchen circle is part of the co-op, and its rules send
long-term decisions to the co-op's circle. A year-long policy of the kitchen crosses to the
co-op's node as a signed consent request; the co-op decides its answer by its own consent
process; the answer comes back, and the kitchen adopts the policy (or, when the co-op objects,
integrates the objection)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from domain.consent import circle_seat
from domain.relationships import Relationship
from domain.values import CoopLink, Peering, Purpose, Stage
from federation.feed import feed_id_from_node_id
from node.app.joining import join_network
from node.demo.network_cast import Network
from node.demo.scripted import founder, make_active
from tests.e2e.cluster import cluster, start_all

pytestmark = pytest.mark.timeout(240)

COOP, KITCHEN = "coop", "kitchen"


def part_of_the_co_op(network: Network) -> None:
    """Found both circles, start their nodes; the kitchen joins the network through the co-op
    and becomes one of its circles, each step by consent; its rules then name the co-op's
    circle for long-term decisions."""
    ref = network.ref
    for key, name in ((COOP, "Equal Care Co-op"), (KITCHEN, "Calder Kitchen circle")):
        with network.open(key) as node:
            node.circle.found_circle(
                name=name, aim="Care", domain="Care in the Calder Valley", founder_name="Founder"
            )
            make_active(node)
    start_all(network.nodes.values())
    with network.open(KITCHEN) as node:
        coop_url, kitchen_url = network.nodes[COOP].url, network.nodes[KITCHEN].url
        asyncio.run(join_network(node, coop_url, kitchen_url, "May we join?"))
    network.until("the join request", lambda: _knows(network, COOP, KITCHEN))
    network.decide(COOP, Purpose.ADMIT_TO_NETWORK, {"circle": ref(KITCHEN)}, "Admit the kitchen")
    network.until("the admission", lambda: _rel(network, KITCHEN, COOP).peering == Peering.PEERS)
    network.decide(KITCHEN, Purpose.APPLY_TO_COOP, {"circle": ref(COOP)}, "Apply to the co-op")
    network.until("the application", lambda: _rel(network, COOP, KITCHEN).coop == CoopLink.APPLIED)
    network.decide(COOP, Purpose.ADMIT_MEMBER, {"circle": ref(KITCHEN)}, "Welcome the kitchen")
    network.until("the welcome", lambda: _rel(network, KITCHEN, COOP).coop == CoopLink.MEMBER_OF)
    network.decide(
        KITCHEN,
        Purpose.CHANGE_RULES,
        {"long_term_circle": ref(COOP)},
        "Long-term decisions belong to the co-op's circle",
    )


def co_op_answers(network: Network, lease: str, consents: bool, argument: str = "") -> None:
    """The request reaches the co-op's node; its circle decides its answer by consent; the
    answer reaches the kitchen's node."""
    network.until("the consent request", lambda: _asked(network, lease))
    network.crossed(KITCHEN, COOP)
    subject = {"circle": network.ref(KITCHEN), "request": lease, "round": 1, "consents": consents}
    if argument:
        subject["argument"] = argument
    network.decide(COOP, Purpose.ANSWER_CONSENT_REQUEST, subject, "Our answer on the lease")
    network.until("the co-op's answer", lambda: _answered(network, lease))
    network.crossed(COOP, KITCHEN)


def test_a_long_term_decision_crosses_to_the_co_op_and_back(tmp_path: Path) -> None:
    told: list[str] = []
    with cluster(tmp_path, COOP, KITCHEN) as nodes:
        network = Network(nodes, told.append)
        part_of_the_co_op(network)

        # The kitchen consents to a year-long lease, asking nobody: the co-op is asked.
        lease = network.decide(
            KITCHEN, Purpose.ADOPT_POLICY, {}, "Lease the hall for a year", close=False
        )
        with network.open(KITCHEN) as node:
            assert node.records.get_proposal(lease).long_term_circle == network.ref(COOP)

        # The co-op consents by its own process; the kitchen closes the round with it.
        co_op_answers(network, lease, consents=True)
        with network.open(KITCHEN) as node:
            outcome = node.consent.close_consent_round(founder(node), lease)
            assert outcome == Stage.CONSENTED
            (policy,) = [d for d in node.records.list_decisions() if d.proposal_id == lease]
            assert policy.in_force
            assert (
                circle_seat(network.ref(COOP))
                in node.records.get_proposal(lease).rounds[0].consents
            )
        assert any("consent.request" in line for line in told)
        assert any("consent.answer" in line for line in told)


def test_the_co_ops_objection_to_a_long_term_decision_crosses_back(tmp_path: Path) -> None:
    told: list[str] = []
    with cluster(tmp_path, COOP, KITCHEN) as nodes:
        network = Network(nodes, told.append)
        part_of_the_co_op(network)
        lease = network.decide(
            KITCHEN, Purpose.ADOPT_POLICY, {}, "Lease the hall for a year", close=False
        )

        # The co-op objects, by its own process; its objection blocks in the kitchen.
        co_op_answers(network, lease, consents=False, argument="The premises budget is spent")
        with network.open(KITCHEN) as node:
            outcome = node.consent.close_consent_round(founder(node), lease)
            assert outcome == Stage.INTEGRATING
            (objection,) = node.records.get_proposal(lease).open_objections()
            assert objection.person_id == circle_seat(network.ref(COOP))
            assert objection.argument == "The premises budget is spent"
            assert not [d for d in node.records.list_decisions() if d.proposal_id == lease]


def _knows(network: Network, key: str, other: str) -> bool:
    with network.open(key) as node:
        return node.peering.peer(feed_id_from_node_id(network.ref(other))) is not None


def _rel(network: Network, key: str, other: str) -> Relationship:
    relationship: Relationship = network.relationship(key, other)
    return relationship


def _asked(network: Network, lease: str) -> bool:
    return f"{lease}:" in _rel(network, COOP, KITCHEN).consent_requests


def _answered(network: Network, lease: str) -> bool:
    with network.open(KITCHEN) as node:
        return circle_seat(network.ref(COOP)) in node.records.get_proposal(lease).answers
