"""Verifying a pulled page of a feed (catch-up, PROTOCOL.md 7.5): by its hash chain, with the
signatures of its key events and of its last new entry only. That is what makes catch-up fast;
a pushed entry is checked on its own by `federation.verify.check_entry`. A node taking back its
own feed from a peer's held copy (PROTOCOL.md 10.6) checks every entry and every body
(`verify_own_copy`).
"""

from __future__ import annotations

import hashlib
from collections.abc import Collection

from federation.feed import FeedState, KeyHistory
from federation.verify import (
    Accepted,
    Duplicate,
    Gap,
    HashAt,
    Reason,
    Rejected,
    Supersedes,
    check_body,
    check_entry,
    decode_entry,
    verify_signature,
)
from federation.wire import (
    ENTRY_HASH_CONTEXT,
    KEY_EVENT_TYPES,
    MAX_PAGE_ENTRIES,
    ROTATION,
    Entry,
    SignedEntry,
    body_hash,
    next_key_digest,
)


def verify_page(
    state: FeedState,
    entries: list[SignedEntry],
    known_types: Collection[str],
    hash_at: HashAt,
    history: KeyHistory | None = None,
) -> tuple[FeedState, list[Entry]]:
    """Verify a contiguous page by its hash chain and the signature of its last entry.

    Entries already held are checked against their stored hash (duplicates are skipped, a
    different entry is an equivocation). Key events are also checked on their own. Returns the
    state after the page and the new entries, in order. A page whose first entry after the
    duplicates is a superseding rotation (PROTOCOL.md 6.1) goes on from it: the rotation is
    the first new entry, at a seq already held (the caller drops the held entries from it on).
    """
    if len(entries) > MAX_PAGE_ENTRIES:
        raise Rejected(Reason.OVERSIZE, f"page of {len(entries)} entries")
    # First pass: decode, skip the duplicates the page starts with, check contiguity and types.
    new: list[Entry] = []
    new_signed: list[SignedEntry] = []
    held = state.next_seq
    expected = held
    start = state
    for signed in entries:
        entry = decode_entry(signed)
        seq = entry.seq
        if seq < held and not new:
            verdict = check_entry(state, signed, known_types, hash_at, history)
            if isinstance(verdict, Supersedes):
                start = verdict.state
                new.append(entry)
                new_signed.append(signed)
                expected = seq + 1
                continue
            assert isinstance(verdict, Duplicate)  # otherwise check_entry raised
            continue
        if seq != expected:
            raise Rejected(Reason.NOT_CONTIGUOUS, f"expected seq {expected}", seq)
        if entry.type not in known_types and entry.type not in KEY_EVENT_TYPES:
            raise Rejected(Reason.UNKNOWN_TYPE, f"entry type {entry.type!r}", seq)
        new.append(entry)
        new_signed.append(signed)
        expected += 1
    if not new:
        return state, new
    # Second pass: the hash chain (7.2 steps 5-7) for every new entry; signatures (step 8) for
    # key events and the last new entry. (What `check_entry` does entry by entry, unrolled:
    # this is catch-up's loop.)
    feed_id, last_hash = start.feed_id, start.last_hash
    key, next_digest = start.key, start.next_digest
    last = new[-1]
    sha256, context = hashlib.sha256, ENTRY_HASH_CONTEXT
    checked = 1 if start is not state else 0  # a superseding rotation is checked already
    for entry, signed in zip(new[checked:], new_signed[checked:], strict=True):
        if entry.feed != feed_id:
            raise Rejected(Reason.WRONG_FEED, "entry names another feed", entry.seq)
        if entry.prev != last_hash:
            raise Rejected(
                Reason.PREV_MISMATCH, "prev is not the hash of the entry before", entry.seq
            )
        if entry.type == ROTATION:
            assert entry.keys is not None  # _check_shape
            if next_key_digest(entry.keys.current) != next_digest:
                raise Rejected(
                    Reason.BAD_KEY_EVENT,
                    "rotation reveals a key the feed did not commit to",
                    entry.seq,
                )
            key, next_digest = entry.keys.current, entry.keys.next_digest
            verify_signature(key, signed, entry.seq)  # key events are always checked
        elif entry is last:
            verify_signature(key, signed, entry.seq)
        last_hash = sha256(context + signed.entry + signed.signature).digest()  # entry_hash
    return FeedState(feed_id, expected, last_hash, key, next_digest), new


def verify_own_copy(
    state: FeedState,
    entries: list[SignedEntry],
    bodies: list[bytes],
    known_types: Collection[str],
    hash_at: HashAt,
) -> tuple[FeedState, list[Entry], list[SignedEntry], dict[bytes, bytes]]:
    """Verify a peer's held copy of the reader's own feed (PROTOCOL.md 10.6), entry by entry:
    each signature, the hash chain, key events; a held seq with another entry is an
    `Equivocation`. A body is kept only if an entry of the page names it and it matches.

    Returns the state after the page, the new entries with their signed forms, and the bodies
    by hash.
    """
    if len(entries) > MAX_PAGE_ENTRIES:
        raise Rejected(Reason.OVERSIZE, f"page of {len(entries)} entries")
    new: list[Entry] = []
    new_signed: list[SignedEntry] = []
    named: dict[bytes, Entry] = {}
    for signed in entries:
        verdict = check_entry(state, signed, known_types, hash_at)
        if isinstance(verdict, Gap):
            raise Rejected(Reason.NOT_CONTIGUOUS, f"expected seq {verdict.expected}", verdict.got)
        entry = verdict.entry if isinstance(verdict, Accepted) else decode_entry(signed)
        if isinstance(verdict, Accepted):
            state = verdict.state
            new.append(entry)
            new_signed.append(signed)
        if entry.body_hash:
            named[entry.body_hash] = entry
    kept: dict[bytes, bytes] = {}
    for body in bodies:
        digest = body_hash(body)
        naming = named.get(digest)
        if naming is None:
            raise Rejected(Reason.BODY_MISMATCH, "a body no entry of the page names")
        check_body(naming, body)
        kept[digest] = body
    return state, new, new_signed, kept
