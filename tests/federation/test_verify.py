"""Every verification rule: tampering, keys, replay, gaps, forks, versions, sizes, rotation."""

from __future__ import annotations

from dataclasses import replace

import msgspec
import pytest

from federation.feed import append
from federation.keys import NodeKeys
from federation.pages import verify_page
from federation.verify import (
    Accepted,
    Duplicate,
    Equivocation,
    Gap,
    Reason,
    Rejected,
    check_body,
    check_entry,
    decode_entry,
    decode_signed_entry,
    verify_inception,
)
from federation.wire import (
    ENTRY_SIGNING_CONTEXT,
    MAX_BODY_BYTES,
    MAX_PAGE_ENTRIES,
    ROTATION,
    Entry,
    KeyState,
    SignedEntry,
    encode,
)
from tests.federation.feeds import TYPES, Feed, keys


def resign(signer: NodeKeys, entry: Entry) -> SignedEntry:
    raw = encode(entry)
    return SignedEntry(raw, signer.current.sign(ENTRY_SIGNING_CONTEXT + raw))


def test_a_feed_verifies_entry_by_entry_and_as_a_page() -> None:
    feed = Feed.start()
    for _ in range(5):
        feed.add()
    state = feed.receiver()
    for signed in feed.entries:
        verdict = check_entry(state, signed, TYPES, feed.hash_at)
        assert isinstance(verdict, Accepted)
        state = verdict.state
    assert state == feed.state
    paged, new = verify_page(feed.receiver(), feed.entries, TYPES, feed.hash_at)
    assert paged == feed.state and [e.seq for e in new] == [1, 2, 3, 4, 5]


def test_every_tampered_byte_of_an_entry_is_refused() -> None:
    feed = Feed.start()
    feed.add()
    signed = feed.add(body=b"the decision text")
    state = feed.receiver()
    state = check_entry(state, feed.entries[0], TYPES, feed.hash_at).state  # type: ignore[union-attr]
    for index in range(len(signed.entry)):
        tampered = bytearray(signed.entry)
        tampered[index] ^= 0x01
        forged = SignedEntry(bytes(tampered), signed.signature)
        try:
            verdict = check_entry(state, forged, TYPES, lambda seq: None)
        except Rejected as refused:
            assert refused.reason in set(Reason), index
        else:
            # A changed seq can only look like a gap: nothing is stored, the range is pulled.
            assert isinstance(verdict, Gap), index
    for index in range(len(signed.signature)):
        tampered = bytearray(signed.signature)
        tampered[index] ^= 0x80
        with pytest.raises(Rejected) as refused:
            check_entry(state, SignedEntry(signed.entry, bytes(tampered)), TYPES, feed.hash_at)
        assert refused.value.reason == Reason.BAD_SIGNATURE


def test_an_entry_signed_by_another_key_is_refused() -> None:
    feed = Feed.start()
    forged = resign(keys(9), decode_entry(feed.add()))
    with pytest.raises(Rejected) as refused:
        check_entry(feed.receiver(), forged, TYPES, lambda seq: None)
    assert refused.value.reason == Reason.BAD_SIGNATURE and refused.value.seq == 1


def test_replay_is_a_duplicate_and_another_feeds_entry_is_refused() -> None:
    feed, other = Feed.start(1), Feed.start(2)
    first = feed.add()
    state = check_entry(feed.receiver(), first, TYPES, feed.hash_at).state  # type: ignore[union-attr]
    assert check_entry(state, first, TYPES, feed.hash_at) == Duplicate(1)
    with pytest.raises(Rejected) as refused:
        check_entry(state, other.add(), TYPES, feed.hash_at)
    assert refused.value.reason == Reason.WRONG_FEED
    # Seq 2 of another feed, arriving where seq 2 is expected: wrong feed too.
    other.add()
    with pytest.raises(Rejected) as refused:
        check_entry(state, other.entries[1], TYPES, feed.hash_at)
    assert refused.value.reason == Reason.WRONG_FEED


def test_a_gap_asks_for_the_missing_range() -> None:
    feed = Feed.start()
    feed.add(), feed.add(), feed.add()
    assert check_entry(feed.receiver(), feed.entries[2], TYPES, feed.hash_at) == Gap(1, 3)


