"""Other circles over HTTP, on two nodes in one process: the relationships, a seat of the double
link answering the co-op's round, co-op policies, support between circles, and the transport
peers, where an equivocating peer is flagged with its proof."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from domain.values import Purpose
from federation.feed import FeedState, append
from federation.verify import Reason
from federation.wire import Push, encode
from node.app.node import CircleNode
from node.demo.scripted import consent_to, select
from tests.conftest import Clock
from tests.node.api.world import Circle, assert_problem, member_pair
from tests.node.circles import sync


@pytest.fixture
def pair(tmp_path: Path, clock: Clock) -> Iterator[tuple[Circle, Circle]]:
    """The co-op and the kitchen circle: in the network, the kitchen part of the co-op, the
    kitchen's delegate (Ada) seated in the co-op's circle."""
    nodes, coop, kitchen_circle = member_pair(tmp_path, clock)
    select(nodes["kitchen"], "delegate", kitchen_circle.ids["ada"])
    sync(nodes)
    yield coop, kitchen_circle
    for node in nodes.values():
        node.close()


def nodes_of(*circles: Circle) -> dict[str, CircleNode]:
    return {str(n): c.node for n, c in enumerate(circles)}


def test_relationships_and_a_seat_answering_the_coops_round(pair: tuple[Circle, Circle]) -> None:
    coop, kitchen_circle = pair
    coop_id, kitchen_id = coop.node.feed.node_id, kitchen_circle.node.feed.node_id
    ada = kitchen_circle.ids["ada"]

    seen_from_coop = coop.get("gus", f"/relationships/{kitchen_id}").json()
    assert seen_from_coop["name"] == "Kitchen" and seen_from_coop["how"] == "applied"
    assert seen_from_coop["peering"] == "peers" and seen_from_coop["coop"] == "has_member"
    assert seen_from_coop["admitted_to_network"] is True
    assert seen_from_coop["delegate"] == {"person_id": ada, "name": "Ada"}
    assert seen_from_coop["leader"] is None and seen_from_coop["legal_entity"] is None

    # The co-op's consent round asks the kitchen's delegate, who answers from the kitchen.
    proposal = consent_to(coop.node, Purpose.ADOPT_POLICY, {}, text="Shared training", close=False)
    sync(nodes_of(coop, kitchen_circle))
    (rel,) = kitchen_circle.get("eli", "/relationships").json()["items"]
    assert rel["other"] == coop_id and rel["name"] == "Equal Care Co-op"
    assert rel["coop"] == "member_of" and rel["peering"] == "peers"
    assert rel["consent_requests"] == [] and rel["refusals"] == []
    assert rel["seat_requests"] == [
        {
            "proposal": proposal,
            "round": 1,
            "title": "Adopt policy",
            "text": "Shared training",
            "seat": "delegate",
        }
    ]
    # Only the delegate or the leader answers for a seat.
    assert_problem(
        kitchen_circle.post("ben", f"/seats/{coop_id}/{proposal}", {"consents": True}),
        403,
        "not_permitted",
        "Only this circle's delegate or leader answers for its seat",
    )
    assert_problem(
        kitchen_circle.post("ada", f"/seats/{coop_id}/{proposal}", {"consents": False}),
        422,
        "invalid_request",
        "An objection needs its argument",
    )
    assert_problem(
        kitchen_circle.post("ada", f"/seats/{coop_id}/not-asked", {"consents": True}),
        404,
        "not_found",
        "The co-op has not asked this seat about that proposal",
    )
    answered = kitchen_circle.ok("ada", f"/seats/{coop_id}/{proposal}", {"consents": True})
    assert answered["seat_requests"] == []
    sync(nodes_of(coop, kitchen_circle))
    answers = coop.get("ada", f"/processes/{proposal}").json()["answers"]
    assert {
        "person_id": f"{kitchen_id}/delegate",
        "consents": True,
        "text": "",
        "in_advance": False,
    } in answers

    # A co-op policy that binds its circles reaches the kitchen.
    consent_to(coop.node, Purpose.ADOPT_POLICY, {"binds_member_circles": True}, text="Budgets")
    sync(nodes_of(coop, kitchen_circle))
    policies = kitchen_circle.get("gus", "/policies-from-coops").json()
    assert policies["total"] == 1
    (policy,) = policies["items"]
    assert policy["circle"] == coop_id and policy["circle_name"] == "Equal Care Co-op"
    assert policy["text"] == "Budgets" and policy["binding"] is True
    assert policy["status"] == "in_force" and policy["kind"] == "policy"
    assert coop.get("gus", "/policies-from-coops").json()["total"] == 0

    # Subjects naming a known circle but not what the purpose needs are refused, not a crash:
    # as malformed where the purpose's schema says so, by the circle where only it knows.
    for purpose, subject, status, reason, detail in (
        (
            "answer_consent_request",
            {"circle": coop_id, "consents": True},
            400,
            "malformed",
            "body.answer_consent_request.subject.request: Field required",
        ),
        (
            "answer_consent_request",
            {"circle": coop_id, "request": proposal, "round": "two", "consents": True},
            400,
            "malformed",
            "body.answer_consent_request.subject.round: Input should be a valid integer, "
            "unable to parse string as an integer",
        ),
        (
            "offer_support",
            {"circle": coop_id},
            400,
            "malformed",
            "body.offer_support.subject.request: Field required",
        ),
        (
            "answer_consent_request",
            {"circle": coop_id, "request": proposal, "consents": True},
            422,
            "invalid_request",
            "That circle did not ask for this consent",
        ),
    ):
        response = kitchen_circle.post(
            "cleo",
            "/proposals",
            {"title": "x", "text": "y", "purpose": purpose, "subject": subject},
        )
        assert_problem(response, status, reason, detail)


def test_support_between_circles(pair: tuple[Circle, Circle]) -> None:
    coop, kitchen_circle = pair
    coop_id, kitchen_id = coop.node.feed.node_id, kitchen_circle.node.feed.node_id
    both = nodes_of(coop, kitchen_circle)
    consent_to(
        kitchen_circle.node,
        Purpose.REQUEST_SUPPORT,
        {"kind": "people", "circles": [coop_id]},
        text="Two people for Sunday visits",
    )
    sync(both)
    (seen,) = coop.get("ada", "/support-requests").json()["items"]
    assert seen["ours"] is False and seen["origin"] == kitchen_id and seen["status"] == "open"
    assert seen["kind"] == "people" and seen["text"] == "Two people for Sunday visits"
    consent_to(
        coop.node,
        Purpose.OFFER_SUPPORT,
        {"circle": kitchen_id, "request": seen["id"]},
        text="Two of us can come",
    )
    sync(both)
    (ours,) = kitchen_circle.get("ada", "/support-requests").json()["items"]
    assert ours["ours"] is True and ours["to"] == [coop_id]
    assert ours["offers"] == [{"circle": coop_id, "text": "Two of us can come"}]
    consent_to(kitchen_circle.node, Purpose.ACCEPT_OFFER, {"request": ours["id"], "offer": coop_id})
    sync(both)
    rid = ours["id"]
    assert kitchen_circle.get("gus", f"/support-requests/{rid}").json()["accepted"] == coop_id

    assert_problem(
        kitchen_circle.post("eli", f"/support-requests/{rid}/reflection", {"text": "Early"}),
        409,
        "wrong_stage",
        "Reflections follow the delivery",
    )
    assert_problem(
        kitchen_circle.post("ben", f"/support-requests/{rid}/delivery", {"note": "Done"}),
        403,
        "not_permitted",
        "Only the secretary can record that support was delivered",
    )
    delivered = kitchen_circle.ok("ada", f"/support-requests/{rid}/delivery", {"note": "Done"})
    assert delivered["status"] == "delivered" and delivered["delivery"] == "Done"
    reflected = kitchen_circle.ok("eli", f"/support-requests/{rid}/reflection", {"text": "Warm"})
    assert reflected["reflections"] == [{"circle": "us", "text": "Warm"}]
    assert_problem(
        kitchen_circle.post("ada", f"/support-requests/{rid}/reflection", {"text": "Again"}),
        422,
        "invalid_request",
        "This circle has recorded its reflection",
    )
    sync(both)
    theirs = coop.get("gus", f"/support-requests/{seen['id']}").json()
    assert theirs["status"] == "delivered" and theirs["our_offer"] == "Two of us can come"
    assert theirs["reflections"] == [{"circle": kitchen_id, "text": "Warm"}]


def test_peers_show_how_far_feeds_went_and_flag_equivocation(pair: tuple[Circle, Circle]) -> None:
    coop, kitchen_circle = pair
    coop_node, kitchen_node = coop.node, kitchen_circle.node
    peers = kitchen_circle.get("gus", "/peers").json()
    assert peers["total"] == 1 and peers["equivocating"] == []
    (peer,) = peers["items"]
    assert peer == {
        "node_id": coop_node.feed.node_id,
        "name": "Equal Care Co-op",
        "url": "http://coop",
        "status": "peer",
        "stopped": False,
        "equivocation": None,
        "retired_key": None,
        "superseded": None,
        "held_seq": coop_node.feed.own_feed().head,
        "delivered_seq": kitchen_node.feed.own_feed().head,
    }

    # The co-op's node signs a second entry at its latest seq: the kitchen stops taking its
    # feed and keeps both entries as proof; the member API flags it.
    head = coop_node.feed.own_feed().head
    previous, published = coop_node.feed.own_entries(head - 2, 2)
    keys = coop_node.feed.keys
    assert keys is not None
    state = FeedState(
        coop_node.feed.feed_id, head, previous.hash, keys.current_public, keys.next_digest
    )
    fork, _ = append(state, keys, "decision.record", b"\x80", 5)
    reply = kitchen_node.intake.receive_push(Push(coop_node.feed.feed_id, [fork], []))
    assert reply.reason == Reason.EQUIVOCATION
    peers = kitchen_circle.get("ada", "/peers").json()
    assert peers["equivocating"] == [coop_node.feed.node_id]
    (peer,) = peers["items"]
    assert peer["stopped"] is True
    assert peer["equivocation"] == {
        "seq": head,
        "held": encode(published).hex(),
        "conflicting": encode(fork).hex(),
        "held_chain": "",
    }
    assert peer["held_seq"] == head
