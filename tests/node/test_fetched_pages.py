"""The pages catch-up has fetched and not yet taken (node/network/fetched_pages.py): taken in
runs of at most RUN_ENTRIES entries and RUN_BYTES."""

from __future__ import annotations

import asyncio

from federation.wire import MAX_PAGE_ENTRIES, FeedPage, SignedEntry
from node.network.fetched_pages import RUN_BYTES, FetchedPages


def full_page(body_size: int) -> FeedPage:
    """A page of MAX_PAGE_ENTRIES entries of about the size of small records, with bodies."""
    entries = [SignedEntry(bytes(120), bytes(64)) for _ in range(MAX_PAGE_ENTRIES)]
    return FeedPage(bytes(32), entries, [bytes(body_size)] * MAX_PAGE_ENTRIES, 0)


def test_sixteen_full_pages_of_small_entries_are_one_run() -> None:
    # Given twenty full pages fetched, of entries with bodies of about 250 bytes.
    fetched = FetchedPages()
    for _ in range(20):
        fetched.put(full_page(250))
    fetched.end()
    # Then the first sixteen are taken in one save, then the other four.
    assert [len(asyncio.run(fetched.take())) for _ in range(3)] == [16, 4, 0]


def test_a_run_of_large_bodies_stops_at_its_bytes() -> None:
    # Given full pages whose bodies make each page a little over a quarter of RUN_BYTES.
    fetched = FetchedPages()
    for _ in range(6):
        fetched.put(full_page(RUN_BYTES // 4 // MAX_PAGE_ENTRIES + 1))
    fetched.end()
    # Then a run holds three of them: a fourth would pass RUN_BYTES.
    assert [len(asyncio.run(fetched.take())) for _ in range(3)] == [3, 3, 0]
