"""Regenerate the golden test vectors: `python -m tests.vectors.generate`.

Everything is deterministic (fixed seeds and times; Ed25519 signatures are deterministic), so
running this again must give byte-identical files; the tests check that it does.
"""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import msgspec
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from federation.feed import FeedState, append, incept, node_id, rotate
from federation.keys import NodeKeys, public_bytes
from federation.wire import (
    PROTOCOL_VERSION,
    FeedPage,
    JoinRequest,
    NodeDescriptor,
    NodeMoved,
    Push,
    PushReply,
    SignedEntry,
    body_hash,
    encode,
)
from node.network.messages import encode_body
from tests.vectors.body_records import dissolved_profile, everyday_decision, readable, records
from tests.vectors.signed_requests import signed_request

HERE = Path(__file__).parent
T0 = 1_767_225_600_000  # 2026-01-01T00:00:00Z in milliseconds

CURRENT_SEED = bytes(range(32))
NEXT_SEED = bytes(range(32, 64))
AFTER_SEED = bytes(range(64, 96))
READER_SEED = bytes(range(96, 128))
RECOVERY_SEED = bytes(range(128, 160))
INTRODUCED_SEED = bytes(range(160, 192))
INTRODUCED_NEXT_SEED = bytes(range(192, 224))
SERVER_URL = "https://node-b.example"  # the node the signed requests are sent to


def _signed(signed: SignedEntry, body: bytes | None = None) -> dict[str, Any]:
    vector = {
        "entry": signed.entry.hex(),
        "signature": signed.signature.hex(),
        "hash": signed.hash.hex(),
    }
    if body is not None:
        vector["body"] = body.hex()
        vector["body_hash"] = body_hash(body).hex()
    return vector


