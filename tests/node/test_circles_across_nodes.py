"""Every flow between circles on four nodes in one process: a co-op, two of its circles and an
independent co-op. Messages move as the outbox and the puller move them (tests/node/circles.py);
the real processes are in tests/e2e/."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from domain.errors import WrongStage
from domain.values import CoopLink, Peering, Purpose, Stage, SupportStatus
from federation.pages import verify_page
from federation.verify import decode_entry, verify_inception
from federation.wire import encode
from node.app.node import KNOWN_TYPES, CircleNode
from node.app.persistence import open_node
from node.network.messages import (
    CONSENT_ANSWER,
    COOP_ADMIT,
    DECISION_RECORD,
    Addressed,
    ConsentAnswer,
    encode_body,
)
from node.settings import Settings
from tests.conftest import Clock
from tests.node.circles import consent_to, founder, make_active, select, sync

NAMES = {
    "coop": "Equal Care Co-op",
    "kitchen": "Kitchen circle",
    "garden": "Garden circle",
    "orchard": "Orchard Co-op",
}


@pytest.fixture
def nodes(tmp_path: Path, clock: Clock) -> Iterator[dict[str, CircleNode]]:
    opened = {}
    for key, name in NAMES.items():
        node = open_node(Settings(data_dir=tmp_path / key), clock)
        node.circle.found_circle(
            name=name, aim=f"The aim of {name}", domain="Care", founder_name=f"{key} founder"
        )
        make_active(node)
        opened[key] = node
    yield opened
    for node in opened.values():
        node.close()


def join(nodes: dict[str, CircleNode], newcomer: str, via: str) -> None:
    """`newcomer` asks `via` to join the network; `via`'s circle consents to admit it."""
    asker, host = nodes[newcomer], nodes[via]
    push = asker.relations.ask_to_join_network(
        host.feed.descriptor(NAMES[via], f"http://{via}"),
        f"http://{via}",
        f"http://{newcomer}",
        "We would like to join",
    )
    host.intake.receive_push(push)
    consent_to(host, Purpose.ADMIT_TO_NETWORK, {"circle": asker.feed.node_id})


