"""Consecutive pages pulled from one feed, verified into one run to store in one save
(`Intake.receive_pages`, node/network/intake.py): as if each page were taken alone, in turn.
Pure: nothing here reads or writes the store."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import Any

from federation.feed import FeedState, KeyHistory
from federation.pages import verify_page
from federation.verify import HashAt, Reason, Rejected, decode_signed_entry
from federation.wire import FeedPage
from node.network.runs import VerifiedRun


@dataclass(frozen=True)
class VerifiedPages:
    """Consecutive pulled pages of a feed, verified: the feed's state after them, what to
    store, and how many of the pages given that is."""

    after: FeedState
    run: VerifiedRun
    pages: int


def verify_pages(
    state: FeedState,
    pages: Sequence[FeedPage],
    stored_hash_at: HashAt,
    history: KeyHistory,
    known_types: Collection[str],
    cipher: Any,
) -> VerifiedPages:
    """Verify consecutive pages of one feed from `state`, each by its chain and last signature
    from where the page before it ends, binding its own bodies (encrypted with `cipher`, the
    store's, if any). A refusal of the first page is raised; a later refusal (or a page of
    another feed) ends the run before that page. `stored_hash_at` gives the hashes of the
    entries the store holds."""
    run = VerifiedRun()
    start = state.next_seq  # the run's first seq (a superseding rotation's, if one)

    def hash_at(seq: int) -> bytes | None:
        # The entries of the pages before this one are held too (in this save, not stored).
        if seq < start:
            return stored_hash_at(seq)
        index = seq - start
        if index >= len(run.entries):
            return None
        return decode_signed_entry(run.entries[index][2]).hash

    used = 0
    for page in pages:
        if page.feed != state.feed_id:
            if not used:
                raise Rejected(Reason.WRONG_FEED, "a page of another feed")
            break
        lengths = len(run.entries), len(run.bodies), len(run.run)
        try:
            after, entries = verify_page(state, page.entries, known_types, hash_at, history)
            if entries and entries[0].seq < state.next_seq:  # a superseding rotation
                if used:  # it starts a run of its own
                    raise Rejected(Reason.NOT_CONTIGUOUS, "a run supersedes only first")
                start = entries[0].seq
            new = page.entries[len(page.entries) - len(entries) :]
            run.bind(
                state.feed_id,
                list(zip(new, entries, strict=True)),
                page.bodies,
                cipher,
            )
        except Rejected:
            if not used:
                raise
            run.cut(*lengths)
            break
        state = after
        used += 1
        if not entries:
            break  # nothing new: catch-up stops here
    return VerifiedPages(state, run, used)
