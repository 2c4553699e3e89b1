"""The pages catch-up has fetched from a peer and not yet taken: fetched ahead of the run being
stored, within a run's size (node/network/pulling.py, `PeerPuller.catch_up`)."""

from __future__ import annotations

import asyncio
import operator

from federation.wire import MAX_PAGE_ENTRIES, FeedPage

# Catch-up takes the pages at hand in one save, up to RUN_ENTRIES entries and RUN_BYTES (a
# commit per page was most of the cost of storing: each one rewrites every page of the bodies'
# hash index that it touches), and fetches up to as much ahead while it stores. Fewer, larger
# saves take less of the receiver's time; sixteen full pages of small entries still stay well
# within RUN_BYTES.
RUN_ENTRIES = 16 * MAX_PAGE_ENTRIES
RUN_BYTES = 16 * 1024 * 1024


def _size(page: FeedPage) -> int:
    """About what a page takes in memory, as its encoded size."""
    entries, bodies = page.entries, page.bodies
    return (
        sum(map(len, map(_ENTRY_BYTES, entries)))
        + 80 * len(entries)
        + sum(map(len, bodies))
        + 8 * len(bodies)
    )


_ENTRY_BYTES = operator.attrgetter("entry")


class FetchedPages:
    """The pages fetched and not yet taken: at most a run's worth (RUN_ENTRIES entries and
    RUN_BYTES), and one page more, are fetched ahead of the run being taken."""

    def __init__(self) -> None:
        self.pages: list[tuple[FeedPage, int]] = []  # with their sizes
        self.entries = 0
        self.bytes = 0
        self.ended = False
        self.error: Exception | None = None
        self.changed = asyncio.Event()

    async def room(self) -> None:
        while self.entries >= RUN_ENTRIES or self.bytes >= RUN_BYTES:
            self.changed.clear()
            await self.changed.wait()

    def put(self, page: FeedPage) -> None:
        self.pages.append((page, _size(page)))
        self._count()

    def end(self, error: Exception | None = None) -> None:
        self.ended, self.error = True, error
        self.changed.set()

    async def take(self, most: int | None = None) -> list[FeedPage]:
        """The next run: waits for a page, then takes the pages here, up to RUN_ENTRIES
        entries and RUN_BYTES (and at least one page), and `most` pages; empty at the end."""
        while not self.pages and not self.ended:
            self.changed.clear()
            await self.changed.wait()
        if not self.pages and self.error is not None:
            raise self.error
        count, entries, size = 0, 0, 0
        for page, page_size in self.pages:
            entries += len(page.entries)
            size += page_size
            if count and (entries > RUN_ENTRIES or size > RUN_BYTES or count == most):
                break
            count += 1
        run = [page for page, _ in self.pages[:count]]
        del self.pages[:count]
        self._count()
        return run

    def give_back(self, pages: list[FeedPage]) -> None:
        """Pages of a run that were not taken: first in line again."""
        self.pages[:0] = [(page, _size(page)) for page in pages]
        self._count()

    def _count(self) -> None:
        self.entries = sum(len(page.entries) for page, _ in self.pages)
        self.bytes = sum(size for _, size in self.pages)
        self.changed.set()
