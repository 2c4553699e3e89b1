"""Limits and strict forms: what a writer will not sign, what a reader refuses as oversize,
node ids with one spelling only, and type names anchored at both ends."""

from __future__ import annotations

import msgspec
import pytest

from federation.feed import FeedState, WontSign, append, feed_id_from_node_id, node_id
from federation.verify import Reason, Rejected, decode_entry, decode_page, decode_push
from federation.wire import (
    MAX_AUDIENCE,
    MAX_BODY_BYTES,
    MAX_ENTRY_BYTES,
    MAX_PAGE_ENTRIES,
    Entry,
    FeedPage,
    Push,
    SignedEntry,
    encode,
    is_base_url,
)
from tests.federation.feeds import Feed


def test_a_writer_does_not_sign_what_peers_would_refuse() -> None:
    feed = Feed.start()
    state: FeedState = feed.state
    with pytest.raises(WontSign, match="body of"):
        append(state, feed.keys, "note", b"x" * (MAX_BODY_BYTES + 1), 1)
    with pytest.raises(WontSign, match="audience of"):
        append(state, feed.keys, "note", b"x", 1, [bytes(32)] * (MAX_AUDIENCE + 1))
    for bad in ("Note", "note\n", "", "n" * 65, "2notes"):
        with pytest.raises(WontSign, match="not an entry type name"):
            append(state, feed.keys, bad, None, 1)
    # The largest audience a writer allows still fits in one entry.
    signed, _ = append(state, feed.keys, "note", b"x", 1, [bytes(32)] * MAX_AUDIENCE)
    assert len(signed.entry) <= MAX_ENTRY_BYTES


def test_oversize_is_told_apart_from_malformed() -> None:
    feed = Feed.start()
    entry = feed.add()
    big = SignedEntry(b"\x00" * (MAX_ENTRY_BYTES + 1), bytes(64))
    for decode, message in ((decode_push, Push), (decode_page, FeedPage)):
        fields = [feed.state.feed_id, [big], []] + ([1] if message is FeedPage else [])
        with pytest.raises(Rejected) as refused:
            decode(encode(message(*fields)))
        assert refused.value.reason == Reason.OVERSIZE
        fields = [feed.state.feed_id, [entry] * (MAX_PAGE_ENTRIES + 1), []]
        fields += [1] if message is FeedPage else []
        with pytest.raises(Rejected) as refused:
            decode(encode(message(*fields)))
        assert refused.value.reason == Reason.OVERSIZE
        fields = [feed.state.feed_id, [entry], [b"x" * (MAX_BODY_BYTES + 1)]]
        fields += [1] if message is FeedPage else []
        with pytest.raises(Rejected) as refused:
            decode(encode(message(*fields)))
        assert refused.value.reason == Reason.OVERSIZE
    with pytest.raises(Rejected) as refused:
        decode_entry(big)
    assert refused.value.reason == Reason.OVERSIZE


def test_a_node_id_has_one_spelling() -> None:
    feed_id = Feed.start().state.feed_id
    text = node_id(feed_id)
    assert feed_id_from_node_id(text) == feed_id
    for other in (text.upper(), "CN1" + text[3:], text + "====", text[:-1] + "z", text[:-2], "x"):
        with pytest.raises(ValueError):
            feed_id_from_node_id(other)


def test_type_names_are_anchored() -> None:
    raw = encode(Entry(1, b"", 0, b"", 0, "note\n", [], b"", 0))
    with pytest.raises(Rejected) as refused:
        decode_entry(SignedEntry(raw, bytes(64)))
    assert refused.value.reason == Reason.MALFORMED
    assert msgspec.msgpack.decode(raw)[5] == "note\n"


@pytest.mark.parametrize(
    ("url", "base"),
    [
        ("https://kitchen.example", True),
        ("http://127.0.0.1:8470/c/kitchen", True),
        ("ftp://kitchen.example", False),
        ("https://", False),
        ("http://[::1", False),  # does not parse
        ("http://kitchen.example:99999", False),  # no such port
        ("http://kitchen.example:0", False),
        ("https://kitchen.example/?next=elsewhere", False),
        ("https://kitchen.example/#top", False),
        ("https://kitchen.example/" + "a" * 2000, False),
    ],
)
def test_a_nodes_base_url_is_http_or_https_with_a_host_and_a_real_port(
    url: str, base: bool
) -> None:
    # A node.moved naming anything else is not followed, and `move` refuses it (PROTOCOL.md 4.10).
    assert is_base_url(url) is base


def test_a_writer_matches_each_type_name_against_the_pattern_once(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import re
    from uuid import uuid4

    matched: list[str] = []
    search = re.search

    def counted(pattern: str, text: str) -> re.Match[str] | None:
        matched.append(text)
        return search(pattern, text)

    monkeypatch.setattr("federation.feed.re.search", counted)
    feed = Feed.start()
    state: FeedState = feed.state
    name = f"test.once{uuid4().hex}"  # a name no other test signed
    for n in range(3):
        _, state = append(state, feed.keys, name, b"x", n)
    assert matched.count(name) == 1 and state.next_seq == feed.state.next_seq + 3
    # A name refused once is refused every time; so is an audience not of feed ids.
    for _ in range(2):
        with pytest.raises(WontSign, match="not an entry type name"):
            append(state, feed.keys, "Note", None, 1)
    with pytest.raises(WontSign, match="names feed ids"):
        append(state, feed.keys, "note", b"x", 1, [bytes(32), bytes(31)])
