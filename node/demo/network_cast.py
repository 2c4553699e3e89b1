"""The cast of the federation's story: its four circles, their running nodes with what each has
heard of the others so far, the founding of the circles, and what each node sees at the end."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from federation.feed import feed_id_from_node_id, node_id
from federation.verify import decode_entry, decode_signed_entry
from node.app.node import CircleNode
from node.demo.local_cluster import LocalNode, wait_for
from node.demo.scripted import consent_to, make_active

CIRCLES = {
    "coop": ("Equal Care Co-op", "Care that is good for those who give and receive it"),
    "kitchen": ("Calder Kitchen circle", "Hot meals for people cared for at home"),
    "garden": ("Todmorden Garden circle", "Growing food with and for the people we care for"),
    "orchard": ("Orchard Co-op", "An independent care co-op in the next valley"),
}
# How each circle's aim links to the co-op's mission, as it says when it forms its aim
# together (the co-op's aim is its mission; the Orchard is a co-op of its own).
MISSION_LINKS = {
    "coop": "Our aim is the co-op's mission",
    "kitchen": "A hot meal is part of good care at home",
    "garden": "Growing food together is care that is good for those who give and receive it",
    "orchard": "Our own mission, as an independent co-op",
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
            make_active(node, MISSION_LINKS[key])
        network.say(f"  [{name}] founded, aim: {aim}")
        network.say(
            f"    formed its aim together by consent ({MISSION_LINKS[key].lower()}), selected "
            "its facilitator and secretary, and began its work"
        )


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
