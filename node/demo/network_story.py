"""A federation's story on this machine: a co-op, two of its circles and an independent co-op,
each a real node, deciding by consent and telling each other by signed messages.

Run by `circle-node demo` (which tells it) and by the end-to-end tests (which check it). Every
decision is taken in the deciding node's own store; the running nodes carry the messages. The
cast (the circles and their running nodes) is in `network_cast.py`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from domain.values import CoopLink, Peering, Purpose, Stage, SupportStatus
from federation.feed import feed_id_from_node_id
from node.app.joining import join_network
from node.demo.network_cast import Network
from node.demo.scripted import founder, select


def run_story(
    network: Network, take_down: Callable[[str], None], bring_up: Callable[[str], None]
) -> None:
    """The whole story. `take_down`/`bring_up` stop and restart a node's server."""
    say, ref = network.say, network.ref
    coop, kitchen, garden, orchard = "coop", "kitchen", "garden", "orchard"

    say("\n1. Joining the network")
    for newcomer in (kitchen, garden, orchard):
        with network.open(newcomer) as node:
            asyncio.run(
                join_network(
                    node, network.nodes[coop].url, network.nodes[newcomer].url, "May we join?"
                )
            )
        say(
            f"  [{network.name(newcomer)}] asked {network.name(coop)} to admit it "
            "(a signed join request)"
        )
        network.until("the join request", lambda n: _knows(network, coop, n), newcomer)
        network.decide(
            coop,
            Purpose.ADMIT_TO_NETWORK,
            {"circle": ref(newcomer)},
            f"Admit {network.name(newcomer)} to the network",
        )
        network.until(
            "the admission",
            lambda n: network.relationship(n, coop).peering == Peering.PEERS,
            newcomer,
        )
        network.crossed(coop, newcomer)

    say("\n2. Part of the co-op")
    for member in (kitchen, garden):
        network.decide(
            member,
            Purpose.APPLY_TO_COOP,
            {"circle": ref(coop)},
            f"Apply to be part of {network.name(coop)}",
        )
        network.until(
            "the application",
            lambda m: network.relationship(coop, m).coop == CoopLink.APPLIED,
            member,
        )
        network.crossed(member, coop)
        network.decide(
            coop,
            Purpose.ADMIT_MEMBER,
            {"circle": ref(member)},
            f"Welcome {network.name(member)} as a member circle",
        )
        network.until(
            "the welcome",
            lambda m: network.relationship(m, coop).coop == CoopLink.MEMBER_OF,
            member,
        )
        network.crossed(coop, member)
    network.decide(
        coop,
        Purpose.ADOPT_POLICY,
        {"binds_member_circles": True},
        "Every circle reviews its budget each quarter",
    )
    network.until(
        "the co-op's policy to reach its circles",
        lambda: all(_binding(network, m) for m in (kitchen, garden)),
    )
    network.crossed(coop, kitchen)
    say("  Both member circles now show the co-op's policy that binds them.")

    say("\n3. The double link")
    with network.open(kitchen) as node:
        cook = node.people.apply_to_join("Kim Cook")
        node.people.admit(founder(node), cook)
        select(node, "delegate", founder(node))
    say(f"  [{network.name(kitchen)}] selected its delegate")
    network.decide(
        coop,
        Purpose.PROPOSE_LEADER,
        {"circle": ref(kitchen), "person": cook},
        "Propose a leader for the kitchen circle (the kitchen agrees or not)",
    )
    network.until(
        "the leader proposal", lambda: network.relationship(kitchen, coop).proposed_leader == cook
    )
    network.decide(
        kitchen,
        Purpose.AGREE_LEADER,
        {"circle": ref(coop), "person": cook},
        "Agree to the leader the co-op proposed",
    )
    network.until("both seats", lambda: _seats(network) == 2)
    network.crossed(kitchen, coop)
    say(f"  The kitchen's delegate and leader now sit in {network.name(coop)}'s circle too.")

    say("\n4. Incorporated separately, still a corporate member")
    network.decide(
        garden,
        Purpose.INCORPORATE,
        {
            "registered_name": "Todmorden Garden Co-op Ltd",
            "number": "RS009876",
            "registry": "FCA mutuals register",
        },
        "Incorporate as a co-operative society",
    )
    network.decide(
        garden,
        Purpose.APPLY_TO_COOP,
        {"circle": ref(coop)},
        "Stay with the co-op as a corporate member",
    )
    network.until(
        "the corporate application", lambda: network.relationship(coop, garden).corporate_pending
    )
    _decide_with_the_seats(
        network,
        Purpose.ADMIT_MEMBER,
        {"circle": ref(garden)},
        "Admit Todmorden Garden Co-op Ltd as a corporate member",
    )
    network.until("the corporate admission", lambda: network.relationship(garden, coop).corporate)
    network.crossed(coop, garden)

    say("\n5. A node down, and back")
    take_down(garden)
    say(f"  [{network.name(garden)}] its node is down")
    _decide_with_the_seats(
        network,
        Purpose.ADOPT_POLICY,
        {"binds_member_circles": True},
        "Safeguarding training for everyone",
    )
    bring_up(garden)
    say(f"  [{network.name(garden)}] its node is back, and catches up")
    network.until(
        "the catch-up", lambda: "Safeguarding training for everyone" in _binding(network, garden)
    )
    network.crossed(coop, garden)

    say("\n6. Support between circles")
    network.decide(
        kitchen,
        Purpose.REQUEST_SUPPORT,
        {"kind": "people", "circles": [ref(garden), ref(orchard)]},
        "Ask for two people for Sunday visits",
    )
    network.until("the request", lambda: _seen_requests(network, orchard) == 1)
    network.crossed(kitchen, orchard)
    with network.open(orchard) as node:
        seen = node.support.support_requests()[0]
    network.decide(
        orchard,
        Purpose.OFFER_SUPPORT,
        {"circle": ref(kitchen), "request": str(seen.id)},
        "Offer two people for Sunday visits",
    )
    network.until("the offer", lambda: _offers(network) == 1)
    with network.open(kitchen) as node:
        ours = node.support.support_requests()[0]
    network.decide(
        kitchen,
        Purpose.ACCEPT_OFFER,
        {"request": str(ours.id), "offer": ref(orchard)},
        "Accept the Orchard Co-op's offer",
    )
    network.until("the acceptance", lambda: _status(network, orchard) == SupportStatus.ACCEPTED)
    with network.open(kitchen) as node:
        node.support.record_support_delivery(
            founder(node), str(ours.id), "Four Sunday visits covered"
        )
        node.support.reflect_on_support(
            founder(node), str(ours.id), "Warm, on time, and they stayed"
        )
    network.until("the delivery", lambda: _status(network, orchard) == SupportStatus.DELIVERED)
    with network.open(orchard) as node:
        node.support.reflect_on_support(founder(node), str(seen.id), "We learnt how they run rotas")
    network.until("both reflections", lambda: len(_reflections(network)) == 2)
    network.crossed(kitchen, orchard)
    network.crossed(orchard, kitchen)
    say("  Delivery and both reflections are recorded on both sides.")

    say("\n7. Federated consent")
    asking = network.decide(
        coop,
        Purpose.ADOPT_POLICY,
        {},
        "One shared rota tool",
        ask_circles=[ref(kitchen), ref(garden)],
        close=False,
    )
    for member in (kitchen, garden):
        network.until(
            "the consent request",
            lambda m: bool(network.relationship(m, coop).consent_requests),
            member,
        )
        network.decide(
            member,
            Purpose.ANSWER_CONSENT_REQUEST,
            {"circle": ref(coop), "request": asking, "round": 1, "consents": True},
            f"Consent to the co-op's '{'One shared rota tool'}'",
        )
    network.until("both answers", lambda: _answered(network, asking) == 2)
    network.crossed(kitchen, coop)
    network.crossed(garden, coop)
    _delegate_consents(network, asking)
    with network.open(coop) as node:
        outcome = node.consent.close_consent_round(founder(node), asking)
    say(f"  [{network.name(coop)}] closed the round, counting both circles' answers: {outcome}")
    assert outcome == Stage.CONSENTED

    say("\n8. Peering by consent")
    network.decide(
        orchard, Purpose.REQUEST_PEERING, {"circle": ref(garden)}, "Ask the garden circle to peer"
    )
    network.until(
        "the request", lambda: network.relationship(garden, orchard).peering == Peering.ASKED
    )
    network.decide(
        garden, Purpose.ACCEPT_PEERING, {"circle": ref(orchard)}, "Peer with the Orchard Co-op"
    )
    network.until("peering", lambda: network.relationship(orchard, garden).peering == Peering.PEERS)
    network.crossed(garden, orchard)

    say("\n9. Someone leaves, and asks to be forgotten")
    with network.open(kitchen) as node:
        node.people.leave(cook, cook, note="Thank you, Kim, for every Sunday")
        erased = node.erasure.erase_person(founder(node), cook)
    say(
        f"  [{network.name(kitchen)}] Kim Cook left with thanks; at her request her personal "
        f"data was erased here ({erased} published bodies)"
    )
    network.until("the co-op's erasure", lambda: _remote_name(network, cook) != "Kim Cook")
    network.crossed(kitchen, coop)
    say(f"  [{network.name(coop)}] erased its copies; every feed still verifies")

    say("\n10. Going its own way")
    network.decide(
        kitchen,
        Purpose.GO_INDEPENDENT,
        {"circle": ref(coop)},
        "Go our own way as an independent circle",
    )
    network.until(
        "the withdrawal", lambda: network.relationship(coop, kitchen).coop == CoopLink.WITHDRAWN
    )
    network.crossed(kitchen, coop)
    say("  Both record it; the two still peer.")