def test_circles_across_four_nodes(
    nodes: dict[str, CircleNode], clock: Clock, tmp_path: Path
) -> None:
    coop, kitchen, garden, orchard = (nodes[k] for k in ("coop", "kitchen", "garden", "orchard"))
    ref = {key: node.feed.node_id for key, node in nodes.items()}

    # Joining the network: each asks the co-op; the co-op's circle consents to admit it and
    # publishes a signed introduction, which the others follow.
    for newcomer in ("kitchen", "garden", "orchard"):
        join(nodes, newcomer, "coop")
    sync(nodes)
    for key in ("kitchen", "garden", "orchard"):
        assert nodes[key].relations.relationship(ref["coop"]).peering == Peering.PEERS
        assert coop.relations.relationship(ref[key]).peering == Peering.PEERS
    # The introductions let the kitchen know the garden and the orchard, and vice versa.
    assert kitchen.relations.relationship(ref["orchard"]).how == "introduced"
    assert orchard.relations.relationship(ref["garden"]).how == "introduced"

    # Part of a co-op: the kitchen and the garden apply; the co-op's circle admits them.
    for key in ("kitchen", "garden"):
        consent_to(nodes[key], Purpose.APPLY_TO_COOP, {"circle": ref["coop"]})
    sync(nodes)
    assert coop.relations.relationship(ref["kitchen"]).coop == CoopLink.APPLIED
    for key in ("kitchen", "garden"):
        consent_to(coop, Purpose.ADMIT_MEMBER, {"circle": ref[key]})
    sync(nodes)
    assert kitchen.relations.relationship(ref["coop"]).coop == CoopLink.MEMBER_OF
    assert coop.relations.relationship(ref["kitchen"]).coop == CoopLink.HAS_MEMBER
    # The co-op has the kitchen's logbook summary from the admission on.
    admitted_view = coop.relations.peer_view(kitchen.feed.feed_id)
    assert admitted_view is not None and admitted_view.summary["aim"] == "The aim of Kitchen circle"
    # Both logbooks record it.
    assert "Equal Care Co-op welcomed this circle as a member circle" in _logbook(kitchen)
    assert "This circle welcomed Kitchen circle as a member circle, by consent" in _logbook(coop)

    # The kitchen's public decisions and logbook summary reach the co-op ...
    consent_to(kitchen, Purpose.ADOPT_POLICY, {}, text="Rotas are published a week ahead")
    sync(nodes)
    view = coop.relations.peer_view(kitchen.feed.feed_id)
    assert view is not None and view.summary["aim"] == "The aim of Kitchen circle"
    assert "Adopt policy" in view.summary["policies"]
    # An everyday decision changes nothing the summary holds (it is no policy and its review
    # is ahead): the co-op gets its record, and no summary is worked out or sent again.
    cook = kitchen.hats.define_hat(founder(kitchen), "Cook", "Cooks", [], ["menus"])
    select(kitchen, cook, founder(kitchen))
    sync(nodes)
    summary = coop.relations.peer_view(kitchen.feed.feed_id).summary  # type: ignore[union-attr]
    assert "cook" in [hat["hat"] for hat in summary["hats"]]
    head = kitchen.feed.own_feed().head
    kitchen.decisions.take_everyday_decision(
        founder(kitchen), cook, "menus", "Soup on Mondays", "Soup"
    )
    types = [decode_entry(signed).type for signed in kitchen.feed.own_entries(head, 10)]
    assert types == [DECISION_RECORD]
    sync(nodes)
    seen = coop.relations.peer_view(kitchen.feed.feed_id)
    assert seen is not None and seen.summary == summary
    assert "Soup on Mondays" in [d["title"] for d in seen.decisions.values()]
    # ... and the co-op's policies that bind its circles flow down to them.
    consent_to(
        coop,
        Purpose.ADOPT_POLICY,
        {"binds_member_circles": True},
        text="Every circle reviews its budget each quarter",
    )
    consent_to(coop, Purpose.ADOPT_POLICY, {}, text="The co-op's own office hours")
    sync(nodes)
    for member in (kitchen, garden):
        binding = [p["text"] for p in member.relations.policies_from_coops()]
        assert binding == ["Every circle reviews its budget each quarter"]
    assert orchard.relations.policies_from_coops() == []  # not part of the co-op

    # The double link: the kitchen selects its delegate ...
    kitchen_founder = founder(kitchen)
    cook = kitchen.people.apply_to_join("Kim Cook")
    kitchen.people.admit(kitchen_founder, cook)
    select(kitchen, "delegate", kitchen_founder)
    # ... the co-op proposes its leader, and the kitchen agrees (both by consent).
    consent_to(coop, Purpose.PROPOSE_LEADER, {"circle": ref["kitchen"], "person": cook})
    sync(nodes)
    assert kitchen.relations.relationship(ref["coop"]).proposed_leader == cook
    consent_to(kitchen, Purpose.AGREE_LEADER, {"circle": ref["coop"], "person": cook})
    sync(nodes)
    assert kitchen.records.get_circle().wears(cook, "leader")
    seats = {f"{ref['kitchen']}/delegate", f"{ref['kitchen']}/leader"}
    assert seats <= set(coop.records.get_circle().full_participants())
    assert (
        coop.relations.seat_name(f"{ref['kitchen']}/leader")
        == "Kim Cook (leader of Kitchen circle)"
    )

    # Both seats take part in the co-op's consent rounds, answering from the kitchen's node.
    proposal = consent_to(coop, Purpose.ADOPT_POLICY, {}, text="Shared training days", close=False)
    sync(nodes)
    kitchen.relations.answer_seat(kitchen_founder, ref["coop"], proposal, True)
    kitchen.relations.answer_seat(cook, ref["coop"], proposal, False, "Not on rota days, please")
    sync(nodes)
    facilitator = founder(coop)
    assert coop.consent.close_consent_round(facilitator, proposal) == Stage.INTEGRATING
    (objection,) = coop.records.get_proposal(proposal).open_objections()
    assert objection.person_id == f"{ref['kitchen']}/leader"

    # Incorporate separately and stay a corporate member: the garden incorporates, applies as
    # a corporate member, and the co-op admits it; both record it.
    consent_to(
        garden,
        Purpose.INCORPORATE,
        {"registered_name": "Garden Co-op Ltd", "number": "RS00123", "registry": "FCA"},
    )
    consent_to(garden, Purpose.APPLY_TO_COOP, {"circle": ref["coop"]})
    sync(nodes)
    assert coop.relations.relationship(ref["garden"]).corporate_pending
    # From now on the co-op's rounds need the kitchen's seats too (its quorum, module helper).
    consent_with_seats(nodes, ref, Purpose.ADMIT_MEMBER, {"circle": ref["garden"]})
    sync(nodes)
    for rel in (
        coop.relations.relationship(ref["garden"]),
        garden.relations.relationship(ref["coop"]),
    ):
        assert rel.corporate and not rel.corporate_pending
        assert rel.legal_entity is not None and rel.legal_entity.number == "RS00123"
    assert (
        garden.relations.relationship(ref["coop"]).coop == CoopLink.MEMBER_OF
    )  # the link continues
    garden_view = coop.relations.peer_view(garden.feed.feed_id)
    assert garden_view is not None and garden_view.profile["status"] == "incorporated"

    # Support between circles: the kitchen asks the garden and the orchard for people.
    consent_to(
        kitchen,
        Purpose.REQUEST_SUPPORT,
        {"kind": "people", "circles": [ref["garden"], ref["orchard"]]},
        text="Two people for Sunday visits in March",
    )
    sync(nodes)
    (seen_by_orchard,) = orchard.support.support_requests()
    (seen_by_garden,) = garden.support.support_requests()
    assert seen_by_orchard.text == "Two people for Sunday visits in March"
    assert coop.support.support_requests() == []  # not asked
    for helper, request in ((orchard, seen_by_orchard), (garden, seen_by_garden)):
        consent_to(
            helper,
            Purpose.OFFER_SUPPORT,
            {"circle": ref["kitchen"], "request": str(request.id)},
            text=f"{helper.records.get_circle().name} can send two people",
        )
    sync(nodes)
    (ours,) = kitchen.support.support_requests()
    assert set(ours.offers) == {ref["orchard"], ref["garden"]}
    consent_to(kitchen, Purpose.ACCEPT_OFFER, {"request": str(ours.id), "offer": ref["orchard"]})
    sync(nodes)
    assert (
        orchard.support.get_support_request(str(seen_by_orchard.id)).status
        == SupportStatus.ACCEPTED
    )
    assert garden.support.get_support_request(str(seen_by_garden.id)).status == SupportStatus.CLOSED
    kitchen.support.record_support_delivery(kitchen_founder, str(ours.id), "Two visits covered")
    sync(nodes)
    kitchen.support.reflect_on_support(kitchen_founder, str(ours.id), "Warm and on time")
    orchard.support.reflect_on_support(founder(orchard), str(seen_by_orchard.id), "We learnt a lot")
    sync(nodes)
    for node, request_id, other in (
        (kitchen, ours.id, "orchard"),
        (orchard, seen_by_orchard.id, "kitchen"),
    ):
        request = node.support.get_support_request(str(request_id))
        assert request.status == SupportStatus.DELIVERED
        assert request.delivery == "Two visits covered"
        assert set(request.reflections) == {"us", ref[other]}

    # A request to the whole network is open to every circle that follows the kitchen.
    consent_to(
        kitchen,
        Purpose.REQUEST_SUPPORT,
        {"kind": "experience", "circles": ["network"]},
        text="How do you run a night rota?",
    )
    sync(nodes)
    for node in (coop, garden, orchard):
        assert "How do you run a night rota?" in [r.text for r in node.support.support_requests()]

    # Peering: the orchard asks the garden; the garden's circle consents; later it ends.
    consent_to(orchard, Purpose.REQUEST_PEERING, {"circle": ref["garden"]})
    sync(nodes)
    assert garden.relations.relationship(ref["orchard"]).peering == Peering.ASKED
    consent_to(garden, Purpose.ACCEPT_PEERING, {"circle": ref["orchard"]})
    sync(nodes)
    assert orchard.relations.relationship(ref["garden"]).peering == Peering.PEERS
    consent_to(garden, Purpose.END_PEERING, {"circle": ref["orchard"]})
    sync(nodes)
    assert orchard.relations.relationship(ref["garden"]).peering == Peering.ENDED

    # Federated consent: the co-op asks its two circles; the garden objects, by its own
    # consent process; the objection is integrated and both consent in the next round.
    asking = consent_to(
        coop,
        Purpose.ADOPT_POLICY,
        {},
        text="One shared rota tool",
        ask_circles=[ref["kitchen"], ref["garden"]],
        close=False,
    )
    sync(nodes)
    consent_to(
        kitchen,
        Purpose.ANSWER_CONSENT_REQUEST,
        {"circle": ref["coop"], "request": asking, "round": 1, "consents": True},
    )
    consent_to(
        garden,
        Purpose.ANSWER_CONSENT_REQUEST,
        {
            "circle": ref["coop"],
            "request": asking,
            "round": 1,
            "consents": False,
            "argument": "Our volunteers have no smartphones",
        },
    )
    sync(nodes)
    assert coop.consent.close_consent_round(facilitator, asking) == Stage.INTEGRATING
    (objection,) = coop.records.get_proposal(asking).open_objections()
    assert objection.person_id == f"circle:{ref['garden']}"
    coop.consent.integrate(
        facilitator,
        asking,
        "add_measure",
        "Paper rotas stay for those who want them",
        [objection.number],
    )
    coop.consent.open_consent_round(facilitator, asking)
    for person in coop.records.get_circle().full_participants():
        if "/" not in person:
            coop.consent.consent(person, asking)
    sync(nodes)
    with pytest.raises(WrongStage, match="linked circle"):
        coop.consent.close_consent_round(facilitator, asking)
    for member in (kitchen, garden):
        consent_to(
            member,
            Purpose.ANSWER_CONSENT_REQUEST,
            {"circle": ref["coop"], "request": asking, "round": 2, "consents": True},
        )
    sync(nodes)
    # The circles' consent does not make the quorum: the co-op's own full participants do,
    # among them the kitchen's delegate seat, answering from the kitchen's node.
    with pytest.raises(WrongStage, match="Below quorum: 1 of 3"):
        coop.consent.close_consent_round(facilitator, asking)
    kitchen.relations.answer_seat(kitchen_founder, ref["coop"], asking, True)
    sync(nodes)
    assert coop.consent.close_consent_round(facilitator, asking) == Stage.CONSENTED

    # Messages that do not fit are refused with a reason, recorded, and change nothing:
    # an admission nobody applied for ...
    _send(coop, ref["orchard"], COOP_ADMIT, encode_body(Addressed(ref["orchard"])))
    sync(nodes)
    rel = orchard.relations.relationship(ref["coop"])
    assert rel.coop == CoopLink.NONE
    assert rel.refusals == ["coop.admit: This circle did not apply to be part of that circle"]
    assert (
        "Refused a message from Equal Care Co-op: coop.admit: This circle did not apply to be "
        "part of that circle"
    ) in _logbook(orchard)
    # ... and an answer from a circle that was not asked.
    _send(
        orchard,
        ref["coop"],
        CONSENT_ANSWER,
        encode_body(ConsentAnswer(ref["coop"], asking, 2, False, "We object too")),
    )
    sync(nodes)
    assert coop.relations.relationship(ref["orchard"]).refusals[-1].startswith("consent.answer:")
    assert coop.records.get_proposal(asking).stage == Stage.CONSENTED

    # A node down during part of it catches up: the garden misses a co-op policy ...
    consent_with_seats(
        nodes,
        ref,
        Purpose.ADOPT_POLICY,
        {"binds_member_circles": True},
        text="Safeguarding training for everyone",
        down=("garden",),
    )
    sync(nodes, down=("garden",))
    assert "Safeguarding training for everyone" not in [
        p["text"] for p in garden.relations.policies_from_coops()
    ]
    sync(nodes)
    assert "Safeguarding training for everyone" in [
        p["text"] for p in garden.relations.policies_from_coops()
    ]

    # Erasure: Kim leaves the kitchen and asks for her personal data to be erased. The
    # kitchen erases it and tells the co-op, which erases its copies; feeds still verify.
    kitchen.people.leave(cook, cook, note="Thank you, Kim")
    sync(nodes)
    assert coop.relations.remote_name(ref["kitchen"], cook) == "Kim Cook"
    erased = kitchen.erasure.erase_person(kitchen_founder, cook)
    assert erased >= 1
    sync(nodes)
    assert kitchen.records.person_name(cook) == "a former participant"
    assert coop.relations.remote_name(ref["kitchen"], cook) == "a former participant"
    # Her name is in no file of any node (the stores were rewritten after the erasure).
    for path in tmp_path.rglob("*"):
        if path.is_file():
            assert b"Kim Cook" not in path.read_bytes(), path
    held = coop.store.feeds.select_entries(kitchen.feed.feed_id, -1, 10_000)
    from federation.verify import decode_signed_entry

    signed = [decode_signed_entry(raw) for raw in held]
    state, _ = verify_page(verify_inception(signed[0]), signed[1:], KNOWN_TYPES, lambda seq: None)
    assert state.next_seq == kitchen.feed.own_feed().next_seq
    kim_bodies = [decode_entry(s).body_hash for s in signed[1:] if decode_entry(s).body_hash]
    assert all(
        b"Kim Cook" not in (coop.feed.body_for(d, coop.feed.feed_id) or b"")
        for d in kim_bodies
        if _readable(coop, d)
    )

    # Go its own way: the kitchen withdraws from the co-op; both record it; they still peer.
    consent_to(kitchen, Purpose.GO_INDEPENDENT, {"circle": ref["coop"]})
    sync(nodes)
    assert kitchen.records.get_circle().status == "independent"
    assert kitchen.relations.relationship(ref["coop"]).coop == CoopLink.WITHDRAWN
    assert coop.relations.relationship(ref["kitchen"]).coop == CoopLink.WITHDRAWN
    assert kitchen.relations.relationship(ref["coop"]).peering == Peering.PEERS
    assert not seats & set(coop.records.get_circle().full_participants())
    assert kitchen.relations.policies_from_coops() == []


