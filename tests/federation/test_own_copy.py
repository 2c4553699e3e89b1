"""Verifying a peer's held copy of one's own feed (`verify_own_copy`, PROTOCOL.md 10.6): every
entry's signature, the chain, forks against what is held, and every body."""

from __future__ import annotations

import pytest

from federation.pages import verify_own_copy, verify_page
from federation.verify import Equivocation, Reason, Rejected
from federation.wire import SignedEntry
from tests.federation.feeds import TYPES, Feed


def test_a_whole_copy_verifies_with_its_bodies() -> None:
    feed = Feed.start()
    for n in range(4):
        feed.add(body=f"body {n}".encode())
    feed.rotate()
    feed.add(body=b"after the rotation")
    bodies = [f"body {n}".encode() for n in range(4)] + [b"after the rotation"]
    state, new, signed, kept = verify_own_copy(
        feed.receiver(), feed.entries, bodies, TYPES, feed.hash_at
    )
    assert state == feed.state and signed == feed.entries
    assert [e.seq for e in new] == list(range(1, 7))
    assert sorted(kept.values()) == sorted(bodies)


def test_a_middle_entry_with_a_bad_signature_is_refused() -> None:
    # A pulled page takes it (the chain and the last signature hold); one's own copy does not.
    feed = Feed.start()
    for _ in range(3):
        feed.add()
    forged = [feed.entries[0], SignedEntry(feed.entries[1].entry, bytes(64)), feed.entries[2]]
    with pytest.raises(Rejected) as refused:
        verify_own_copy(feed.receiver(), forged, [], TYPES, feed.hash_at)
    assert refused.value.reason == Reason.BAD_SIGNATURE and refused.value.seq == 2


def test_a_held_entry_that_differs_is_a_fork() -> None:
    feed = Feed.start()
    feed.add(body=b"one")
    state, _ = verify_page(feed.receiver(), feed.entries, TYPES, feed.hash_at)  # seq 1 held
    other = Feed.start()  # the same keys: the same node, signing another entry at seq 1
    other.add(body=b"another")
    with pytest.raises(Equivocation) as fork:
        verify_own_copy(state, other.entries, [], TYPES, feed.hash_at)
    assert fork.value.fork_seq == 1


def test_a_body_must_be_named_by_an_entry_of_the_page_and_match_it() -> None:
    feed = Feed.start()
    feed.add(body=b"named")
    with pytest.raises(Rejected) as stray:
        verify_own_copy(feed.receiver(), feed.entries, [b"not named"], TYPES, feed.hash_at)
    assert stray.value.reason == Reason.BODY_MISMATCH
    # A body of the right length whose hash differs is not named either; the right one is kept.
    with pytest.raises(Rejected):
        verify_own_copy(feed.receiver(), feed.entries, [b"nameX"], TYPES, feed.hash_at)
    *_, kept = verify_own_copy(feed.receiver(), feed.entries, [b"named"], TYPES, feed.hash_at)
    assert list(kept.values()) == [b"named"]