def _decide_with_the_seats(
    network: Network, purpose: str, subject: dict[str, object], text: str
) -> str:
    """A decision of the co-op's circle once the double link seats the kitchen's delegate and
    leader there: they are full participants of it and count towards its quorum, so the
    delegate answers from the kitchen's node before the round closes."""
    proposal = network.decide("coop", purpose, subject, text, close=False)
    _delegate_consents(network, proposal)
    with network.open("coop") as node:
        outcome = node.consent.close_consent_round(founder(node), proposal)
    network.say(f"  [{network.name('coop')}] closed the round: {outcome}")
    assert outcome == Stage.CONSENTED
    return proposal


def _delegate_consents(network: Network, proposal: str) -> None:
    """The kitchen's delegate consents to the co-op's proposal from its seat, on its own node."""
    network.until(
        "the seat's request",
        lambda: f"{proposal}:delegate" in network.relationship("kitchen", "coop").seat_requests,
    )
    with network.open("kitchen") as node:
        node.relations.answer_seat(founder(node), network.ref("coop"), proposal, True)
    seat = f"{network.ref('kitchen')}/delegate"
    network.until("the seat's answer", lambda: seat in _answers(network, proposal))
    network.say(f"  [{network.name('kitchen')}] its delegate consented from its seat")


def _answers(network: Network, proposal: str) -> list[str]:
    with network.open("coop") as node:
        return list(node.records.get_proposal(proposal).answers)


