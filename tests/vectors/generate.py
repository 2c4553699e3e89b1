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

from federation.feed import append, incept, node_id, rotate
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

HERE = Path(__file__).parent
T0 = 1_767_225_600_000  # 2026-01-01T00:00:00Z in milliseconds

CURRENT_SEED = bytes(range(32))
NEXT_SEED = bytes(range(32, 64))
AFTER_SEED = bytes(range(64, 96))
READER_SEED = bytes(range(96, 128))
RECOVERY_SEED = bytes(range(128, 160))


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
    after, state = append(state, rotated, "decision.record", b"\x80", T0 + 5000)
    files["rotation.json"] = {
        "description": "Seq 4 rotates to the pre-committed key (next_seed) and commits to the "
        "key from after_seed; seq 5 is signed by the new key.",
        "after_seed": AFTER_SEED.hex(),
        "rotation": _signed(rotation),
        "after_rotation": _signed(after, b"\x80"),
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
    fork, _ = append(after_inception, keys, "circle.profile", b"\x80", T0 + 1000)
    files["equivocation.json"] = {
        "description": "Two different entries signed by the feed at seq 1: the proof of a fork.",
        "held": _signed(first),
        "conflicting": _signed(fork),
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


def render(content: dict[str, Any]) -> str:
    return json.dumps(content, indent=2, sort_keys=True) + "\n"


def main() -> None:
    for name, content in build().items():
        (HERE / name).write_text(render(content))
        print(f"wrote {HERE / name}")


if __name__ == "__main__":
    main()
