"""The body vectors (tests/vectors/bodies.json and the bodies in the other files): every type the
node registers has one, and the node's own decoders and verifiers accept each."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from federation.feed import node_id
from federation.verify import check_body, check_entry, decode_entry, verify_inception
from federation.wire import JOIN_REQUEST, NODE_MOVED, FeedPage, NodeDescriptor, SignedEntry
from node.app.node import KNOWN_TYPES
from node.network.messages import BODY_TYPES, decode_body, encode_body
from tests.vectors.body_records import readable

VECTORS = Path(__file__).parent.parent / "vectors"


def load(name: str) -> dict[str, Any]:
    content: dict[str, Any] = json.loads((VECTORS / name).read_text())
    return content


def signed(vector: dict[str, Any]) -> SignedEntry:
    return SignedEntry(bytes.fromhex(vector["entry"]), bytes.fromhex(vector["signature"]))


BODIES = load("bodies.json")["entries"]


def test_every_registered_type_has_a_body_vector() -> None:
    types = [vector["type"] for vector in BODIES]
    assert sorted(types) == sorted(BODY_TYPES), "add a vector to tests/vectors/body_records.py"
    # The join request's body is in entries.json, node.moved's in moved.json; the key events
    # have none.
    entries = load("entries.json")["entries"]
    assert JOIN_REQUEST in {decode_entry(signed(vector)).type for vector in entries}
    assert decode_entry(signed(load("moved.json")["moved"])).type == NODE_MOVED
    assert set(KNOWN_TYPES) == {JOIN_REQUEST, NODE_MOVED, *BODY_TYPES}


@pytest.mark.parametrize("vector", BODIES, ids=[vector["type"] for vector in BODIES])
def test_each_body_decodes_as_its_type_and_encodes_back(vector: dict[str, Any]) -> None:
    body = bytes.fromhex(vector["body"])
    record = decode_body(vector["type"], body)
    assert isinstance(record, BODY_TYPES[vector["type"]])
    assert encode_body(record) == body
    assert readable(record) == vector["record"]
    entry = decode_entry(signed(vector))
    assert entry.type == vector["type"]
    assert [member.hex() for member in entry.audience] == vector["audience"]
    check_body(entry, body)


def test_messages_go_to_the_reader_alone_and_records_are_public() -> None:
    reader = bytes.fromhex(load("entries.json")["audience_of_second"][0])
    for vector in BODIES:
        record = decode_body(vector["type"], bytes.fromhex(vector["body"]))
        to = getattr(record, "to", None)
        if isinstance(to, str):
            assert to == node_id(reader) and vector["audience"] == [reader.hex()]
        elif isinstance(to, list) and "network" not in to:  # to the circles named in `to`
            assert to == [node_id(reader)] and vector["audience"] == [reader.hex()]
        else:
            assert vector["audience"] == []


def test_the_whole_vector_feed_verifies_in_order() -> None:
    """Inception, entries 1-3, the rotation, seq 5, the move at 6, then every body vector."""
    inception = signed(load("inception.json")["signed"])
    state = verify_inception(inception)
    held = {0: inception.hash}
    rotation = load("rotation.json")
    feed = [
        *load("entries.json")["entries"],
        rotation["rotation"],
        rotation["after_rotation"],
        load("moved.json")["moved"],
        *BODIES,
    ]
    for seq, vector in enumerate(feed, start=1):
        verdict = check_entry(state, signed(vector), KNOWN_TYPES, held.get)
        state = verdict.state  # type: ignore[union-attr]
        assert decode_entry(signed(vector)).seq == seq
        assert state.last_hash.hex() == vector["hash"]
        held[seq] = state.last_hash
        if "body" in vector:
            check_body(decode_entry(signed(vector)), bytes.fromhex(vector["body"]))


@pytest.mark.parametrize(
    ("file", "key"), [("rotation.json", "after_rotation"), ("equivocation.json", "conflicting")]
)
def test_the_bodies_of_seq_5_and_of_the_fork_are_valid_bodies_of_their_types(
    file: str, key: str
) -> None:
    vector = load(file)[key]
    entry = decode_entry(signed(vector))
    body = bytes.fromhex(vector["body"])
    check_body(entry, body)
    assert isinstance(decode_body(entry.type, body), BODY_TYPES[entry.type])


def test_the_public_body_of_entries_json_is_a_valid_profile() -> None:
    vector = load("entries.json")["entries"][0]
    record = decode_body("circle.profile", bytes.fromhex(vector["body"]))
    assert isinstance(record, BODY_TYPES["circle.profile"])


def test_a_node_takes_the_whole_vector_feed_and_its_public_records(make) -> None:  # type: ignore[no-untyped-def]
    """The feed as a peer serves it to a reader outside the messages' audience: every entry,
    with the public bodies; the public records take effect."""
    inception = signed(load("inception.json")["signed"])
    feed_id = inception.hash
    rotation = load("rotation.json")
    feed = [*load("entries.json")["entries"], rotation["rotation"], rotation["after_rotation"]]
    feed += [load("moved.json")["moved"], *BODIES]
    public = [
        bytes.fromhex(vector["body"])
        for vector in feed
        if "body" in vector and not decode_entry(signed(vector)).audience
    ]
    node = make("reader")
    node.peering.add_peer(
        NodeDescriptor(1, feed_id, inception, len(feed), "Calder", "https://calder.example"),
        "https://calder.example",
    )
    taken = node.intake.receive_page(
        FeedPage(feed_id, [signed(vector) for vector in feed], public, len(feed))
    )
    assert taken == len(feed) == 6 + len(BODY_TYPES)
    view = node.relations.peer_view(feed_id)
    assert view is not None and view.up_to_seq == len(feed)
    assert view.profile["status"] == "incorporated"  # seq 6, the latest profile
    assert set(view.decisions) == {
        decode_body("decision.record", bytes.fromhex(v["body"])).decision_id  # type: ignore[union-attr]
        for v in feed
        if "body" in v and decode_entry(signed(v)).type == "decision.record"
    }