def _knows(network: Network, key: str, other: str) -> bool:
    with network.open(key) as node:
        return node.peering.peer(feed_id_from_node_id(network.ref(other))) is not None


def _binding(network: Network, key: str) -> list[str]:
    with network.open(key) as node:
        return [p["text"] for p in node.relations.policies_from_coops()]


def _seats(network: Network) -> int:
    with network.open("coop") as node:
        return sum("/" in p for p in node.records.get_circle().full_participants())


def _seen_requests(network: Network, key: str) -> int:
    with network.open(key) as node:
        return len(node.support.support_requests())


def _offers(network: Network) -> int:
    with network.open("kitchen") as node:
        return sum(len(r.offers) for r in node.support.support_requests())


def _status(network: Network, key: str) -> str:
    with network.open(key) as node:
        return str(node.support.support_requests()[0].status)


def _reflections(network: Network) -> dict[str, str]:
    with network.open("orchard") as node:
        return dict(node.support.support_requests()[0].reflections)


def _answered(network: Network, proposal: str) -> int:
    with network.open("coop") as node:
        return sum(p.startswith("circle:") for p in node.records.get_proposal(proposal).answers)


def _remote_name(network: Network, person: str) -> str:
    with network.open("coop") as node:
        return node.relations.remote_name(network.ref("kitchen"), person)
