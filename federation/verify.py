"""Verification of other nodes' feeds: nothing is stored unless it passes these checks.

Each check either accepts an entry (and gives the feed's next state), reports a duplicate or a
gap, or raises `Rejected` with a machine-readable `Reason`. Decoders never let another exception
escape: malformed bytes are a rejection like any other. A pulled page is verified as a whole by
`federation.pages`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

import msgspec
from cryptography.exceptions import InvalidSignature

from federation.feed import FeedState, KeyHistory, key_at
from federation.keys import load_public_key
from federation.wire import (
    DECODE_ERRORS,
    DESCRIPTOR_DECODER,
    ENTRY_DECODER,
    ENTRY_SIGNING_CONTEXT,
    FEED_PAGE_DECODER,
    HASH_SIZE,
    INCEPTION,
    KEY_EVENT_TYPES,
    MAX_BODY_BYTES,
    MAX_ENTRY_BYTES,
    MAX_PAGE_BYTES,
    MAX_PAGE_ENTRIES,
    MAX_PUSH_BYTES,
    MAX_SIGNED_ENTRY_BYTES,
    PROTOCOL_VERSION,
    PUSH_DECODER,
    PUSH_REPLY_DECODER,
    ROTATION,
    SIGNED_ENTRY_DECODER,
    TYPE_PATTERN,
    TYPE_UNCHECKED_ENTRY_DECODER,
    Entry,
    FeedPage,
    NodeDescriptor,
    Push,
    PushReply,
    SignedEntry,
    body_hash,
    next_key_digest,
)


class Reason(StrEnum):
    """Why an entry (or a page, or a body) was refused. Stable strings: part of the protocol."""

    MALFORMED = "malformed"
    OVERSIZE = "oversize"
    UNKNOWN_VERSION = "unknown_version"
    UNKNOWN_TYPE = "unknown_type"
    WRONG_FEED = "wrong_feed"
    BAD_SIGNATURE = "bad_signature"
    PREV_MISMATCH = "prev_mismatch"
    EQUIVOCATION = "equivocation"
    BAD_KEY_EVENT = "bad_key_event"
    NOT_CONTIGUOUS = "not_contiguous"
    BODY_MISMATCH = "body_mismatch"
    FEED_STOPPED = "feed_stopped"
    RETIRED_KEY = "retired_key"
    UNKNOWN_NODE = "unknown_node"
    # Not a rejection: a push reply's reason when an entry came before the ones it follows;
    # the receiver pulls the missing range.
    GAP = "gap"


class Rejected(Exception):
    """An entry, page or body failed verification; nothing of it may be stored."""

    def __init__(self, reason: Reason, detail: str, seq: int | None = None) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail
        self.seq = seq


class Equivocation(Rejected):
    """The feed signed two different entries at one seq: both are kept as the proof."""

    def __init__(self, seq: int, held_hash: bytes, conflicting: SignedEntry) -> None:
        super().__init__(Reason.EQUIVOCATION, f"two different entries signed at seq {seq}", seq)
        self.fork_seq = seq
        self.held_hash = held_hash
        self.conflicting = conflicting


class RetiredKey(Rejected):
    """A different entry at a held seq, signed by the key in force there, which the feed has
    retired since (a later rotation): that key leaked, the feed did not fork. Both entries are
    kept as evidence; the feed goes on."""

    def __init__(self, seq: int, held_hash: bytes, conflicting: SignedEntry) -> None:
        super().__init__(
            Reason.RETIRED_KEY, f"entry at seq {seq} signed by a key retired since", seq
        )
        self.fork_seq = seq
        self.held_hash = held_hash
        self.conflicting = conflicting


@dataclass(frozen=True)
class Accepted:
    state: FeedState  # the feed's state after this entry
    entry: Entry
    signed: SignedEntry


@dataclass(frozen=True)
class Duplicate:
    seq: int


@dataclass(frozen=True)
class Gap:
    expected: int  # the next seq the receiver holds
    got: int  # the seq that arrived: pull expected..got-1 first


@dataclass(frozen=True)
class Supersedes:
    """A superseding rotation (PROTOCOL.md 6.1), accepted: the held entries from its seq on
    are dropped (kept as evidence) and the feed goes on from it."""

    state: FeedState  # the feed's state after the rotation
    entry: Entry
    signed: SignedEntry


Verdict = Accepted | Duplicate | Gap | Supersedes
HashAt = Callable[[int], bytes | None]


def decode_signed_entry(raw: bytes) -> SignedEntry:
    if len(raw) > MAX_SIGNED_ENTRY_BYTES:
        raise Rejected(Reason.OVERSIZE, f"signed entry of {len(raw)} bytes")
    try:
        return SIGNED_ENTRY_DECODER.decode(raw)
    except DECODE_ERRORS as error:
        raise Rejected(Reason.MALFORMED, f"signed entry: {error}") from None


# Type names already seen to match TYPE_PATTERN (a few dozen in practice; bounded, so that a
# peer sending made-up names only makes its own entries slower to decode).
_MATCHING_TYPES: set[str] = set()
_MAX_MATCHING_TYPES = 1024
_TYPE_RE = re.compile(TYPE_PATTERN)


def decode_entry(signed: SignedEntry) -> Entry:
    """Decode the signed bytes into an Entry, refusing other versions and malformed bytes.

    The bytes are decoded with every constraint of Entry but the type name's pattern, which is
    checked here once per name; whatever fails (the pattern included) is decoded again with
    the full Entry, whose error is the one reported: the outcome is the same as decoding with
    Entry alone."""
    raw = signed.entry
    if len(raw) > MAX_ENTRY_BYTES:
        raise Rejected(Reason.OVERSIZE, f"entry of {len(raw)} bytes")
    try:
        entry: Entry = TYPE_UNCHECKED_ENTRY_DECODER.decode(raw)
    except DECODE_ERRORS:
        return _decode_checked(raw)
    if entry.type not in _MATCHING_TYPES:
        if _TYPE_RE.search(entry.type) is None:
            return _decode_checked(raw)
        if len(_MATCHING_TYPES) < _MAX_MATCHING_TYPES:
            _MATCHING_TYPES.add(entry.type)
    if entry.version != PROTOCOL_VERSION:
        raise Rejected(Reason.UNKNOWN_VERSION, f"protocol version {entry.version}", entry.seq)
    _check_shape(entry)
    return entry


def _decode_checked(raw: bytes) -> Entry:
    """Decode with Entry and all its constraints (refusing the bytes if they fail them)."""
    try:
        entry = ENTRY_DECODER.decode(raw)
    except DECODE_ERRORS as error:
        version = _version_of(raw)
        if version is not None and version != PROTOCOL_VERSION:
            raise Rejected(Reason.UNKNOWN_VERSION, f"protocol version {version}") from None
        raise Rejected(Reason.MALFORMED, f"entry: {error}") from None
    if entry.version != PROTOCOL_VERSION:
        raise Rejected(Reason.UNKNOWN_VERSION, f"protocol version {entry.version}", entry.seq)
    _check_shape(entry)
    return entry


def _version_of(raw: bytes) -> int | None:
    try:
        value = msgspec.msgpack.decode(raw)
    except DECODE_ERRORS:
        return None
    if isinstance(value, list) and value and isinstance(value[0], int):
        return value[0]
    return None


def _check_shape(entry: Entry) -> None:
    """Rules the types alone cannot say."""
    seq = entry.seq
    if len(entry.body_hash) not in (0, HASH_SIZE) or (not entry.body_hash) != (
        entry.body_size == 0
    ):
        raise Rejected(Reason.MALFORMED, "body hash and body size disagree", seq)
    if entry.type in KEY_EVENT_TYPES:
        if entry.keys is None:
            raise Rejected(Reason.BAD_KEY_EVENT, f"a {entry.type} entry names its keys", seq)
    elif entry.keys is not None:
        raise Rejected(Reason.BAD_KEY_EVENT, "only key events carry keys", seq)
    if (seq == 0) != (entry.type == INCEPTION):
        raise Rejected(Reason.BAD_KEY_EVENT, "the inception entry is seq 0, and only it", seq)
    if seq == 0:
        if entry.feed or entry.prev:
            raise Rejected(Reason.MALFORMED, "the inception entry has no feed id or prev", seq)
    elif len(entry.feed) != HASH_SIZE or len(entry.prev) != HASH_SIZE:
        raise Rejected(Reason.MALFORMED, "feed id and prev are hashes", seq)


def verify_signature(key: bytes, signed: SignedEntry, seq: int) -> None:
    """Refuse an entry whose signature `key` does not verify."""
    try:
        load_public_key(key).verify(signed.signature, ENTRY_SIGNING_CONTEXT + signed.entry)
    except InvalidSignature:
        raise Rejected(Reason.BAD_SIGNATURE, "signature does not verify", seq) from None


def verify_inception(signed: SignedEntry, expected_feed: bytes | None = None) -> FeedState:
    """Check an inception entry; its hash is the feed id (the node's identity)."""
    entry = decode_entry(signed)
    if entry.type != INCEPTION or entry.keys is None:
        raise Rejected(Reason.BAD_KEY_EVENT, "not an inception entry", entry.seq)
    verify_signature(entry.keys.current, signed, 0)
    digest = signed.hash
    if expected_feed is not None and digest != expected_feed:
        raise Rejected(Reason.WRONG_FEED, "this inception entry is another node's", 0)
    return FeedState(digest, 1, digest, entry.keys.current, entry.keys.next_digest)


class _Chain:
    """A feed's state while a run of entries is checked (mutable, for speed; see FeedState)."""

    __slots__ = ("feed_id", "key", "last_hash", "next_digest", "next_seq")

    def __init__(self, state: FeedState) -> None:
        self.feed_id = state.feed_id
        self.next_seq = state.next_seq
        self.last_hash = state.last_hash
        self.key = state.key
        self.next_digest = state.next_digest

    def state(self) -> FeedState:
        return FeedState(self.feed_id, self.next_seq, self.last_hash, self.key, self.next_digest)

    def advance(self, entry: Entry, signed: SignedEntry, *, check_signature: bool) -> None:
        """Check `entry` as the next one of the feed, and move past it."""
        seq = entry.seq
        if entry.feed != self.feed_id:
            raise Rejected(Reason.WRONG_FEED, "entry names another feed", seq)
        if entry.prev != self.last_hash:
            raise Rejected(Reason.PREV_MISMATCH, "prev is not the hash of the entry before", seq)
        key, next_digest = self.key, self.next_digest
        if entry.type == ROTATION:
            assert entry.keys is not None  # _check_shape
            if next_key_digest(entry.keys.current) != next_digest:
                raise Rejected(
                    Reason.BAD_KEY_EVENT, "rotation reveals a key the feed did not commit to", seq
                )
            key, next_digest = entry.keys.current, entry.keys.next_digest
            check_signature = True  # key events are always checked on their own
        if check_signature:
            verify_signature(key, signed, seq)
        self.next_seq = seq + 1
        self.last_hash = signed.hash
        self.key = key
        self.next_digest = next_digest


def _check_type(entry: Entry, known_types: Collection[str]) -> None:
    if entry.type not in known_types and entry.type not in KEY_EVENT_TYPES:
        raise Rejected(Reason.UNKNOWN_TYPE, f"entry type {entry.type!r}", entry.seq)


def check_entry(
    state: FeedState,
    signed: SignedEntry,
    known_types: Collection[str],
    hash_at: HashAt,
    history: KeyHistory | None = None,
) -> Verdict:
    """Check one pushed entry against what is held of its feed.

    `hash_at(seq)` gives the hash of an entry already held (for duplicates and forks);
    `history()` the feed's key epochs, for an entry that conflicts with a held one (without
    it, the feed is taken to have had no key event but the latest one).
    """
    entry = decode_entry(signed)
    if entry.seq < state.next_seq:
        held = hash_at(entry.seq)
        if held == signed.hash:
            return Duplicate(entry.seq)
        if entry.feed != state.feed_id:
            raise Rejected(Reason.WRONG_FEED, "entry names another feed", entry.seq)
        if entry.type == ROTATION:
            return check_superseding(state, signed, hash_at)
        # A different entry at a held seq is only proof of a fork if the feed signed it, with
        # the key in force at that seq; a key retired since shows that key leaked (PROTOCOL.md 7.4).
        epochs = history() if history is not None else ()
        key = key_at(state, epochs, entry.seq)
        verify_signature(key, signed, entry.seq)
        if key != state.key:
            raise RetiredKey(entry.seq, held or b"", signed)
        raise Equivocation(entry.seq, held or b"", signed)
    if entry.seq > state.next_seq:
        return Gap(state.next_seq, entry.seq)
    _check_type(entry, known_types)
    chain = _Chain(state)
    chain.advance(entry, signed, check_signature=True)
    return Accepted(chain.state(), entry, signed)


def check_superseding(state: FeedState, signed: SignedEntry, hash_at: HashAt) -> Supersedes:
    """Check a rotation at a seq already held, or right after the held entries of a stopped
    feed (PROTOCOL.md 6.1): it follows a held entry and reveals the key the feed is committed
    to now (only the holder of that key can sign it). Refuses anything else with a reason."""
    entry = decode_entry(signed)
    seq = entry.seq
    if entry.type != ROTATION or entry.keys is None:
        raise Rejected(Reason.BAD_KEY_EVENT, "only a rotation supersedes held entries", seq)
    if entry.feed != state.feed_id:
        raise Rejected(Reason.WRONG_FEED, "entry names another feed", seq)
    if seq < 1 or seq > state.next_seq or entry.prev != hash_at(seq - 1):
        raise Rejected(Reason.PREV_MISMATCH, "prev is not the hash of the entry before", seq)
    if next_key_digest(entry.keys.current) != state.next_digest:
        raise Rejected(
            Reason.BAD_KEY_EVENT, "rotation reveals a key the feed did not commit to", seq
        )
    verify_signature(entry.keys.current, signed, seq)
    after = FeedState(
        state.feed_id, seq + 1, signed.hash, entry.keys.current, entry.keys.next_digest
    )
    return Supersedes(after, entry, signed)


def check_body(entry: Entry, body: bytes) -> None:
    """A body is accepted only if it is the one the entry's hash names."""
    if len(body) > MAX_BODY_BYTES:
        raise Rejected(Reason.OVERSIZE, f"body of {len(body)} bytes", entry.seq)
    if not entry.body_hash or body_hash(body) != entry.body_hash or len(body) != entry.body_size:
        raise Rejected(Reason.BODY_MISMATCH, "body does not match the entry's hash", entry.seq)


def decode_push(raw: bytes) -> Push:
    push: Push = _decode_message(PUSH_DECODER, raw, MAX_PUSH_BYTES, "push")
    _check_run_sizes(push.entries, push.bodies, "push")
    return push


def decode_page(raw: bytes) -> FeedPage:
    page: FeedPage = _decode_message(FEED_PAGE_DECODER, raw, MAX_PAGE_BYTES, "feed page")
    _check_run_sizes(page.entries, page.bodies, "feed page")
    return page


def _check_run_sizes(entries: list[SignedEntry], bodies: list[bytes], what: str) -> None:
    if len(entries) > MAX_PAGE_ENTRIES:
        raise Rejected(Reason.OVERSIZE, f"{what} of {len(entries)} entries")
    for signed in entries:
        if len(signed.entry) > MAX_ENTRY_BYTES:
            raise Rejected(Reason.OVERSIZE, f"entry of {len(signed.entry)} bytes in a {what}")
    for body in bodies:
        if len(body) > MAX_BODY_BYTES:
            raise Rejected(Reason.OVERSIZE, f"body of {len(body)} bytes in a {what}")


def decode_descriptor(raw: bytes) -> NodeDescriptor:
    return _decode_message(DESCRIPTOR_DECODER, raw, MAX_PAGE_BYTES, "node descriptor")


def decode_push_reply(raw: bytes) -> PushReply:
    return _decode_message(PUSH_REPLY_DECODER, raw, 4096, "push reply")


def _decode_message(decoder: Any, raw: bytes, limit: int, what: str) -> Any:
    if len(raw) > limit:
        raise Rejected(Reason.OVERSIZE, f"{what} of {len(raw)} bytes")
    try:
        return decoder.decode(raw)
    except DECODE_ERRORS as error:
        raise Rejected(Reason.MALFORMED, f"{what}: {error}") from None
