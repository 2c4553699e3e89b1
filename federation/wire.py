"""The wire format: msgspec structs encoded as MessagePack arrays, and the protocol's limits.

An entry is signed over its exact encoded bytes; the bytes travel as they were signed and are
never re-encoded, so no canonical form is needed. See PROTOCOL.md.
"""

from __future__ import annotations

import hashlib
from typing import Annotated
from urllib.parse import urlsplit

import msgspec
from msgspec import Meta

PROTOCOL_VERSION = 1

# Domain separation: what a signature or a digest is for is part of what is signed or hashed.
ENTRY_SIGNING_CONTEXT = b"circle-node/v1/entry\x00"
ENTRY_HASH_CONTEXT = b"circle-node/v1/entry-hash\x00"
NEXT_KEY_CONTEXT = b"circle-node/v1/next-key\x00"

# Entry types the protocol itself defines; applications add their own (lowercase, dotted).
INCEPTION = "inception"
ROTATION = "rotation"
JOIN_REQUEST = "network.join_request"  # the one entry an unknown node may send
NODE_MOVED = "node.moved"  # the node is served at another URL from now on
KEY_EVENT_TYPES = frozenset({INCEPTION, ROTATION})

# Limits: a receiver refuses anything larger before decoding it.
MAX_ENTRY_BYTES = 4096  # one encoded Entry
MAX_SIGNED_ENTRY_BYTES = MAX_ENTRY_BYTES + 128
MAX_BODY_BYTES = 256 * 1024
MAX_PAGE_ENTRIES = 1000
MAX_PAGE_BYTES = 8 * 1024 * 1024
MAX_PUSH_BYTES = 2 * 1024 * 1024
MAX_TYPE_LENGTH = 64
MAX_AUDIENCE = 100  # 100 feed ids (34 bytes each, encoded) fit in one entry
HASH_SIZE = 32
KEY_SIZE = 32
SIGNATURE_SIZE = 64


# Lowercase, dotted; anchored at both ends (\Z: a trailing newline does not match).
TYPE_PATTERN = r"\A[a-z][a-z0-9_.-]*\Z"
# Sizes of entries, bodies and lists are checked after decoding (the raw message has a byte
# limit first), so that a receiver can answer "oversize" rather than "malformed".
Hash = Annotated[bytes, Meta(max_length=HASH_SIZE)]  # empty or exactly HASH_SIZE, checked later
PublicKey = Annotated[bytes, Meta(min_length=KEY_SIZE, max_length=KEY_SIZE)]
Digest = Annotated[bytes, Meta(min_length=HASH_SIZE, max_length=HASH_SIZE)]
Count = Annotated[int, Meta(ge=0, le=2**53)]
TypeName = Annotated[str, Meta(min_length=1, max_length=MAX_TYPE_LENGTH, pattern=TYPE_PATTERN)]
Signature = Annotated[bytes, Meta(min_length=SIGNATURE_SIZE, max_length=SIGNATURE_SIZE)]


class KeyState(msgspec.Struct, array_like=True, frozen=True, forbid_unknown_fields=True):
    """The keys an inception or rotation entry establishes."""

    current: PublicKey  # Ed25519 public key that signs from this entry on
    next_digest: Digest  # pre-rotation: digest of the public key that will replace it


class Entry(msgspec.Struct, array_like=True, frozen=True, forbid_unknown_fields=True):
    """One entry of a feed. Its encoded bytes are what the feed's key signs."""

    version: Annotated[int, Meta(ge=1)]
    feed: Hash  # the feed id; empty in the inception entry (whose hash becomes the id)
    seq: Count  # 0 for the inception entry
    prev: Hash  # hash of the previous signed entry; empty at seq 0
    time: Count  # milliseconds since the Unix epoch, as the author's clock said
    type: TypeName
    # Empty: public; otherwise the feed ids that may read the body.
    audience: Annotated[list[Digest], Meta(max_length=MAX_AUDIENCE)]
    body_hash: Hash  # digest of the body stored apart; empty when there is none
    body_size: Annotated[int, Meta(ge=0, le=MAX_BODY_BYTES)]
    keys: KeyState | None = None  # only in inception and rotation entries


class SignedEntry(msgspec.Struct, array_like=True, frozen=True, forbid_unknown_fields=True):
    entry: bytes  # the exact encoded Entry (at most MAX_ENTRY_BYTES)
    signature: Signature  # Ed25519 over ENTRY_SIGNING_CONTEXT + entry

    @property
    def hash(self) -> bytes:
        return entry_hash(self.entry, self.signature)


class BodyRef(msgspec.Struct, array_like=True, frozen=True):
    """The fields of an encoded Entry that name its body, for a node serving its own entries
    (checked when it signed them): the fields before them are skipped without checks, the
    ones after them ignored. Never for entries received from others."""

    version: msgspec.Raw
    feed: msgspec.Raw
    seq: msgspec.Raw
    prev: msgspec.Raw
    time: msgspec.Raw
    type: msgspec.Raw
    audience: list[bytes]
    body_hash: bytes


