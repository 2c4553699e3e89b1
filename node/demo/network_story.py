"""A federation's story on this machine: a co-op, two of its circles and an independent co-op,
each a real node, deciding by consent and telling each other by signed messages.

Run by `circle-node demo` (which tells it) and by the end-to-end tests (which check it). Every
decision is taken in the deciding node's own store; the running nodes carry the messages.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from domain.values import CoopLink, Peering, Purpose, Stage, SupportStatus
from federation.feed import feed_id_from_node_id, node_id
from federation.verify import decode_entry, decode_signed_entry
from node.app.joining import join_network
from node.app.node import CircleNode
from node.demo.local_cluster import LocalNode, wait_for
from node.demo.scripted import consent_to, founder, make_active, select

CIRCLES = {
    "coop": ("Equal Care Co-op", "Care that is good for those who give and receive it"),
    "kitchen": ("Calder Kitchen circle", "Hot meals for people cared for at home"),
    "garden": ("Todmorden Garden circle", "Growing food with and for the people we care for"),
    "orchard": ("Orchard Co-op", "An independent care co-op in the next valley"),
}
Say = Callable[[str], None]


class Network:
    """The running nodes of the story, with what each has heard of the others so far."""

    def __init__(self, nodes: dict[str, LocalNode], say: Say) -> None:
        self.nodes = nodes
        self.say = say
        self.refs: dict[str, str] = {}
        self.heard: dict[tuple[str, str], int] = {}

    @contextmanager
    def open(self, key: str) -> Iterator[CircleNode]:
        with self.nodes[key].handle() as node:
            yield node

    def name(self, key: str) -> str:
        return CIRCLES[key][0]

    def ref(self, key: str) -> str:
        if key not in self.refs:
            with self.open(key) as node:
                self.refs[key] = node.feed.node_id
        return self.refs[key]

    def decide(self, key: str, purpose: str, subject: dict[str, Any], text: str, **kw: Any) -> str:
        with self.open(key) as node:
            proposal = consent_to(node, purpose, subject, text, title=text, **kw)
        verb = "opened a consent round on" if kw.get("close") is False else "consented to"
        self.say(f"  [{self.name(key)}] {verb}: {text}")
        return proposal

    def until(self, what: str, condition: Callable[..., bool], *args: Any) -> None:
        try:
            wait_for(lambda: condition(*args), 45, what)
        except TimeoutError as error:
            raise TimeoutError(f"{error}\n{self.diagnosis()}") from None

    def diagnosis(self) -> str:
        """What each node refused and warned about: for a story that got stuck."""
        lines = []
        for key, local in self.nodes.items():
            lines.append(f"--- {key} ({'running' if local.running else 'stopped'})")
            try:
                with self.open(key) as node:
                    for rel in node.relations.relationships():
                        lines.append(
                            f"  with {rel.other}: peering={rel.peering} coop={rel.coop} "
                            f"refusals={rel.refusals}"
                        )
                    for peer in node.peering.peers():
                        held = node.peering.peer_feed(peer.feed_id).next_seq - 1
                        lines.append(f"  peer {node_id(peer.feed_id)} {peer.status} held {held}")
                    lines.append(f"  own feed head {node.feed.own_feed().head}")
            except Exception as error:  # a diagnosis must not hide the timeout
                lines.append(f"  (could not read its store: {error!r})")
            if local.log.exists():
                told = local.log.read_text(errors="replace").splitlines()
                lines.extend(["  log: " + line for line in told if '"info"' not in line][-25:])
        return "\n".join(lines)

    def crossed(self, sender: str, receiver: str) -> None:
        """Tell which signed entries of `sender` the receiver has verified since last told."""
        with self.open(receiver) as node:
            feed_id = feed_id_from_node_id(self.ref(sender))
            after = self.heard.get((sender, receiver), 0)
            raw = node.store.feeds.select_entries(feed_id, after, 1000)
            me = node.feed.feed_id
        entries = [decode_entry(decode_signed_entry(r)) for r in raw]
        if entries:
            self.heard[(sender, receiver)] = entries[-1].seq
        # Entries addressed to others travel too (their bodies do not): tell only what the
        # receiver may read.
        entries = [e for e in entries if not e.audience or me in e.audience]
        if entries:
            kinds = ", ".join(f"{e.type}#{e.seq}" for e in entries)
            self.say(
                f"    ✉ {self.name(sender)} → {self.name(receiver)}: {kinds} "
                "(signed, verified, stored)"
            )

    def relationship(self, key: str, other: str) -> Any:
        with self.open(key) as node:
            return node.relations.relationship(self.ref(other))


def found_circles(network: Network) -> None:
    for key, (name, aim) in CIRCLES.items():
        with network.open(key) as node:
            node.circle.found_circle(
                name=name,
                aim=aim,
                domain="Care in the Calder Valley",
                founder_name=f"{key.title()} founder",
            )
            make_active(node)
        network.say(f"  [{name}] founded, aim: {aim}")


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
    network.decide(
        coop,
        Purpose.ADMIT_MEMBER,
        {"circle": ref(garden)},
        "Admit Todmorden Garden Co-op Ltd as a corporate member",
    )
    network.until("the corporate admission", lambda: network.relationship(garden, coop).corporate)
    network.crossed(coop, garden)

    say("\n5. A node down, and back")
    take_down(garden)
    say(f"  [{network.name(garden)}] its node is down")
    network.decide(
        coop,
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


def network_views(network: Network) -> list[str]:
    """Each node's view of the network, as lines to print."""
    lines = []
    for key, node_process in network.nodes.items():
        with network.open(key) as node:
            lines.append(f"\n{network.name(key)}  ({node_process.url}/)")
            for rel in node.relations.relationships():
                coop = rel.coop.replace("_", " ")
                extra = " (corporate)" if rel.corporate else ""
                lines.append(
                    f"  {rel.name or rel.other[:12]:28} peering: {rel.peering:9} "
                    f"co-op: {coop}{extra}"
                )
            for policy in node.relations.policies_from_coops():
                lines.append(f"  binds this circle: {policy['text']}")
    return lines