def test_a_fork_is_an_equivocation_with_both_entries_as_proof() -> None:
    feed = Feed.start()
    original = feed.add(body=b"we consent")
    state = check_entry(feed.receiver(), original, TYPES, feed.hash_at).state  # type: ignore[union-attr]
    # The author signs a different entry at the same seq.
    fork, _ = append(feed.receiver(), feed.keys, "note", b"we object", 1)
    with pytest.raises(Equivocation) as caught:
        check_entry(state, fork, TYPES, feed.hash_at)
    assert caught.value.reason == Reason.EQUIVOCATION and caught.value.seq == 1
    assert caught.value.held_hash == original.hash and caught.value.conflicting == fork
    # A fork signed by someone else is a forgery, not proof against the author.
    forged = resign(keys(9), decode_entry(fork))
    with pytest.raises(Rejected) as refused:
        check_entry(state, forged, TYPES, feed.hash_at)
    assert refused.value.reason == Reason.BAD_SIGNATURE


def test_unknown_versions_and_types_are_refused() -> None:
    feed = Feed.start()
    entry = decode_entry(feed.add())
    newer = resign(feed.keys, msgspec.structs.replace(entry, version=2))
    with pytest.raises(Rejected) as refused:
        check_entry(feed.receiver(), newer, TYPES, feed.hash_at)
    assert refused.value.reason == Reason.UNKNOWN_VERSION
    # A future version may change the shape: still "unknown version", not "malformed".
    reshaped = msgspec.msgpack.encode([3, "a new shape"])
    with pytest.raises(Rejected) as refused:
        decode_entry(SignedEntry(reshaped, bytes(64)))
    assert refused.value.reason == Reason.UNKNOWN_VERSION
    with pytest.raises(Rejected) as refused:
        check_entry(feed.receiver(), feed.entries[0], {"decision.taken"}, feed.hash_at)
    assert refused.value.reason == Reason.UNKNOWN_TYPE


def test_oversized_input_is_refused_before_decoding() -> None:
    feed = Feed.start()
    with pytest.raises(Rejected) as refused:
        decode_signed_entry(b"\x92" + b"\xc5" + b"\xff" * 10_000)
    assert refused.value.reason == Reason.OVERSIZE
    with pytest.raises(Rejected) as refused:
        decode_entry(SignedEntry(b"\x00" * 5000, bytes(64)))
    assert refused.value.reason == Reason.OVERSIZE
    entry = decode_entry(feed.add(body=b"small"))
    with pytest.raises(Rejected) as refused:
        check_body(entry, b"x" * (MAX_BODY_BYTES + 1))
    assert refused.value.reason == Reason.OVERSIZE
    with pytest.raises(Rejected) as refused:
        verify_page(feed.receiver(), feed.entries * (MAX_PAGE_ENTRIES + 1), TYPES, feed.hash_at)
    assert refused.value.reason == Reason.OVERSIZE


def test_a_body_must_match_its_entry() -> None:
    feed = Feed.start()
    entry = decode_entry(feed.add(body=b"the minutes"))
    check_body(entry, b"the minutes")
    with pytest.raises(Rejected) as refused:
        check_body(entry, b"the minutez")
    assert refused.value.reason == Reason.BODY_MISMATCH


def test_key_rotation_is_followed_and_old_keys_stop_signing() -> None:
    feed = Feed.start()
    feed.add()
    old_keys = feed.keys
    feed.rotate()
    feed.add()
    state, _ = verify_page(feed.receiver(), feed.entries, TYPES, feed.hash_at)
    assert state == feed.state and state.key == feed.keys.current_public
    # After the rotation, an entry signed with the retired key is refused.
    late, _ = append(replace(state, key=old_keys.current_public), old_keys, "note", b"stolen", 1)
    with pytest.raises(Rejected) as refused:
        check_entry(state, late, TYPES, feed.hash_at)
    assert refused.value.reason == Reason.BAD_SIGNATURE