class TypeUncheckedEntry(Entry, frozen=True, gc=False):
    """An Entry decoded without checking its type name against TYPE_PATTERN (every other
    constraint is Entry's): `federation.verify.decode_entry` checks each name once, then
    remembers it (the pattern is much of the cost of decoding an entry). Not tracked by
    the garbage collector: its fields are bytes, numbers, a string, a list of bytes and keys,
    which cannot form a cycle."""

    type: Annotated[str, Meta(min_length=1, max_length=MAX_TYPE_LENGTH)]


class FeedPage(msgspec.Struct, array_like=True, frozen=True, forbid_unknown_fields=True):
    """A contiguous run of a feed's entries, as served by a pull."""

    feed: Digest
    entries: list[SignedEntry]  # at most MAX_PAGE_ENTRIES
    bodies: list[bytes]  # the bodies the reader may read, each at most MAX_BODY_BYTES
    head: Count  # the feed's latest seq on the serving node


class Push(msgspec.Struct, array_like=True, frozen=True, forbid_unknown_fields=True):
    """What a node pushes to a peer's inbox: entries of one feed, and the bodies they may read."""

    feed: Digest
    entries: list[SignedEntry]  # at most MAX_PAGE_ENTRIES
    bodies: list[bytes]  # each at most MAX_BODY_BYTES


class PushReply(msgspec.Struct, array_like=True, frozen=True):
    accepted: Count  # how many entries were new
    next_seq: Count  # the seq the receiver expects next from this feed
    reason: str = ""  # empty, or the rejection reason for the first entry refused


class JoinRequest(msgspec.Struct, array_like=True, frozen=True, forbid_unknown_fields=True):
    """The body of a join request: whom it asks, and where the asking node is served."""

    to: Digest  # the feed id of the node asked (the entry's audience is that node alone)
    url: Annotated[str, Meta(max_length=2000)]
    name: Annotated[str, Meta(max_length=200)]
    message: Annotated[str, Meta(max_length=4000)]


class NodeMoved(msgspec.Struct, array_like=True, frozen=True, forbid_unknown_fields=True):
    """The body of a `node.moved` entry: the URL the node is served at from now on."""

    url: Annotated[str, Meta(min_length=1, max_length=2000)]


class NodeDescriptor(msgspec.Struct, array_like=True, frozen=True, forbid_unknown_fields=True):
    """What a node says about itself. Its inception entry proves the feed id; the current key
    is learnt by pulling the feed, whose rotations are ordinary (verified) entries."""

    version: int
    feed: Digest
    inception: SignedEntry
    head: Count
    name: Annotated[str, Meta(max_length=200)]
    url: Annotated[str, Meta(max_length=2000)]


def is_base_url(url: str) -> bool:
    """Whether `url` can be a node's base URL (4.10, `node.moved`): http or https, a host, a
    port from 1 to 65535 if one is given, no query or fragment, at most 2000 characters."""
    if len(url) > 2000:
        return False
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return False
    if port == 0 or parts.query or parts.fragment:
        return False
    return parts.scheme in ("http", "https") and bool(parts.hostname)


def entry_hash(entry: bytes, signature: bytes) -> bytes:
    """The hash that names a signed entry; the next entry's `prev`, the inception's feed id."""
    return hashlib.sha256(ENTRY_HASH_CONTEXT + entry + signature).digest()


def body_hash(body: bytes) -> bytes:
    return hashlib.sha256(body).digest()


def next_key_digest(public_key: bytes) -> bytes:
    return hashlib.sha256(NEXT_KEY_CONTEXT + public_key).digest()


# What a decoder may raise on hostile bytes (msgspec raises UnicodeDecodeError, a ValueError,
# for invalid UTF-8): callers turn these into a clean rejection.
DECODE_ERRORS = (msgspec.DecodeError, ValueError, RecursionError)

ENTRY_ENCODER = msgspec.msgpack.Encoder()
ENTRY_DECODER = msgspec.msgpack.Decoder(Entry)
TYPE_UNCHECKED_ENTRY_DECODER = msgspec.msgpack.Decoder(TypeUncheckedEntry)
BODY_REF_DECODER = msgspec.msgpack.Decoder(BodyRef)
SIGNED_ENTRY_DECODER = msgspec.msgpack.Decoder(SignedEntry)
FEED_PAGE_DECODER = msgspec.msgpack.Decoder(FeedPage)
PUSH_DECODER = msgspec.msgpack.Decoder(Push)
PUSH_REPLY_DECODER = msgspec.msgpack.Decoder(PushReply)
DESCRIPTOR_DECODER = msgspec.msgpack.Decoder(NodeDescriptor)
JOIN_REQUEST_DECODER = msgspec.msgpack.Decoder(JoinRequest)
NODE_MOVED_DECODER = msgspec.msgpack.Decoder(NodeMoved)


def encode(value: msgspec.Struct) -> bytes:
    return ENTRY_ENCODER.encode(value)
