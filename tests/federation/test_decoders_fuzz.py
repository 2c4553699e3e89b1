"""Hypothesis feeds random and mutated bytes to every decoder and verifier.

The only acceptable outcomes are a clean verdict or a `Rejected`: never another exception, and
never a changed entry accepted.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from hypothesis import given, settings
from hypothesis import strategies as st

from federation.httpsig import SignatureError, sign_request, verify_request
from federation.pages import verify_page
from federation.verify import (
    Accepted,
    Duplicate,
    Gap,
    Rejected,
    check_entry,
    decode_descriptor,
    decode_entry,
    decode_page,
    decode_push,
    decode_push_reply,
    decode_signed_entry,
    verify_inception,
)
from federation.wire import SignedEntry, encode
from tests.federation.feeds import TYPES, Feed

CREATED = 1_770_000_000
SCALE = int(os.environ.get("CIRCLE_NODE_FUZZ_SCALE", "1"))  # `make fuzz` runs many more
FEED = Feed.start()
for _ in range(4):
    FEED.add(body=b"a body")
AUTHORED = FEED.entries
RECEIVER = FEED.receiver()


def mutate(data: bytes, draw: Callable[..., Any]) -> bytes:
    """Flip, insert, delete or truncate bytes of valid data."""
    buffer = bytearray(data)
    for _ in range(draw(st.integers(1, 4))):
        kind = draw(st.sampled_from(["flip", "insert", "delete", "truncate"]))
        position = draw(st.integers(0, max(len(buffer) - 1, 0)))
        if kind == "flip" and buffer:
            buffer[position] ^= draw(st.integers(1, 255))
        elif kind == "insert":
            buffer.insert(position, draw(st.integers(0, 255)))
        elif kind == "delete" and buffer:
            del buffer[position]
        else:
            del buffer[position:]
    return bytes(buffer)


@st.composite
def mutated_entries(draw: Callable[..., Any]) -> SignedEntry:
    original = draw(st.sampled_from(AUTHORED))
    if draw(st.booleans()):
        return SignedEntry(mutate(original.entry, draw), original.signature)
    return SignedEntry(original.entry, mutate(original.signature, draw))


DECODERS = [
    decode_signed_entry,
    decode_push,
    decode_page,
    decode_descriptor,
    decode_push_reply,
    lambda raw: decode_entry(SignedEntry(raw, bytes(64))),
]


@settings(max_examples=300 * SCALE, deadline=None)
@given(raw=st.binary(max_size=600), decoder=st.sampled_from(DECODERS))
def test_random_bytes_are_decoded_or_cleanly_rejected(raw: bytes, decoder: Any) -> None:
    with contextlib.suppress(Rejected):
        decoder(raw)


@settings(max_examples=300 * SCALE, deadline=None)
@given(data=st.data(), decoder=st.sampled_from(DECODERS))
def test_mutated_encodings_are_decoded_or_cleanly_rejected(
    data: st.DataObject, decoder: Any
) -> None:
    valid = data.draw(st.sampled_from([encode(AUTHORED[0]), AUTHORED[1].entry]))
    with contextlib.suppress(Rejected):
        decoder(mutate(valid, data.draw))


@settings(max_examples=400 * SCALE, deadline=None)
@given(forged=mutated_entries())
def test_a_mutated_entry_is_never_accepted(forged: SignedEntry) -> None:
    try:
        verdict = check_entry(RECEIVER, forged, TYPES, FEED.hash_at)
    except Rejected:
        return
    if forged in AUTHORED:
        return  # the mutation gave back the original bytes
    assert isinstance(verdict, Gap | Duplicate) and not isinstance(verdict, Accepted)
    if isinstance(verdict, Duplicate):
        assert forged.hash == FEED.hash_at(verdict.seq)


@settings(max_examples=200 * SCALE, deadline=None)
@given(data=st.data())
def test_a_page_with_a_mutated_entry_is_refused(data: st.DataObject) -> None:
    index = data.draw(st.integers(0, len(AUTHORED) - 1))
    forged = data.draw(mutated_entries())
    page = list(AUTHORED)
    page[index] = forged
    if page == AUTHORED:
        return
    try:
        state, _ = verify_page(RECEIVER, page, TYPES, lambda seq: None)
    except Rejected:
        return
    raise AssertionError(f"a changed page was accepted up to seq {state.next_seq - 1}")


@settings(max_examples=200 * SCALE, deadline=None)
@given(data=st.data())
def test_a_mutated_inception_is_refused(data: st.DataObject) -> None:
    forged = SignedEntry(mutate(FEED.inception.entry, data.draw), FEED.inception.signature)
    try:
        state = verify_inception(forged, FEED.state.feed_id)
    except Rejected:
        return
    assert forged == FEED.inception and state.feed_id == FEED.state.feed_id


# HTTP Message Signatures: the verifier parses the Signature-Input and Signature fields
# (structured fields) of any request, before it knows who sent it.

SIGNER = Ed25519PrivateKey.generate()
SIGNED_URL = "https://node-b.example/federation/feed?after=3&limit=10"
SIGNED_BODY = b"a push"


def _resolve(key_id: str) -> Ed25519PublicKey | None:
    return SIGNER.public_key() if key_id == "node-a" else None


@settings(max_examples=300 * SCALE, deadline=None)
@given(data=st.data())
def test_mutated_or_random_signature_fields_are_cleanly_refused(data: st.DataObject) -> None:
    """Whatever the signature fields hold, the verifier answers the signer's key id (only
    for a request it signed) or a SignatureError, never another exception (a 500 at the
    federation routes, which catch SignatureError only)."""
    method = data.draw(st.sampled_from(["GET", "POST"]))
    body = SIGNED_BODY if method == "POST" else b""
    headers = sign_request(
        method, SIGNED_URL, {}, body, key_id="node-a", private_key=SIGNER, created=CREATED
    )
    original = dict(headers)
    for field in data.draw(st.sets(st.sampled_from(sorted(headers)), min_size=1)):
        if data.draw(st.booleans()):
            value = mutate(headers[field].encode("latin-1"), data.draw).decode("latin-1")
        else:
            value = data.draw(st.text(st.characters(min_codepoint=32, max_codepoint=255)))
        headers[field] = value
    try:
        key_id = verify_request(
            method, SIGNED_URL, headers, body, resolve_key=_resolve, now=CREATED
        )
    except SignatureError:
        return
    # Accepted: only as the signer, for fields that still say what was signed (structured
    # fields may be written with other whitespace, and still parse to the same).
    assert key_id == "node-a", (original, headers)
