"""A circle with someone of every kind, for the authorisation matrix and schemathesis.

Ada (founder, secretary), Ben (facilitator), Cleo (full), Eli (learning), Gus (guest), and Lee
(a full participant who left: his token is kept, as someone who left would keep theirs). A peer
node (Garden) this one knows, a stranger node it does not, and one real record of each kind,
so that requests can name things that exist.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from federation.feed import node_id
from federation.keys import NodeKeys
from federation.verify import decode_entry
from node.app.node import CircleNode
from node.demo.scripted import form_aim, select

MEMORY = {"PERSISTENCE_MODULE": "node.store.memory_store"}
START = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)


def keyed_node(seed: int, env: dict[str, str] | None = None) -> CircleNode:
    keys = NodeKeys.from_seeds(bytes([seed]) * 32, bytes([seed + 100]) * 32)
    return CircleNode(env=env or MEMORY, clock=lambda: START, keys=keys)


@dataclass
class Everyone:
    node: CircleNode
    peer: CircleNode  # a node this one exchanges feeds with
    stranger: CircleNode  # a node this one does not know
    ids: dict[str, str] = field(default_factory=dict)
    tokens: dict[str, str] = field(default_factory=dict)
    token_ids: dict[str, str] = field(default_factory=dict)
    # Real values for path parameters, by parameter name.
    records: dict[str, list[str]] = field(default_factory=dict)

    def bearer(self, who: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[who]}"}


def everyone(node: CircleNode | None = None) -> Everyone:
    node = node or keyed_node(61)
    peer, stranger = keyed_node(62), keyed_node(63)
    peer.circle.found_circle(name="Garden", aim="Grow", domain="Land", founder_name="Bo")
    stranger.circle.found_circle(name="Stranger", aim="Roam", domain="Roads", founder_name="Sam")
    ada = node.circle.found_circle(
        name="Kitchen", aim="Feed the neighbourhood", domain="Food", founder_name="Ada"
    )
    ids = {"ada": ada}
    for name, level in (
        ("Ben", "full"),
        ("Cleo", "full"),
        ("Eli", "learning"),
        ("Gus", "guest"),
        ("Lee", "full"),
    ):
        ids[name.lower()] = node.people.add_founding_member(ada, name, level)
    form_aim(node, "Good food is good care")
    select(node, "facilitator", ids["ben"])
    select(node, "secretary", ada)
    node.circle.activate_circle(ada)
    world = Everyone(node, peer, stranger, ids)
    for who, person in ids.items():
        world.token_ids[who], world.tokens[who] = node.tokens.issue_token(person)
    node.people.leave(ids["lee"], ids["lee"])

    node.peering.add_peer(
        peer.feed.descriptor("Garden", "http://garden.invalid"), "http://garden.invalid"
    )
    peer.peering.add_peer(node.feed.descriptor("Kitchen", "http://testserver"), "http://testserver")
    push = peer.outbox.pending_push(node.feed.feed_id)
    assert push is not None
    node.intake.receive_push(push)

    hat = node.hats.define_hat(ada, "Cook", "Cooks", [], ["menu"])
    proposal = node.proposals.draft_proposal(ids["cleo"], "Rota", "A weekly rota")
    selection = node.hats.open_selection(ids["ben"], hat)
    decision = node.decisions.take_everyday_decision(
        ids["ben"], "facilitator", "meetings", "Tuesdays", "x"
    )
    # A week from the node's now (its clock is START, or the real one for some tests).
    meeting = node.meetings.schedule_meeting(
        ids["ben"], "Monthly", node.records.now() + timedelta(days=7)
    )
    bodies = [
        entry.body_hash.hex()
        for entry in map(decode_entry, node.feed.own_entries(-1, 100))
        if entry.body_hash
    ]
    others = [node_id(peer.feed.feed_id), node_id(stranger.feed.feed_id)]
    world.records = {
        "person_id": [ids[who] for who in ("ben", "cleo", "eli", "gus", "lee")],
        "proposal_id": [proposal],
        "process_id": [proposal, selection],
        "selection_id": [selection],
        "decision_id": [str(decision)],
        "meeting_id": [meeting],
        "hat_id": [hat, "facilitator", "secretary"],
        "token_id": [world.token_ids["gus"]],
        "other": others,
        "co_op": others,
        "circle": others,
        "proposal": [proposal],
        "request_id": [proposal],
        "number": ["1", "0"],
        "digest": bodies,
    }
    return world


def fill_path(path: str, values: dict[str, Any]) -> str:
    for name, value in values.items():
        path = path.replace("{" + name + "}", str(value))
    return path
