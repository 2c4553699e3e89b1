"""Catch-up takes the pulled pages that are at hand in one save (`receive_pages`): each page is
still verified on its own, from where the one before it ends, and binds only its own bodies,
so the outcome is that of taking the pages one by one."""

from __future__ import annotations

import asyncio

import pytest

from federation.feed import FeedState, append
from federation.verify import Equivocation, Reason, Rejected, decode_entry
from federation.wire import FeedPage, SignedEntry
from node.app.node import CircleNode
from node.network.delivery import Federator
from node.network.feeds import peer_feed_id, peer_id
from tests.node.test_federation_node import connect, publish


def pages_of(a: CircleNode, reader: CircleNode, size: int) -> list[FeedPage]:
    pages, after = [], 0
    while (page := a.feed.page(after, size, reader.feed.feed_id)).entries:
        pages.append(page)
        after += len(page.entries)
    return pages


def test_pages_taken_together_are_taken_as_one_by_one(make) -> None:  # type: ignore[no-untyped-def]
    a, b, c = make("a"), make("b"), make("c")
    connect(a, b)
    connect(a, c)
    publish(a, 5)
    head = a.feed.own_feed().head
    assert b.intake.receive_pages(pages_of(a, b, 3)) == (head, len(pages_of(a, b, 3)))
    for page in pages_of(a, c, 3):
        c.intake.receive_page(page)
    assert b.peering.peer_feed(a.feed.feed_id).state == c.peering.peer_feed(a.feed.feed_id).state
    assert (
        b.relations.peer_view(a.feed.feed_id).decisions
        == c.relations.peer_view(a.feed.feed_id).decisions
    )  # type: ignore[union-attr]
    assert b.store.feeds.select_entries(a.feed.feed_id, -1, 1000) == a.store.feeds.select_entries(
        a.feed.feed_id, -1, 1000
    )
    # Pulled again: all duplicates, nothing taken.
    assert b.intake.receive_pages(pages_of(a, b, 3))[0] == 0


def test_a_refused_page_ends_the_run_before_it(make) -> None:  # type: ignore[no-untyped-def]
    a, b = make("a"), make("b")
    connect(a, b)
    publish(a, 5)
    first, second, *rest = pages_of(a, b, 3)
    last = second.entries[-1]
    forged = FeedPage(
        second.feed, [*second.entries[:-1], SignedEntry(last.entry, bytes(64))], [], second.head
    )
    # The first page alone is refused: raised, nothing stored.
    with pytest.raises(Rejected) as refused:
        b.intake.receive_pages([forged, first])
    assert refused.value.reason == Reason.NOT_CONTIGUOUS
    assert b.peering.peer_feed(a.feed.feed_id).next_seq == 1
    # A later one: the pages before it are stored, and it is refused when taken alone.
    assert b.intake.receive_pages([first, forged, *rest]) == (len(first.entries), 1)
    assert b.peering.peer_feed(a.feed.feed_id).next_seq == 1 + len(first.entries)
    with pytest.raises(Rejected) as refused:
        b.intake.receive_pages([forged, *rest])
    assert refused.value.reason == Reason.BAD_SIGNATURE
    assert b.intake.receive_pages([second, *rest]) == (
        a.feed.own_feed().head - len(first.entries),
        1 + len(rest),
    )


def _first_page_of_four(make):  # type: ignore[no-untyped-def]
    """A publishes five decisions to B; returns (a, b, A's entries, A's head, a page of the
    first four entries)."""
    a, b = make("a"), make("b")
    connect(a, b)
    publish(a, 5)
    entries = a.feed.own_entries(0, 1000)
    head = a.feed.own_feed().head
    return a, b, entries, head, FeedPage(a.feed.feed_id, entries[:4], [], head)


def test_a_page_overlapping_the_one_before_is_checked_against_it(make) -> None:  # type: ignore[no-untyped-def]
    a, b, entries, head, first = _first_page_of_four(make)
    # The next page repeats the last two entries of the first: duplicates, skipped.
    overlapping = FeedPage(a.feed.feed_id, entries[2:], [], head)
    assert b.intake.receive_pages([first, overlapping]) == (head, 2)


def test_a_fork_against_an_earlier_page_of_the_run_is_caught(make) -> None:  # type: ignore[no-untyped-def]
    a, b, entries, head, first = _first_page_of_four(make)
    seq = decode_entry(entries[3]).seq
    state = FeedState(
        a.feed.feed_id, seq, entries[2].hash, a.feed.keys.current_public, a.feed.keys.next_digest
    )
    fork, _ = append(state, a.feed.keys, "decision.record", b"\x80", 5)
    forked = FeedPage(a.feed.feed_id, [fork], [], head)
    # The run stops before the fork; taken alone, the fork is caught against the stored entry.
    assert b.intake.receive_pages([first, forked]) == (4, 1)
    with pytest.raises(Equivocation):
        b.intake.receive_pages([forked])
    peer = b.peering.peer(a.feed.feed_id)
    assert peer is not None and peer.stopped and peer.equivocation_seq == seq


def test_a_page_binds_only_its_own_bodies(make) -> None:  # type: ignore[no-untyped-def]
    a, b = make("a"), make("b")
    connect(a, b)
    publish(a, 3)
    first, second = pages_of(a, b, a.feed.own_feed().head - 1)
    assert first.bodies and second.bodies
    without = FeedPage(first.feed, first.entries, [], first.head)
    carrying = FeedPage(second.feed, second.entries, first.bodies + second.bodies, second.head)
    assert b.intake.receive_pages([without, carrying])[1] == 2
    named = [decode_entry(s).body_hash for s in first.entries if decode_entry(s).body_hash]
    assert named and all(b.feed.body_for(digest, None) is None for digest in named)


