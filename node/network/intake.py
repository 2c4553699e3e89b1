"""Taking other nodes' entries: pushes to the inbox, pulled pages, and join requests.

Every entry is verified before anything is stored (federation.verify): its signature against
the sender's key at that seq, its seq, its `prev`. A run of verified entries is stored in one
save with the bodies it binds and what it changes here (`effects`, given by whoever composes
the node), keyed by (peer, seq): each entry is taken once, however often it arrives.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Protocol

from eventsourcing.application import AggregateNotFoundError
from eventsourcing.domain import Aggregate

from federation.feed import FeedState, WontSign
from federation.pages import verify_page
from federation.verify import (
    Accepted,
    Duplicate,
    Equivocation,
    Gap,
    Reason,
    Rejected,
    RetiredKey,
    Supersedes,
    check_entry,
    decode_entry,
    verify_inception,
)
from federation.wire import (
    DECODE_ERRORS,
    JOIN_REQUEST,
    JOIN_REQUEST_DECODER,
    NODE_MOVED,
    NODE_MOVED_DECODER,
    Entry,
    FeedPage,
    Push,
    PushReply,
    SignedEntry,
    body_hash,
    encode,
    is_base_url,
)
from node.network.batch import Batch
from node.network.feeds import PeerFeed, peer_feed_id, peer_id
from node.network.observing import Reports, counting_refusals
from node.network.own_feed import MAX_JOIN_ENTRIES
from node.network.peer_book import NotAPeer, OwnId, PeerBook, introduce
from node.network.peers import APPLICANT, REMOVED, Peer
from node.network.runs import Run, VerifiedRun
from node.network.superseding import (
    check_stopped_run,
    key_events,
    record_superseding,
    superseding_in_push,
)
from node.network.verified_pages import verify_pages
from node.store.application import NodeStore
from node.store.recorders import EntryRow, SupersededRows
from node.store.retry import retry_on_conflict


class Effects(Protocol):
    """What a run of a peer's verified entries (with the bodies that came with them) changes
    here, applied to aggregates got from `batch`. `sender` is the peer as loaded for the run.
    `careful`: check after each message that the own entries its changes cause can be signed,
    and refuse the message if not (the run's save failed with WontSign)."""

    def __call__(self, sender: Peer, run: Run, batch: Batch, *, careful: bool = False) -> None: ...


class Saving(Protocol):
    """The node's save: the aggregates with the entries and bodies given, and the entries of
    its own feed the change causes, in one transaction (WontSign if one cannot be signed)."""

    def __call__(self, *objs: Any, **kwargs: Any) -> Any: ...


class Intake:
    """The inbox and the puller's side of the store: verify, then store once with effects."""

    def __init__(
        self,
        store: NodeStore,
        own: OwnId,
        peers: PeerBook,
        effects: Effects,
        save: Saving,
        reports: Reports,
        known_types: frozenset[str],
    ) -> None:
        self._store = store
        self._own = own
        self._peers = peers
        self._effects = effects
        self._save = save
        self.reports = reports
        self.known_types = known_types

    @counting_refusals
    @retry_on_conflict
    def receive_push(self, push: Push) -> PushReply:
        """Take entries a node pushed: verified one by one, each stored once with its effects.

        The reply says how many were new, the seq expected next, and why it stopped early."""
        if push.feed == self._own.feed_id:
            raise Rejected(Reason.WRONG_FEED, "that is this node's own feed")
        peer = self._peers.peer(push.feed)
        if peer is None:
            return self._receive_join_request(push)
        if peer.status == REMOVED:
            raise Rejected(Reason.UNKNOWN_NODE, "this node no longer exchanges feeds with yours")
        feed = self._peers.peer_feed(push.feed)
        state = feed.state
        hash_at = self._peers.hash_at(feed)
        history = self._peers.key_history(feed)
        taken: list[tuple[SignedEntry, Entry]] = []
        entries: Sequence[SignedEntry] = push.entries
        if peer.stopped:
            # From a stopped feed, only a superseding rotation is taken (and what follows it).
            superseding, entries = superseding_in_push(peer, feed, entries, hash_at)
            taken.append((superseding.signed, superseding.entry))
            state = superseding.state
        reason = ""
        for signed in entries:
            try:
                verdict = check_entry(state, signed, self.known_types, hash_at, history)
            except Equivocation as proof:
                self._peers.record_equivocation(peer, feed, proof)
                reason = proof.reason
                break
            except RetiredKey as evidence:
                self._peers.record_retired_key(peer, feed, evidence)
                reason = evidence.reason
                break
            except Rejected as rejected:
                reason = rejected.reason
                break
            if isinstance(verdict, Duplicate):
                continue
            if isinstance(verdict, Supersedes):
                if taken:  # entries after the held ones, then one before them: not a run
                    reason = Reason.NOT_CONTIGUOUS
                    break
                taken.append((verdict.signed, verdict.entry))
                state = verdict.state
                continue
            if isinstance(verdict, Gap):
                reason = Reason.GAP
                break
            assert isinstance(verdict, Accepted)
            if peer.status == APPLICANT:
                reason = Reason.UNKNOWN_NODE  # nothing more until the circle admits it
                break
            taken.append((signed, verdict.entry))
            state = verdict.state
        if taken:
            run = VerifiedRun()
            run.bind(peer.feed_id, taken, push.bodies, self._store.mapper.cipher)
            self._store_run(peer, run, state, self._stored_feed(feed))
        if reason:
            self.reports.observer.rejected(str(reason))
        return PushReply(len(taken), state.next_seq, str(reason))

    def _store_run(
        self,
        sender: Peer,
        run: VerifiedRun,
        after: FeedState,
        fresh: Callable[[], tuple[PeerFeed, list[Aggregate]]],
        extra_entries: Sequence[EntryRow] = (),
    ) -> None:
        """Store a run of verified entries (`VerifiedRun.bind`) with their effects, in one save.
        `fresh()` gives the sender's feed and any aggregates to save with it, as stored or new.

        If an entry of this node's own that the effects cause cannot be signed (WontSign: peers
        would refuse it), the run is taken again from fresh copies, checking each message as it
        is applied: the message that causes it is refused (and the refusal recorded) like any
        that does not fit, and the others take effect. The entries are taken either way."""
        try:
            batch = self._save_run(sender, run, after, fresh, extra_entries, careful=False)
        except WontSign:
            batch = self._save_run(sender, run, after, fresh, extra_entries, careful=True)
        for action in batch.afterwards:
            action()
        self.reports.observer.received(sender.feed_id, len(run.run))

    def _save_run(
        self,
        sender: Peer,
        run: VerifiedRun,
        after: FeedState,
        fresh: Callable[[], tuple[PeerFeed, list[Aggregate]]],
        extra_entries: Sequence[EntryRow],
        *,
        careful: bool,
    ) -> Batch:
        feed, also = fresh()
        batch = Batch(self._store.repository)
        first = run.run[0][0]
        moved: list[SupersededRows] = []
        if first.seq < feed.next_seq:
            # A superseding rotation: the entries held from its seq on are kept apart, as
            # evidence, and their effects stand (PROTOCOL.md 6.1).
            moved.append(record_superseding(sender, feed, first, run.entries[0]))
            also = [sender, *also]
        for aggregate in also:
            batch.add(aggregate)  # effects see (and change) these, not fresh copies
        if careful:
            self._effects(sender, run.run, batch, careful=True)
        else:
            self._effects(sender, run.run, batch)
        _record_move(sender, run.run, batch)
        feed.hold(len(run.run), after, key_events([e for e, _ in run.run]), first.seq)
        entries = [*extra_entries, *run.entries, *batch.entries]
        self._save(
            feed,
            *batch.aggregates(),
            bodies=run.bodies,
            entries=entries,
            superseded=moved,
            **batch.save_kwargs(),
        )
        self._store.kept.adopt(feed)  # as stored: the next run's read finds nothing later
        return batch

    def _stored_feed(self, held: PeerFeed) -> Callable[[], tuple[PeerFeed, list[Aggregate]]]:
        """`fresh` for a feed already followed: as loaded, then as stored again."""
        copies = [held]
        return lambda: (copies.pop() if copies else self._peers.peer_feed(held.feed_id), [])

    def _receive_join_request(self, push: Push) -> PushReply:
        """An unknown node may only ask to join: it sends its feed from the inception up to a
        join request addressed to this node (the last entry), with the request's body."""
        entries = push.entries
        if not entries or len(entries) > MAX_JOIN_ENTRIES:
            raise Rejected(
                Reason.UNKNOWN_NODE,
                f"an unknown node sends its feed up to its join request ({MAX_JOIN_ENTRIES} "
                "entries at most)",
            )
        if decode_entry(entries[0]).seq != 0:
            raise Rejected(Reason.UNKNOWN_NODE, "this node does not know yours; ask to join first")
        state = verify_inception(entries[0], push.feed)
        rest = entries[1:]
        if not rest or decode_entry(rest[-1]).type != JOIN_REQUEST:
            raise Rejected(Reason.UNKNOWN_NODE, "an unknown node may only ask to join")
        after, new_entries = verify_page(state, rest, self.known_types, lambda seq: None)
        request = new_entries[-1]
        body = {body_hash(b): b for b in push.bodies}.get(request.body_hash)
        if body is None:
            raise Rejected(Reason.MALFORMED, "a join request comes with its body")
        if len(body) != request.body_size:
            raise Rejected(Reason.BODY_MISMATCH, "the join request's body has another length")
        try:
            asked = JOIN_REQUEST_DECODER.decode(body)
        except DECODE_ERRORS:
            raise Rejected(Reason.MALFORMED, "a join request's body is not one") from None
        if asked.to != self._own.feed_id or request.audience != [self._own.feed_id]:
            raise Rejected(Reason.UNKNOWN_NODE, "that join request is addressed to another node")
        peer = Peer(feed_id=push.feed, url=asked.url, name=asked.name, status=APPLICANT)

        def fresh() -> tuple[PeerFeed, list[Aggregate]]:
            new_peer = Peer(feed_id=push.feed, url=asked.url, name=asked.name, status=APPLICANT)
            met = self._peers.met(push.feed, asked.name, APPLICANT)
            return introduce(state), [new_peer, *self._peers.indexed(push.feed), *met]

        run = VerifiedRun()
        run.bind(
            push.feed,
            list(zip(rest, new_entries, strict=True)),
            push.bodies,
            self._store.mapper.cipher,
        )
        self._store_run(peer, run, after, fresh, extra_entries=[(push.feed, 0, encode(entries[0]))])
        return PushReply(len(new_entries), after.next_seq)

    @counting_refusals
    @retry_on_conflict
    def receive_page(self, page: FeedPage) -> int:
        """Take a pulled page: verified by its chain and last signature, stored in one save."""
        return self._receive_pages([page])[0]

    @counting_refusals
    @retry_on_conflict
    def receive_pages(self, pages: Sequence[FeedPage]) -> tuple[int, int]:
        """Take consecutive pulled pages of one feed in one save (catch-up: one commit, not one
        per page). Returns (entries taken, pages taken). Each page is verified on its own, by
        its chain and last signature, from where the page before it ends, and binds only its own
        bodies: as if each were taken alone, in turn. A refusal of the first page is raised and
        nothing is stored; a later page that is refused (or names another feed) ends the run
        before it: the pages before it are stored, and taking it alone raises the refusal."""
        return self._receive_pages(pages)

    def _receive_pages(self, pages: Sequence[FeedPage]) -> tuple[int, int]:
        feed_id = pages[0].feed
        peer, feed = self._peers.peer_and_feed(feed_id)
        if peer is None:
            raise NotAPeer("Pull only from peers")
        if peer.status == REMOVED:
            raise Rejected(Reason.UNKNOWN_NODE, "this node no longer exchanges feeds with yours")
        if feed is None:
            raise AggregateNotFoundError(peer_feed_id(feed_id))
        history = self._peers.key_history(feed)
        try:
            verified = verify_pages(
                feed.state,
                pages,
                self._peers.hash_at(feed),
                history,
                self.known_types,
                self._store.mapper.cipher,
            )
        except Equivocation as proof:
            if not peer.stopped:
                self._peers.record_equivocation(peer, feed, proof)
            raise
        except RetiredKey as evidence:
            self._peers.record_retired_key(peer, feed, evidence)
            raise
        if peer.stopped:
            check_stopped_run(peer, verified.run.run[0][0] if verified.run.run else None)
        if verified.run.run:
            self._store_run(peer, verified.run, verified.after, self._stored_feed(feed))
        return len(verified.run.run), verified.pages


def _record_move(sender: Peer, run: Run, batch: Batch) -> None:
    """The run's last `node.moved` whose body decodes: the sender is followed to its new URL
    once that URL serves its feed up to the move (`Federator.follow_move`). A body that does
    not decode is ignored (the entry stays taken)."""
    for entry, body in reversed(run):
        if entry.type != NODE_MOVED or body is None:
            continue
        try:
            moved = NODE_MOVED_DECODER.decode(body)
        except DECODE_ERRORS:
            continue
        if not is_base_url(moved.url):
            continue  # nothing to follow there
        batch.get(peer_id(sender.feed_id), lambda: sender).announce_move(moved.url, entry.seq)
        return