def test_a_thief_with_only_the_current_key_cannot_rotate() -> None:
    feed = Feed.start()
    feed.add()
    state = feed.receiver()
    state = check_entry(state, feed.entries[0], TYPES, feed.hash_at).state  # type: ignore[union-attr]
    thief = keys(66)
    # Revealing the thief's own key: the feed committed to another key's digest.
    entry = Entry(
        1,
        state.feed_id,
        2,
        state.last_hash,
        1,
        ROTATION,
        [],
        b"",
        0,
        KeyState(thief.current_public, thief.next_digest),
    )
    with pytest.raises(Rejected) as refused:
        check_entry(state, resign(thief, entry), TYPES, feed.hash_at)
    assert refused.value.reason == Reason.BAD_KEY_EVENT
    # Revealing the right public key but signing with the stolen current key.
    from federation.keys import public_bytes

    entry = Entry(
        1,
        state.feed_id,
        2,
        state.last_hash,
        1,
        ROTATION,
        [],
        b"",
        0,
        KeyState(public_bytes(feed.keys.next), thief.next_digest),
    )
    with pytest.raises(Rejected) as refused:
        check_entry(state, resign(feed.keys, entry), TYPES, feed.hash_at)
    assert refused.value.reason == Reason.BAD_SIGNATURE


def test_a_page_is_refused_when_any_entry_in_it_was_changed() -> None:
    feed = Feed.start()
    for _ in range(10):
        feed.add()
    # A middle entry re-signed by a stranger: the chain no longer reaches the signed last entry.
    tampered = list(feed.entries)
    tampered[4] = resign(keys(9), msgspec.structs.replace(decode_entry(tampered[4]), time=5))
    with pytest.raises(Rejected) as refused:
        verify_page(feed.receiver(), tampered, TYPES, feed.hash_at)
    assert refused.value.reason == Reason.PREV_MISMATCH and refused.value.seq == 6
    # The last entry's signature is what authenticates the page.
    tampered = list(feed.entries)
    tampered[-1] = SignedEntry(tampered[-1].entry, bytes(64))
    with pytest.raises(Rejected) as refused:
        verify_page(feed.receiver(), tampered, TYPES, feed.hash_at)
    assert refused.value.reason == Reason.BAD_SIGNATURE
    # A hole in the page.
    with pytest.raises(Rejected) as refused:
        verify_page(feed.receiver(), feed.entries[:3] + feed.entries[4:], TYPES, feed.hash_at)
    assert refused.value.reason == Reason.NOT_CONTIGUOUS


def test_a_page_overlapping_what_is_held_skips_duplicates_and_catches_forks() -> None:
    feed = Feed.start()
    for _ in range(4):
        feed.add()
    state, _ = verify_page(feed.receiver(), feed.entries[:2], TYPES, feed.hash_at)
    after, new = verify_page(state, feed.entries, TYPES, feed.hash_at)
    assert after == feed.state and [e.seq for e in new] == [3, 4]
    fork, _ = append(feed.receiver(), feed.keys, "note", b"other", 2)
    with pytest.raises(Equivocation):
        verify_page(state, [fork, *feed.entries[1:]], TYPES, feed.hash_at)


def test_an_inception_names_its_feed() -> None:
    feed, other = Feed.start(1), Feed.start(2)
    assert verify_inception(feed.inception, feed.state.feed_id).feed_id == feed.state.feed_id
    with pytest.raises(Rejected) as refused:
        verify_inception(other.inception, feed.state.feed_id)
    assert refused.value.reason == Reason.WRONG_FEED
    with pytest.raises(Rejected) as refused:
        verify_inception(feed.add())
    assert refused.value.reason == Reason.BAD_KEY_EVENT


@pytest.mark.parametrize(
    "type_name", ["Note", "note\n", "1note", "no te", "é", "x" * 65, "note.ok", "decision.taken"]
)
def test_type_names_are_checked_as_the_entry_struct_says(
    type_name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """decode_entry checks the type name's pattern once per name: it accepts and refuses
    exactly what decoding with Entry alone does, with the same reason, remembered or not."""
    feed = Feed.start()
    entry = decode_entry(feed.add())
    signed = resign(feed.keys, msgspec.structs.replace(entry, type=type_name))
    try:
        expected: dict[str, object] | str = msgspec.structs.asdict(
            msgspec.msgpack.decode(signed.entry, type=Entry)
        )
    except msgspec.ValidationError as error:
        expected = f"malformed: entry: {error}"
    for remembered in (1024, 0):  # names remembered, or the set full
        monkeypatch.setattr("federation.verify._MAX_MATCHING_TYPES", remembered)
        for _ in range(2):  # the first time, and once seen
            try:
                got: dict[str, object] | str = msgspec.structs.asdict(decode_entry(signed))
            except Rejected as rejected:
                assert rejected.reason == Reason.MALFORMED
                got = str(rejected)
            assert got == expected
