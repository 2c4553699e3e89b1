"""Long-term decisions across two nodes in one process: the kitchen circle, part of the co-op,
names the co-op's circle in its rules for long-term decisions; its year-long policy asks the
co-op by a signed `consent.request` (federated consent), the co-op answers by its own consent
process, and only with the co-op's consent does the kitchen adopt it. Messages move as the
outbox and the puller move them (tests/node/circles.py); the real processes are in
tests/e2e/test_long_term_decisions.py."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from domain.errors import WrongStage
from domain.values import DecisionKind, Purpose, Stage
from node.app.node import CircleNode
from node.app.persistence import open_node
from node.settings import Settings
from tests.conftest import Clock
from tests.node.circles import consent_to, founder, make_active, make_member, sync


@pytest.fixture
def nodes(tmp_path: Path, clock: Clock) -> Iterator[dict[str, CircleNode]]:
    opened = {}
    for key, name in (("coop", "Equal Care Co-op"), ("kitchen", "Kitchen circle")):
        node = open_node(Settings(data_dir=tmp_path / key), clock)
        node.circle.found_circle(
            name=name, aim=f"The aim of {name}", domain="Care", founder_name=f"{key} founder"
        )
        make_active(node)
        opened[key] = node
    make_member(opened, "coop", "kitchen")
    yield opened
    for node in opened.values():
        node.close()


def name_the_coop(kitchen: CircleNode, coop: CircleNode) -> None:
    """The kitchen's rules send long-term decisions, and those about premises, to the co-op."""
    consent_to(
        kitchen,
        Purpose.CHANGE_RULES,
        {"long_term_circle": coop.feed.node_id, "long_term_topics": ["premises"]},
    )


def draft_lease(kitchen: CircleNode) -> str:
    """A year-long policy, taken by the kitchen to its consent round; everyone consents."""
    return consent_to(
        kitchen, Purpose.ADOPT_POLICY, {}, "For twelve months", title="Lease the hall", close=False
    )


def test_the_co_op_consents_and_the_circle_adopts_its_long_term_decision(
    nodes: dict[str, CircleNode],
) -> None:
    coop, kitchen = nodes["coop"], nodes["kitchen"]
    name_the_coop(kitchen, coop)

    # The kitchen's year-long policy asks the co-op, though nobody named it.
    lease = draft_lease(kitchen)
    proposal = kitchen.records.get_proposal(lease)
    assert proposal.long_term_circle == proposal.asked_circles[0] == coop.feed.node_id

    # The round waits for the co-op.
    host = founder(kitchen)
    with pytest.raises(WrongStage, match="long-term decision"):
        kitchen.consent.close_consent_round(host, lease)

    # The co-op is asked by a signed message and answers by its own consent process.
    sync(nodes)
    asked = coop.relations.relationship(kitchen.feed.node_id).consent_requests
    assert asked[f"{lease}:"]["title"] == "Lease the hall"
    consent_to(
        coop,
        Purpose.ANSWER_CONSENT_REQUEST,
        {"circle": kitchen.feed.node_id, "request": lease, "round": 1, "consents": True},
    )
    sync(nodes)

    # With its consent the kitchen closes the round: the policy is in force.
    assert kitchen.consent.close_consent_round(host, lease) == Stage.CONSENTED
    (policy,) = [d for d in kitchen.records.list_decisions() if d.proposal_id == lease]
    assert policy.kind == DecisionKind.POLICY and policy.in_force


def test_the_co_ops_objection_sends_the_long_term_decision_back_to_integration(
    nodes: dict[str, CircleNode],
) -> None:
    coop, kitchen = nodes["coop"], nodes["kitchen"]
    name_the_coop(kitchen, coop)
    lease = draft_lease(kitchen)
    sync(nodes)

    # The co-op objects, by its own consent process.
    consent_to(
        coop,
        Purpose.ANSWER_CONSENT_REQUEST,
        {
            "circle": kitchen.feed.node_id,
            "request": lease,
            "round": 1,
            "consents": False,
            "argument": "The co-op's premises budget is already spent this year",
        },
    )
    sync(nodes)

    # The kitchen cannot adopt it: the objection is integrated as any other.
    assert kitchen.consent.close_consent_round(founder(kitchen), lease) == Stage.INTEGRATING
    (objection,) = kitchen.records.get_proposal(lease).open_objections()
    assert objection.argument == "The co-op's premises budget is already spent this year"
    assert not [d for d in kitchen.records.list_decisions() if d.proposal_id == lease]