def consent_with_seats(
    nodes: dict[str, CircleNode],
    ref: dict[str, str],
    purpose: str,
    subject: dict[str, object],
    text: str = "As discussed",
    down: tuple[str, ...] = (),
) -> str:
    """A proposal the co-op consents to once the kitchen's delegate seat has answered too,
    from the kitchen's node: the seats of the double link are full participants of the co-op's
    circle, and with its founder the delegate makes the quorum (two of three)."""
    coop, kitchen = nodes["coop"], nodes["kitchen"]
    proposal = consent_to(coop, purpose, subject, text, close=False)
    sync(nodes, down=down)
    kitchen.relations.answer_seat(founder(kitchen), ref["coop"], proposal, True)
    sync(nodes, down=down)
    assert coop.consent.close_consent_round(founder(coop), proposal) == Stage.CONSENTED
    return proposal


def _logbook(node: CircleNode) -> list[str]:
    from node.app.logbook import read_logbook

    return [entry.text for entry in read_logbook(node)]


def _readable(node: CircleNode, digest: bytes) -> bool:
    try:
        node.feed.body_for(digest, node.feed.feed_id)
    except PermissionError:
        return False
    return True


def _send(node: CircleNode, to: str, kind: str, body: bytes) -> None:
    """Append a message straight to a node's feed, as a faulty or hostile node might."""
    from federation.feed import feed_id_from_node_id

    own = node.feed.own_feed()
    audience = [feed_id_from_node_id(to)]
    signed = own.append(node.feed.keys, kind, body, 1, audience)  # type: ignore[arg-type]
    node.save(
        own,
        entries=[(node.feed.feed_id, own.head, encode(signed))],
        bodies=[node.store.body_row(body, audience)],
    )