def build() -> dict[str, dict[str, Any]]:
    """The vectors, file name to content."""
    keys = NodeKeys.from_seeds(CURRENT_SEED, NEXT_SEED)
    reader = Ed25519PrivateKey.from_private_bytes(READER_SEED)
    inception, state = incept(keys, T0)
    after_inception = state
    files: dict[str, dict[str, Any]] = {}
    files["inception.json"] = {
        "description": "A feed's inception entry (seq 0). Its hash is the feed id.",
        "current_seed": CURRENT_SEED.hex(),
        "next_seed": NEXT_SEED.hex(),
        "current_public": keys.current_public.hex(),
        "next_public": public_bytes(keys.next).hex(),
        "next_digest": keys.next_digest.hex(),
        "feed_id": state.feed_id.hex(),
        "node_id": node_id(state.feed_id),
        "signed": _signed(inception),
    }
    # Bodies are MessagePack maps (application records) or structs; see PROTOCOL.md section 11.
    public_body = msgspec.msgpack.encode(
        {
            "name": "Calder Valley Care Circle",
            "aim": "Good care at home",
            "domain": "Care",
            "kind": "local",
            "parent": None,
            "status": "active",
            "legal_name": None,
            "legal_number": None,
            "legal_registry": None,
        }
    )
    reader_feed = public_bytes(reader)  # stands in for a reader's feed id (32 bytes)
    private_body = encode(JoinRequest(reader_feed, "https://calder.example", "Calder", "Hello"))
    first, state = append(state, keys, "circle.profile", public_body, T0 + 1000)
    second, state = append(
        state, keys, "network.join_request", private_body, T0 + 2000, [reader_feed]
    )
    after_second = state
    third, state = append(state, keys, "decision.record", None, T0 + 3000)
    files["entries.json"] = {
        "description": "Entries 1-3 after the inception: a public body, a body for one reader "
        "(a join request addressed to it), no body.",
        "entries": [_signed(first, public_body), _signed(second, private_body), _signed(third)],
        "audience_of_second": [reader_feed.hex()],
    }
    files["messages.json"] = {
        "description": "Federation messages, each the MessagePack of its struct: a push of "
        "entries 1-3 with the public body, the reply, a page, and the node descriptor.",
        "push": encode(Push(state.feed_id, [first, second, third], [public_body])).hex(),
        "push_reply": encode(PushReply(3, 4, "")).hex(),
        "feed_page": encode(FeedPage(state.feed_id, [first], [public_body], 3)).hex(),
        "descriptor": encode(
            NodeDescriptor(
                PROTOCOL_VERSION, state.feed_id, inception, 3, "Calder", "https://calder.example"
            )
        ).hex(),
    }
    rotation, state, rotated = rotate(
        state, keys, T0 + 4000, Ed25519PrivateKey.from_private_bytes(AFTER_SEED)
    )
    decision = encode_body(everyday_decision())
    after, state = append(state, rotated, "decision.record", decision, T0 + 5000)
    files["rotation.json"] = {
        "description": "Seq 4 rotates to the pre-committed key (next_seed) and commits to the "
        "key from after_seed; seq 5, a decision record, is signed by the new key.",
        "after_seed": AFTER_SEED.hex(),
        "rotation": _signed(rotation),
        "after_rotation": _signed(after, decision),
        "new_current_public": rotated.current_public.hex(),
        "new_next_digest": rotated.next_digest.hex(),
    }
    moved_body = encode(NodeMoved("https://calder.coop.example"))
    moved, state = append(state, rotated, "node.moved", moved_body, T0 + 6000)
    files["moved.json"] = {
        "description": "Seq 6, after rotation.json: the node says it is served at another URL "
        "from now on (type node.moved, public, body NodeMoved), signed by the rotated key.",
        "moved": _signed(moved, moved_body),
        "url": "https://calder.coop.example",
    }
    dissolved = encode_body(dissolved_profile())
    fork, _ = append(after_inception, keys, "circle.profile", dissolved, T0 + 1000)
    files["equivocation.json"] = {
        "description": "Two different entries signed by the feed at seq 1: the proof of a fork.",
        "held": _signed(first),
        "conflicting": _signed(fork, dissolved),
    }
    files["bodies.json"] = _bodies(state, rotated, reader_feed)
    files["httpsig.json"] = {
        "description": "Requests signed by the feed's key at T0 (PROTOCOL.md 9.6): a signed "
        "read of a page, and the push of messages.json sent to the inbox.",
        "seed": CURRENT_SEED.hex(),
        "public_key": keys.current_public.hex(),
        "read": signed_request(
            "GET",
            f"{SERVER_URL}/federation/feed?after=0&limit=1000",
            b"",
            keys.current,
            node_id(after_inception.feed_id),
            T0 // 1000,
        ),
        "push": signed_request(
            "POST",
            f"{SERVER_URL}/federation/inbox",
            bytes.fromhex(files["messages.json"]["push"]),
            keys.current,
            node_id(after_inception.feed_id),
            T0 // 1000,
        ),
    }
    # Recovery (PROTOCOL.md 6.1): the key committed to now (after_seed) signs a rotation right
    # after seq 2, superseding seq 3 to 5 (the rotation at 4 among them).
    recovery, _, recovered = rotate(
        replace(after_second, key=rotated.current_public, next_digest=rotated.next_digest),
        rotated,
        T0 + 6000,
        Ed25519PrivateKey.from_private_bytes(RECOVERY_SEED),
    )
    # A key retired at seq 4 signs another entry at seq 2: evidence that it leaked (7.4).
    stolen, _ = append(
        replace(state, next_seq=2, last_hash=first.hash, key=keys.current_public),
        keys,
        "decision.record",
        None,
        T0 + 7000,
    )
    files["recovery.json"] = {
        "description": "Held: seq 1-5 (entries.json, rotation.json). superseding: a rotation at "
        "seq 3 (prev = hash of seq 2) revealing the key of after_seed, which the feed is "
        "committed to after seq 4, and committing to the key of recovery_seed; it supersedes "
        "seq 3-5. retired_key: another entry at seq 2, signed by the key of current_seed, which "
        "the rotation at seq 4 retired.",
        "recovery_seed": RECOVERY_SEED.hex(),
        "superseding": _signed(recovery),
        "new_current_public": recovered.current_public.hex(),
        "new_next_digest": recovered.next_digest.hex(),
        "retired_key": _signed(stolen),
    }
    return files


def _bodies(state: FeedState, keys: NodeKeys, reader_feed: bytes) -> dict[str, Any]:
    """A valid body of every registered type, each bound by an entry of the vector feed from
    seq 7 on, after moved.json's seq 6 (signed by the key after the rotation)."""
    introduced_keys = NodeKeys.from_seeds(INTRODUCED_SEED, INTRODUCED_NEXT_SEED)
    introduced, introduced_state = incept(introduced_keys, T0)
    vectors = []
    for number, (type, record, public) in enumerate(
        records(node_id(reader_feed), node_id(introduced_state.feed_id), introduced)
    ):
        body = encode_body(record)
        audience = [] if public else [reader_feed]
        signed, state = append(state, keys, type, body, T0 + 7000 + 1000 * number, audience)
        vectors.append(
            {"type": type, "record": readable(record), "audience": [a.hex() for a in audience]}
            | _signed(signed, body)
        )
    return {
        "description": "A valid body of every application entry type, as its author writes "
        "it: a public record, or a message to the reader (its node id in `to`, the reader "
        "alone as audience); each bound by the next entry of the feed, from seq 7 on.",
        "introduced_seed": INTRODUCED_SEED.hex(),
        "introduced_next_seed": INTRODUCED_NEXT_SEED.hex(),
        "entries": vectors,
    }


def render(content: dict[str, Any]) -> str:
    return json.dumps(content, indent=2, sort_keys=True) + "\n"


def main() -> None:
    for name, content in build().items():
        (HERE / name).write_text(render(content))
        print(f"wrote {HERE / name}")


if __name__ == "__main__":
    main()
