"""Golden vectors in tests/vectors/: our code reproduces them byte for byte, and verifies them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from federation.feed import FeedState, KeyEpoch
from federation.keys import NodeKeys
from federation.verify import (
    Equivocation,
    RetiredKey,
    Supersedes,
    check_body,
    check_entry,
    decode_entry,
    verify_inception,
)
from federation.wire import SignedEntry
from tests.vectors.generate import build, render

VECTORS = Path(__file__).parent.parent / "vectors"
TYPES = {"circle.profile", "decision.record", "network.join_request", "node.moved"}


def load(name: str) -> dict:  # type: ignore[type-arg]
    return json.loads((VECTORS / name).read_text())


def signed(vector: dict) -> SignedEntry:  # type: ignore[type-arg]
    return SignedEntry(bytes.fromhex(vector["entry"]), bytes.fromhex(vector["signature"]))


@pytest.mark.parametrize("name", sorted(build()))
def test_the_generator_reproduces_each_file_byte_for_byte(name: str) -> None:
    assert (VECTORS / name).read_text() == render(build()[name])


def test_the_inception_names_the_feed_and_its_keys() -> None:
    vector = load("inception.json")
    keys = NodeKeys.from_seeds(
        bytes.fromhex(vector["current_seed"]), bytes.fromhex(vector["next_seed"])
    )
    assert keys.current_public.hex() == vector["current_public"]
    assert keys.next_digest.hex() == vector["next_digest"]
    inception = signed(vector["signed"])
    assert inception.hash.hex() == vector["signed"]["hash"] == vector["feed_id"]
    state = verify_inception(inception, bytes.fromhex(vector["feed_id"]))
    assert state.key.hex() == vector["current_public"]


def _chain() -> tuple[FeedState, dict[int, bytes]]:
    inception = signed(load("inception.json")["signed"])
    return verify_inception(inception), {0: inception.hash}


def test_entries_and_rotation_verify_in_order_with_their_bodies() -> None:
    state, held = _chain()
    rotation = load("rotation.json")
    vectors = [*load("entries.json")["entries"], rotation["rotation"], rotation["after_rotation"]]
    for number, vector in enumerate(vectors, start=1):
        verdict = check_entry(state, signed(vector), TYPES, held.get)
        state = verdict.state  # type: ignore[union-attr]
        assert decode_entry(signed(vector)).seq == number
        assert state.last_hash.hex() == vector["hash"]
        held[number] = state.last_hash
        if "body" in vector:
            check_body(decode_entry(signed(vector)), bytes.fromhex(vector["body"]))
    assert state.key.hex() == rotation["new_current_public"]
    assert state.next_digest.hex() == rotation["new_next_digest"]


def test_a_move_verifies_after_the_rotation_and_names_its_url() -> None:
    from federation.wire import NODE_MOVED_DECODER

    state, held = _chain()
    rotation = load("rotation.json")
    for vector in [
        *load("entries.json")["entries"],
        rotation["rotation"],
        rotation["after_rotation"],
    ]:
        state = check_entry(state, signed(vector), TYPES, held.get).state  # type: ignore[union-attr]
        held[state.next_seq - 1] = state.last_hash
    vector = load("moved.json")
    state = check_entry(state, signed(vector["moved"]), TYPES, held.get).state  # type: ignore[union-attr]
    entry = decode_entry(signed(vector["moved"]))
    assert (entry.seq, entry.type, entry.audience) == (6, "node.moved", [])
    body = bytes.fromhex(vector["moved"]["body"])
    check_body(entry, body)
    assert NODE_MOVED_DECODER.decode(body).url == vector["url"]


def test_the_equivocation_proof_is_recognised() -> None:
    state, held = _chain()
    proof = load("equivocation.json")
    state = check_entry(state, signed(proof["held"]), TYPES, held.get).state  # type: ignore[union-attr]
    held[1] = state.last_hash
    with pytest.raises(Equivocation) as caught:
        check_entry(state, signed(proof["conflicting"]), TYPES, held.get)
    assert caught.value.held_hash.hex() == proof["held"]["hash"]


def test_the_recovery_vectors_supersede_and_show_a_leaked_key() -> None:
    state, held = _chain()
    rotation = load("rotation.json")
    vectors = [*load("entries.json")["entries"], rotation["rotation"], rotation["after_rotation"]]
    epochs = []
    for vector in vectors:
        state = check_entry(state, signed(vector), TYPES, held.get).state  # type: ignore[union-attr]
        held[decode_entry(signed(vector)).seq] = state.last_hash
    inception = decode_entry(signed(load("inception.json")["signed"]))
    turned = decode_entry(signed(rotation["rotation"]))
    for entry in (inception, turned):
        assert entry.keys is not None
        epochs.append(KeyEpoch(entry.seq, entry.keys.current, entry.keys.next_digest))
    recovery = load("recovery.json")
    # The superseding rotation at seq 3 is taken; the feed goes on with its keys.
    verdict = check_entry(state, signed(recovery["superseding"]), TYPES, held.get, lambda: epochs)
    assert isinstance(verdict, Supersedes) and verdict.entry.seq == 3
    assert verdict.state.next_seq == 4
    assert verdict.state.key.hex() == recovery["new_current_public"]
    assert verdict.state.next_digest.hex() == recovery["new_next_digest"]
    # The entry at seq 2 signed by the retired key is evidence that it leaked.
    with pytest.raises(RetiredKey) as caught:
        check_entry(state, signed(recovery["retired_key"]), TYPES, held.get, lambda: epochs)
    assert caught.value.reason == "retired_key" and caught.value.seq == 2


def test_messages_decode_to_what_they_say() -> None:
    from federation.verify import decode_descriptor, decode_page, decode_push, decode_push_reply

    vector = load("messages.json")
    entries = [signed(v) for v in load("entries.json")["entries"]]
    push = decode_push(bytes.fromhex(vector["push"]))
    assert push.entries == entries and len(push.bodies) == 1
    reply = decode_push_reply(bytes.fromhex(vector["push_reply"]))
    assert (reply.accepted, reply.next_seq, reply.reason) == (3, 4, "")
    page = decode_page(bytes.fromhex(vector["feed_page"]))
    assert page.entries == entries[:1] and page.head == 3
    descriptor = decode_descriptor(bytes.fromhex(vector["descriptor"]))
    assert verify_inception(descriptor.inception, descriptor.feed).feed_id == descriptor.feed
