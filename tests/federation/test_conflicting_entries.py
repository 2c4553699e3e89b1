"""Conflicting entries at held seqs (PROTOCOL.md 6.1, 7.4): a fork signed by the current key is
an equivocation, one signed by a key retired since shows that key leaked, and a rotation signed
by the pre-committed next key supersedes the held entries from its seq on.

Cast: one author's feed (`Feed`, seed 1), a receiver that holds all of it, and a thief (seed
66) who has stolen a key."""

from __future__ import annotations

from dataclasses import replace

import pytest

from federation.feed import FeedState, append, rotate
from federation.keys import NodeKeys
from federation.pages import verify_page
from federation.verify import (
    Accepted,
    Equivocation,
    Reason,
    Rejected,
    RetiredKey,
    Supersedes,
    check_entry,
    decode_entry,
)
from federation.wire import SignedEntry
from tests.federation.feeds import TYPES, Feed, keys
from tests.federation.test_verify import resign


def held(feed: Feed) -> FeedState:
    """What a receiver holding every entry of `feed` knows of it."""
    state, _ = verify_page(feed.receiver(), feed.entries, TYPES, feed.hash_at)
    return state


def state_after(feed: Feed, seq: int, signer: NodeKeys) -> FeedState:
    """The author's state right after its entry `seq` (as a restored node would hold it)."""
    last = feed.hash_at(seq)
    assert last is not None
    return replace(
        feed.state,
        next_seq=seq + 1,
        last_hash=last,
        key=signer.current_public,
        next_digest=signer.next_digest,
    )


def test_a_conflicting_entry_signed_by_a_retired_key_shows_the_key_leaked() -> None:
    # Given a feed that signed entries 1 and 2 with its first key, then rotated at 3.
    feed = Feed.start()
    feed.add(body=b"we consent"), feed.add()
    first_keys = feed.keys
    feed.rotate()
    feed.add()
    state = held(feed)
    # When a thief of the retired key signs another entry at seq 1.
    stolen, _ = append(state_after(feed, 0, first_keys), first_keys, "note", b"we object", 9)
    # Then it is evidence that the key leaked, not a fork of the feed.
    with pytest.raises(RetiredKey) as caught:
        check_entry(state, stolen, TYPES, feed.hash_at, feed.epochs)
    assert caught.value.reason == Reason.RETIRED_KEY and caught.value.seq == 1
    assert caught.value.held_hash == feed.entries[0].hash
    assert caught.value.conflicting == stolen
    # (Without the feed's key history, nothing can tell which key signed at seq 1.)
    with pytest.raises(Rejected) as refused:
        check_entry(state, stolen, TYPES, feed.hash_at)
    assert refused.value.reason == Reason.BAD_SIGNATURE


def test_a_conflicting_entry_signed_by_the_current_key_is_still_an_equivocation() -> None:
    feed = Feed.start()
    feed.add()
    feed.rotate()
    feed.add(body=b"we consent")
    state = held(feed)
    fork, _ = append(state_after(feed, 2, feed.keys), feed.keys, "note", b"we object", 9)
    with pytest.raises(Equivocation) as caught:
        check_entry(state, fork, TYPES, feed.hash_at, feed.epochs)
    assert caught.value.reason == Reason.EQUIVOCATION and caught.value.seq == 3
    # A key that never signed this feed proves nothing: a forgery.
    forged, _ = append(state_after(feed, 2, keys(66)), keys(66), "note", b"we object", 9)
    with pytest.raises(Rejected) as refused:
        check_entry(state, forged, TYPES, feed.hash_at, feed.epochs)
    assert refused.value.reason == Reason.BAD_SIGNATURE


def test_a_rotation_by_the_next_key_supersedes_the_entries_held_after_it() -> None:
    # Given a receiver holding entries 1 to 4 of a feed.
    feed = Feed.start()
    for _ in range(4):
        feed.add()
    state = held(feed)
    # When the author, holding only entries up to 2 (a restore), rotates right after 2.
    recovery, after, new_keys = rotate(state_after(feed, 2, feed.keys), feed.keys, 9)
    verdict = check_entry(state, recovery, TYPES, feed.hash_at, feed.epochs)
    # Then the rotation is taken at seq 3, and the feed goes on from it with the new key.
    assert isinstance(verdict, Supersedes) and verdict.entry.seq == 3
    assert verdict.state == after and after.key == new_keys.current_public
    following, _ = append(after, new_keys, "note", b"on we go", 10)
    assert isinstance(check_entry(after, following, TYPES, feed.hash_at), Accepted)


def test_a_superseding_rotation_needs_the_next_key_and_a_held_entry_before_it() -> None:
    feed = Feed.start()
    for _ in range(4):
        feed.add()
    state = held(feed)
    restored = state_after(feed, 2, feed.keys)

    def refused(signed: SignedEntry) -> str:
        with pytest.raises(Rejected) as caught:
            check_entry(state, signed, TYPES, feed.hash_at, feed.epochs)
        return caught.value.reason

    # A thief cannot reveal a key of its own: the feed committed to another key's digest.
    thief = keys(66)
    own, _, _ = rotate(
        replace(restored, key=thief.current_public, next_digest=thief.next_digest), thief, 9
    )
    assert refused(own) == Reason.BAD_KEY_EVENT
    # Nor sign the right key's rotation with the current key, which is all it stole.
    entry = decode_entry(rotate(restored, feed.keys, 9)[0])
    assert refused(resign(NodeKeys(feed.keys.current, thief.next), entry)) == Reason.BAD_SIGNATURE
    # A rotation that follows no held entry supersedes nothing.
    stray, _, _ = rotate(replace(restored, last_hash=bytes(32)), feed.keys, 9)
    assert refused(stray) == Reason.PREV_MISMATCH


def test_a_backup_taken_before_a_rotation_cannot_supersede_it() -> None:
    # Given a feed that rotated at seq 3 after a backup of its keys at seq 2.
    feed = Feed.start()
    feed.add(), feed.add()
    backed_up = feed.keys
    feed.rotate()
    feed.add()
    state = held(feed)
    # The restored keys' next key is the one the rotation at 3 revealed: peers are committed
    # to the key after it, which the backup lacks.
    recovery, _, _ = rotate(state_after(feed, 2, backed_up), backed_up, 9)
    with pytest.raises(Rejected) as refused:
        check_entry(state, recovery, TYPES, feed.hash_at, feed.epochs)
    assert refused.value.reason == Reason.BAD_KEY_EVENT


def test_a_pulled_page_may_start_with_a_superseding_rotation() -> None:
    feed = Feed.start()
    for _ in range(4):
        feed.add()
    state = held(feed)
    recovery, after, new_keys = rotate(state_after(feed, 1, feed.keys), feed.keys, 9)
    following, end = append(after, new_keys, "note", b"on we go", 10)
    # The page holds entry 1 (a duplicate), the rotation at 2, and the entry after it.
    page = [feed.entries[0], recovery, following]
    state_after_page, new = verify_page(state, page, TYPES, feed.hash_at, feed.epochs)
    assert [entry.seq for entry in new] == [2, 3]
    assert state_after_page == end