def test_the_calendar_leaves_a_late_long_term_round_open_for_the_long_term_circle(
    nodes: dict[str, CircleNode], clock: Clock
) -> None:
    # The kitchen's asynchronous year-long policy: everyone consents; the co-op is silent.
    coop, kitchen = nodes["coop"], nodes["kitchen"]
    name_the_coop(kitchen, coop)
    by = founder(kitchen)
    deadline = clock() + timedelta(days=7)
    lease = kitchen.proposals.draft_proposal(
        by, "Lease the hall", "For a year", mode="async", deadline=deadline
    )
    kitchen.proposals.present(by, lease)
    kitchen.proposals.open_reactions(by, lease)
    kitchen.consent.open_consent_round(by, lease)
    kitchen.consent.consent(by, lease)

    # Past the deadline, the calendar does not close it without the co-op's answer.
    clock.advance(days=8)
    assert lease not in kitchen.decisions.update_due_dates()["closed"]
    assert kitchen.records.get_proposal(lease).stage == Stage.CONSENT_ROUND

    # Once the co-op consents (its own process), the facilitator closes it.
    sync(nodes)
    consent_to(
        coop,
        Purpose.ANSWER_CONSENT_REQUEST,
        {"circle": kitchen.feed.node_id, "request": lease, "round": 1, "consents": True},
    )
    sync(nodes)
    assert kitchen.consent.close_consent_round(by, lease) == Stage.CONSENTED


def test_a_topic_the_rules_name_is_asked_whatever_its_term(
    nodes: dict[str, CircleNode], clock: Clock
) -> None:
    coop, kitchen = nodes["coop"], nodes["kitchen"]
    name_the_coop(kitchen, coop)

    # A three-month policy about premises goes to the co-op; one about the rota does not.
    soon = clock().date() + timedelta(days=90)
    by = founder(kitchen)
    premises = kitchen.proposals.draft_proposal(
        by, "Hall", "Use the hall", topic="premises", review_date=soon
    )
    rota = kitchen.proposals.draft_proposal(by, "Rota", "Try it", topic="rota", review_date=soon)
    assert kitchen.records.get_proposal(premises).asked_circles == [coop.feed.node_id]
    assert kitchen.records.get_proposal(rota).asked_circles == []


def test_a_circle_whose_rules_name_itself_decides_them_itself(
    nodes: dict[str, CircleNode],
) -> None:
    # The co-op's rules name its own circle for long-term decisions.
    coop = nodes["coop"]
    consent_to(coop, Purpose.CHANGE_RULES, {"long_term_circle": coop.feed.node_id})

    # Its year-long policy asks nobody: it is the circle they belong to.
    lease = coop.proposals.draft_proposal(founder(coop), "Lease", "Rent the hall for a year")
    proposal = coop.records.get_proposal(lease)
    assert proposal.asked_circles == [] and proposal.long_term_circle is None


def test_a_long_term_decision_needs_a_relationship_with_its_circle(
    nodes: dict[str, CircleNode],
) -> None:
    # The kitchen's rules name a circle it has never met.
    kitchen = nodes["kitchen"]
    consent_to(kitchen, Purpose.CHANGE_RULES, {"long_term_circle": "cn1unknown"})

    # Its year-long policy cannot be drafted: there is nobody to ask.
    with pytest.raises(WrongStage, match="no relationship with it"):
        kitchen.proposals.draft_proposal(founder(kitchen), "Lease", "Rent the hall for a year")
    assert kitchen.records.list_proposals()[-1].purpose == Purpose.CHANGE_RULES
