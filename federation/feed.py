"""A feed's state, and writing to one's own feed: inception, entries, key rotation."""

from __future__ import annotations

import base64
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from federation.keys import NodeKeys, public_bytes
from federation.wire import (
    ENTRY_SIGNING_CONTEXT,
    INCEPTION,
    MAX_AUDIENCE,
    MAX_BODY_BYTES,
    MAX_ENTRY_BYTES,
    MAX_TYPE_LENGTH,
    PROTOCOL_VERSION,
    ROTATION,
    TYPE_PATTERN,
    Entry,
    KeyState,
    SignedEntry,
    body_hash,
    encode,
)

NODE_ID_PREFIX = "cn1"


@dataclass(frozen=True)
class KeyEpoch:
    """The keys a key event put in force: from the entry after `seq` on (until the next key
    event), `key` signs and `next_digest` is the commitment the next rotation must meet. The
    inception starts the first epoch (seq 0); a rotation at seq r starts one at r (the rotation
    itself is signed by the key it reveals)."""

    seq: int
    key: bytes
    next_digest: bytes


# The key epochs of a feed as held, oldest first (asked only when an entry conflicts).
KeyHistory = Callable[[], Sequence[KeyEpoch]]


@dataclass(frozen=True)
class FeedState:
    """What is known of a feed after its latest entry: enough to check or write the next one."""

    feed_id: bytes
    next_seq: int
    last_hash: bytes
    key: bytes  # the public key that signs the next entry
    next_digest: bytes  # the digest the next rotation must reveal a key for


def key_at(state: FeedState, epochs: Sequence[KeyEpoch], seq: int) -> bytes:
    """The key that signs an ordinary entry at `seq`: the one the latest key event before
    `seq` put in force (the feed's current key when no such epoch is known)."""
    for epoch in reversed(epochs):
        if epoch.seq < seq:
            return epoch.key
    return state.key


def node_id(feed_id: bytes) -> str:
    """The printable form of a feed id (which is the node's identity)."""
    return NODE_ID_PREFIX + base64.b32encode(feed_id).decode().rstrip("=").lower()


def feed_id_from_node_id(text: str) -> bytes:
    """The feed id a node id names; one spelling only (lowercase, unpadded, canonical)."""
    if not text.startswith(NODE_ID_PREFIX):
        raise ValueError(f"A node id starts with {NODE_ID_PREFIX!r}")
    body = text[len(NODE_ID_PREFIX) :]
    try:
        raw = base64.b32decode(body.upper() + "=" * (-len(body) % 8))
    except ValueError:
        raise ValueError("A node id is lowercase base32") from None
    if len(raw) != 32 or node_id(raw) != text:
        raise ValueError("Not a node id (cn1 and 52 lowercase base32 characters)")
    return raw


class WontSign(ValueError):
    """An entry peers would refuse (too large, a bad type name): it is never signed."""


@lru_cache(maxsize=256)
def _is_type_name(type: str) -> bool:
    """Whether `type` is an entry type name (a writer signs a few, over and over: each is
    matched against the pattern once)."""
    return bool(re.search(TYPE_PATTERN, type)) and len(type) <= MAX_TYPE_LENGTH


def _sign(key: Ed25519PrivateKey, entry: Entry) -> SignedEntry:
    if not _is_type_name(entry.type):
        raise WontSign(f"{entry.type!r} is not an entry type name")
    if len(entry.audience) > MAX_AUDIENCE:
        raise WontSign(f"an audience of {len(entry.audience)} is more than {MAX_AUDIENCE}")
    if entry.audience and any(len(member) != 32 for member in entry.audience):
        raise WontSign("an audience names feed ids (32 bytes each)")
    if entry.body_size > MAX_BODY_BYTES:
        raise WontSign(f"a body of {entry.body_size} bytes is more than {MAX_BODY_BYTES}")
    encoded = encode(entry)
    if len(encoded) > MAX_ENTRY_BYTES:
        raise WontSign(f"an entry of {len(encoded)} bytes is more than {MAX_ENTRY_BYTES}")
    return SignedEntry(encoded, key.sign(ENTRY_SIGNING_CONTEXT + encoded))


def incept(keys: NodeKeys, time_ms: int) -> tuple[SignedEntry, FeedState]:
    """Start a feed. Its id is the hash of this signed entry."""
    entry = Entry(
        version=PROTOCOL_VERSION,
        feed=b"",
        seq=0,
        prev=b"",
        time=time_ms,
        type=INCEPTION,
        audience=[],
        body_hash=b"",
        body_size=0,
        keys=KeyState(keys.current_public, keys.next_digest),
    )
    signed = _sign(keys.current, entry)
    digest = signed.hash
    return signed, FeedState(digest, 1, digest, keys.current_public, keys.next_digest)


def next_entry(
    state: FeedState,
    type: str,
    body: bytes | None,
    time_ms: int,
    audience: list[bytes] | None = None,
) -> Entry:
    """The next entry of a feed, not yet signed: what `append` signs (so that a writer can
    know its size before it signs anything)."""
    return Entry(
        version=PROTOCOL_VERSION,
        feed=state.feed_id,
        seq=state.next_seq,
        prev=state.last_hash,
        time=time_ms,
        type=type,
        audience=list(audience or []),
        body_hash=body_hash(body) if body else b"",
        body_size=len(body) if body else 0,
    )


def append(
    state: FeedState,
    keys: NodeKeys,
    type: str,
    body: bytes | None,
    time_ms: int,
    audience: list[bytes] | None = None,
) -> tuple[SignedEntry, FeedState]:
    """Sign the next entry of one's own feed; returns it with the feed's new state."""
    if keys.current_public != state.key:
        raise ValueError("These keys do not sign this feed at its current seq")
    signed = _sign(keys.current, next_entry(state, type, body, time_ms, audience))
    # Built directly, not through dataclasses.replace (this runs for every entry signed): each
    # field named, so that one added later is not left out without a type error.
    after = FeedState(
        feed_id=state.feed_id,
        next_seq=state.next_seq + 1,
        last_hash=signed.hash,
        key=state.key,
        next_digest=state.next_digest,
    )
    return signed, after


def rotate(
    state: FeedState,
    keys: NodeKeys,
    time_ms: int,
    new_next: Ed25519PrivateKey | None = None,
) -> tuple[SignedEntry, FeedState, NodeKeys]:
    """Rotate: reveal the pre-committed key, commit to a fresh one; signed by the revealed key.

    Returns the entry, the feed's new state and the keys to use from now on.
    """
    if keys.current_public != state.key or keys.next_digest != state.next_digest:
        raise ValueError("These keys are not the feed's current and pre-committed keys")
    new_keys = keys.rotated(new_next)
    entry = Entry(
        version=PROTOCOL_VERSION,
        feed=state.feed_id,
        seq=state.next_seq,
        prev=state.last_hash,
        time=time_ms,
        type=ROTATION,
        audience=[],
        body_hash=b"",
        body_size=0,
        keys=KeyState(public_bytes(new_keys.current), new_keys.next_digest),
    )
    signed = _sign(new_keys.current, entry)
    new_state = FeedState(
        state.feed_id,
        state.next_seq + 1,
        signed.hash,
        new_keys.current_public,
        new_keys.next_digest,
    )
    return signed, new_state, new_keys