class PagedNetwork:
    """Serves pulls in process, `size` entries a page."""

    def __init__(self, node: CircleNode, size: int) -> None:
        self.node, self.size = node, size

    async def pull(self, url: str, after: int, limit: int) -> FeedPage:
        return self.node.feed.page(after, min(limit, self.size), None)


def test_catch_up_takes_the_pages_at_hand_together(make) -> None:  # type: ignore[no-untyped-def]
    a, b = make("a"), make("b")
    connect(a, b)
    publish(a, 12)
    runs: list[int] = []  # pages per save
    receive = b.intake.receive_pages

    def receiving(pages):  # type: ignore[no-untyped-def]
        taken, used = receive(pages)
        runs.append(used)
        return taken, used

    b.intake.receive_pages = receiving  # type: ignore[method-assign]
    seen: list[tuple[int, int]] = []
    federator = Federator(b, PagedNetwork(a, 2))  # type: ignore[arg-type]
    peer = b.peering.peer(a.feed.feed_id)
    assert peer is not None
    taken = asyncio.run(federator.catch_up(peer, lambda held, head: seen.append((held, head))))
    head = a.feed.own_feed().head
    assert taken == head and b.peering.peer_feed(a.feed.feed_id).next_seq == head + 1
    assert max(runs) > 1 and sum(runs) == -(-head // 2)
    assert seen[-1] == (head, head)
    # Nothing new: nothing taken.
    assert asyncio.run(federator.catch_up(peer)) == 0


class ForgingNetwork(PagedNetwork):
    """Serves the page after `forged_after` with its last signature spoilt."""

    def __init__(self, node: CircleNode, size: int, forged_after: int) -> None:
        super().__init__(node, size)
        self.forged_after = forged_after

    async def pull(self, url: str, after: int, limit: int) -> FeedPage:
        page = await super().pull(url, after, limit)
        if after != self.forged_after:
            return page
        last = page.entries[-1]
        spoilt = [*page.entries[:-1], SignedEntry(last.entry, bytes(64))]
        return FeedPage(page.feed, spoilt, page.bodies, page.head)


def test_catch_up_keeps_the_pages_before_a_refused_one(make, caplog) -> None:  # type: ignore[no-untyped-def]
    a, b = make("a"), make("b")
    connect(a, b)
    publish(a, 12)
    federator = Federator(b, ForgingNetwork(a, 2, forged_after=6))  # type: ignore[arg-type]
    peer = b.peering.peer(a.feed.feed_id)
    assert peer is not None
    assert asyncio.run(federator.catch_up(peer)) == 6
    assert b.peering.peer_feed(a.feed.feed_id).next_seq == 7
    assert "bad_signature" in caplog.text
    # Served properly, the rest is taken.
    federator = Federator(b, PagedNetwork(a, 2))  # type: ignore[arg-type]
    assert asyncio.run(federator.catch_up(peer)) == a.feed.own_feed().head - 6


def test_when_taking_fails_otherwise_the_pages_before_are_kept(make) -> None:  # type: ignore[no-untyped-def]
    a, b = make("a"), make("b")
    connect(a, b)
    publish(a, 12)
    effects = b.intake._effects

    def failing(peer, run, batch):  # type: ignore[no-untyped-def]
        if any(entry.seq == 7 for entry, _ in run):
            raise RuntimeError("a domain error")
        return effects(peer, run, batch)

    b.intake._effects = failing
    federator = Federator(b, PagedNetwork(a, 2))  # type: ignore[arg-type]
    peer = b.peering.peer(a.feed.feed_id)
    assert peer is not None
    with pytest.raises(RuntimeError):
        asyncio.run(federator.catch_up(peer))
    # As if the pages had come one at a time: those before the failing one are held.
    assert b.peering.peer_feed(a.feed.feed_id).next_seq == 7


def test_each_save_of_a_catch_up_reads_the_peer_and_its_feed_once(make) -> None:  # type: ignore[no-untyped-def]
    """The peer and its feed are read together, from what is kept of them: one read of the
    store for both (of the events after the kept versions), not a snapshot and events each."""
    a, b = make("a"), make("b")
    connect(a, b)
    publish(a, 6)
    first, *rest = pages_of(a, b, 2)
    b.intake.receive_pages([first])  # the peer and its feed are kept from here on
    recorder = b.store.events.recorder
    reads: list[object] = []
    select_later, select_events = recorder.select_later, recorder.select_events

    def later(*args: object) -> object:
        reads.append("later")
        return select_later(*args)

    def events(*args: object, **kwargs: object) -> object:
        reads.append(kwargs.get("originator_id", args[0] if args else None))
        return select_events(*args, **kwargs)

    recorder.select_later, recorder.select_events = later, events
    for page in rest:
        reads.clear()
        assert b.intake.receive_pages([page])[0] == len(page.entries)
        assert reads.count("later") == 1
        assert not {peer_id(a.feed.feed_id), peer_feed_id(a.feed.feed_id)} & set(reads)
        last = decode_entry(page.entries[-1])
        assert b.peering.peer_feed(a.feed.feed_id).next_seq == last.seq + 1
