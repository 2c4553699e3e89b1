"""Taking back the node's own feed from its peers after a restore (PROTOCOL.md 10.6).

A node restored from a backup may lack entries it published after the backup was taken; its
peers hold them. Signing again at those seqs would fork its feed (its peers would stop it for
ever), so a restored node holds back (`OwnFeedWriter.hold_back`: every signing raises
`FeedBehind`) until it has asked its peers for their copies of its feed, verified every entry
and body, and stored what its store lacked, with a logbook event (`OwnFeed.TookBack`).

`restore` leaves the flag file `TAKE_BACK_FILE` in the data folder (a backup carries it as a
member, so a backup unpacked by hand leaves it too); the node holds back while it is there,
and removes it once the take-back is stored. Only the feed and its bodies come back: the
circle's own records made between the backup and the restore are not rebuilt from them, with
one exception: an erasure (`person.erased`) among them is carried out here again, so that a
restore never brings back personal data that was erased.
"""

from __future__ import annotations

import contextlib
import logging
from collections import Counter
from collections.abc import Awaitable, Callable, Collection, Sequence
from pathlib import Path
from typing import Any
from uuid import UUID

from domain.member_aims import member_aims_id
from federation.client import FederationClient, TransportError
from federation.feed import node_id
from federation.pages import verify_own_copy
from federation.verify import (
    Equivocation,
    Reason,
    Rejected,
    decode_entry,
    decode_signed_entry,
)
from federation.wire import MAX_PAGE_ENTRIES, ROTATION, FeedPage, encode
from node.network.messages import PERSON_ERASED, PersonErased, decode_body
from node.network.own_feed import OwnFeedWriter
from node.network.peers import Peer
from node.store.application import NodeStore
from node.store.recorders import BodyRow, EntryRow

log = logging.getLogger("circle_node.take_back")

TAKE_BACK_FILE = "take-back.pending"
FLAG_TEXT = (
    "This node's store was restored from a backup and may lack entries it had already "
    "published. At its next start the node takes them back from its peers before it signs "
    "anything new; this file is removed once it has. Do not remove it by hand.\n"
)
HELD_BACK = (
    "This circle's node was restored from a backup and is taking back, from its peers, what "
    "it had already shared with other circles; until it has, nothing that other circles must "
    "hear of can be done here. Try again in a few minutes."
)
NO_PEER = (
    "This circle's node was restored from a backup and cannot yet take back what it had "
    "shared with other circles: no peer could be reached. It keeps trying; until then nothing "
    "that other circles must hear of can be done here. If no peer can be reached, the node's "
    "operator can run `circle-node recover`."
)
NOT_ALL = (
    "This circle's node was restored from a backup and is taking back what it had shared "
    "with other circles: it waits until every peer has answered, since one it could not ask "
    "may hold more of its feed. If a peer is gone for good, the node's operator can remove it "
    "(`circle-node peer remove`) or run `circle-node recover`."
)
FORKED = (
    "This circle's node was restored from a backup, and its peers hold entries of its feed "
    "that differ from its own: its feed has already forked. Nothing that other circles must "
    "hear of can be done here until the node's operator runs `circle-node recover`."
)
ROTATED = (
    "This circle's node was restored from a backup taken before its last key rotation: its "
    "key file cannot sign its feed. Nothing that other circles must hear of can be done here "
    "until the node's operator restores a backup taken after that rotation (`circle-node "
    "recover` cannot help: the key file lacks the key the feed is committed to)."
)

Answer = tuple[str, list[FeedPage]]  # a peer's name and the pages of its held copy
# The pages of one peer's copy read in a round before they are verified and stored.
ROUND_PAGES = 8


class TakeBack:
    """Whether the node must take its own feed back before it signs, and doing it."""

    def __init__(
        self,
        store: NodeStore,
        feed: OwnFeedWriter,
        known_types: Collection[str],
        flag: Path | None,
    ) -> None:
        self._store = store
        self._feed = feed
        self._known_types = known_types
        self._flag = flag
        self.status = ""  # what the node says of it (healthz, the members' banner)
        if flag is not None and flag.exists() and feed.is_federated:
            feed.hold_back(HELD_BACK)
            self.status = HELD_BACK

    @property
    def pending(self) -> bool:
        return self._feed.held_back is not None

    def taken_back_elsewhere(self) -> bool:
        """Whether another process serving this store took the feed back (it removes the flag
        once what it took back is stored, or once it found nothing to take): then this one
        signs again too. Asked, while pending, by the processes that leave the take-back to
        the one holding the lease (node/network/deliveries.py)."""
        if self._flag is None or self._flag.exists():
            return False
        self._feed.release()
        self.status = ""
        return True

    def base(self) -> int:
        """Where peers are asked from: the entry before the last one the store holds, so that
        a peer holding another entry at the last seq shows a fork already made."""
        return max(0, self._feed.own_feed().head - 1)

    def none_reached(self, not_asked: Sequence[str]) -> None:
        """No peer answered: stay held back, and say so."""
        self._hold(NO_PEER)
        log.warning(
            "cannot take back this node's own feed after a restore: no peer could be reached "
            "(%s); nothing will be signed until one can, or the operator runs "
            "`circle-node recover`",
            "; ".join(not_asked) or "no peers known",
        )

    def not_all_reached(self, not_asked: Sequence[str]) -> None:
        """Some peers answered, others could not be asked: stay held back until every one has
        (a peer not asked may hold more of the feed than those that answered)."""
        self._hold(NOT_ALL)
        log.warning(
            "taking back this node's own feed after a restore waits for every peer; not "
            "reached: %s",
            "; ".join(not_asked),
        )

    def nobody_holds_it(self) -> None:
        """The node knows no peer: no node it knows holds its feed, and there is nothing to
        take back; it signs again."""
        log.warning(
            "restored from a backup that knows no peer: nothing to take back. If this circle "
            "exchanged feeds with other nodes after the backup was taken, its next entries "
            "fork its feed at those nodes; `circle-node recover` repairs that"
        )
        if self._flag is not None:
            self._flag.unlink(missing_ok=True)
        self._feed.release()
        self.status = ""

    def take(
        self, answers: Sequence[Answer], not_asked: Sequence[str] = (), more: bool = False
    ) -> int:
        """Verify the peers' copies of the own feed, store every entry and body the store
        lacks with the logbook's event in one save, and sign again; returns how many entries
        came back. A peer whose copy does not verify is left out; one whose copy differs from
        another's or from the store's shows a fork: the node stays held back. `more`: a copy
        was cut short (a round reads at most `ROUND_PAGES` pages of each peer): what verified
        is stored, and the node stays held back for the next round."""
        if not answers:
            self.none_reached(not_asked)
            return 0
        own = self._feed.own_feed()
        feed_id = own.feed_id
        state = own.state
        first = state.next_seq
        taken: dict[int, tuple[bytes, bytes]] = {}  # seq -> (entry hash, encoded signed entry)
        audiences: dict[bytes, list[bytes]] = {}  # body hash -> the audience of its entry
        bodies: dict[bytes, bytes] = {}
        types: Counter[str] = Counter()
        rotations: list[int] = []
        peers: list[str] = []

        def hash_at(seq: int) -> bytes | None:
            if seq in taken:
                return taken[seq][0]
            if seq == 0:
                return feed_id
            raws = self._store.feeds.select_entries(feed_id, seq - 1, 1)
            return decode_signed_entry(raws[0]).hash if raws else None

        for name, pages in answers:
            verified = 0  # pages of this peer's copy that verified (they stand)
            try:
                for page in pages:
                    if page.feed != feed_id:
                        raise Rejected(Reason.WRONG_FEED, "a page of another feed")
                    state, new, signed, kept = verify_own_copy(
                        state, page.entries, page.bodies, self._known_types, hash_at
                    )
                    for entry, item in zip(new, signed, strict=True):
                        taken[entry.seq] = (item.hash, encode(item))
                        types[entry.type] += 1
                        if entry.type == ROTATION:
                            rotations.append(entry.seq)
                        if entry.body_hash:
                            audiences[entry.body_hash] = list(entry.audience)
                    bodies.update(kept)
                    verified += 1
            except Equivocation as fork:
                self._hold(FORKED)
                log.error(
                    "%s holds another entry of this node's feed at seq %d: the feed has "
                    "forked; run `circle-node recover`",
                    name,
                    fork.fork_seq,
                )
                return 0
            except Rejected as rejected:
                log.warning("%s's copy of this node's feed does not verify: %s", name, rejected)
            if verified or not pages:  # an empty copy is an answer too: it holds no more
                peers.append(name)
        if not peers:
            self.none_reached([*not_asked, *(name for name, _ in answers)])
            return 0
        missing = sum(1 for digest in audiences if digest not in bodies)
        erasures = _erasures(taken, bodies)
        own.take_back(first, state, rotations, dict(types), peers, missing, len(erasures))
        entries: list[EntryRow] = [(feed_id, seq, raw) for seq, (_, raw) in sorted(taken.items())]
        rows: list[BodyRow] = [
            self._store.body_row(body, audiences[digest], digest)
            for digest, body in bodies.items()
            if digest in audiences
        ]
        # An erasure the node published after the backup: its effect here, as `erase_person`
        # had it (the bodies of ours that named the person, their personal details and their
        # aims and development goals), is
        # undone by the restore; it is done again in the same save (after the rows it stores,
        # so also of the bodies taken back), so that a restore never brings erased data back.
        self._store.save(
            own,
            entries=entries,
            bodies=rows,
            erase_bodies=[digest for _, named in erasures for digest in named],
            erase_events=[
                erased
                for person, _ in erasures
                for erased in (UUID(person), member_aims_id(person))
            ],
        )
        log.info(
            "took back %d entries of this node's own feed (seq %d to %d) from %s%s",
            len(taken),
            first,
            state.next_seq - 1,
            ", ".join(peers),
            f"; {missing} bodies no peer held" if missing else "",
        )
        if more:
            return len(taken)  # the rest next round, from where the store now ends
        keys = self._feed.keys
        if keys is not None and own.key != keys.current_public:
            self._hold(ROTATED)
            log.error("the feed was rotated after this backup was taken: its keys cannot sign it")
            return len(taken)
        if self._flag is not None:
            self._flag.unlink(missing_ok=True)
        self._feed.release()
        self.status = ""
        return len(taken)

    def superseded(self) -> None:
        """The operator recovered the feed with a superseding rotation (`circle-node recover`,
        PROTOCOL.md 6.1): peers drop whatever they hold after it, so nothing is to be taken
        back; the node signs again."""
        if self._flag is not None:
            self._flag.unlink(missing_ok=True)
        self._feed.release()
        self.status = ""

    def _hold(self, reason: str) -> None:
        self._feed.hold_back(reason)
        self.status = reason


def _erasures(
    taken: dict[int, tuple[bytes, bytes]], bodies: dict[bytes, bytes]
) -> list[tuple[str, list[bytes]]]:
    """The people whose erasure (`person.erased`) is among the entries taken back, with the
    hashes of the bodies it erased: (person id, hashes), once per person."""
    found: dict[str, list[bytes]] = {}
    for _, raw in taken.values():
        entry = decode_entry(decode_signed_entry(raw))
        body = bodies.get(entry.body_hash) if entry.type == PERSON_ERASED else None
        erased = decode_body(PERSON_ERASED, body) if body is not None else None
        if isinstance(erased, PersonErased):
            with contextlib.suppress(ValueError):  # not a person id this node could hold
                found.setdefault(str(UUID(erased.person)), []).extend(erased.bodies)
    return list(found.items())


async def take_back_from_peers(
    take_back: TakeBack,
    peers: Sequence[Peer],
    client: FederationClient,
    in_thread: Callable[..., Awaitable[Any]],
) -> bool:
    """Ask every peer for its copy of the own feed and take back what it lacks; True when
    done (the node signs again)."""
    if not peers:
        await in_thread(take_back.nobody_holds_it)
        return True
    while True:
        base: int = await in_thread(take_back.base)
        answers: list[Answer] = []
        not_asked: list[str] = []
        more = False
        for peer in peers:
            name = peer.name or node_id(peer.feed_id)
            try:
                pages, whole = await _held_pages(client, peer.url, base)
            except TransportError as error:
                not_asked.append(f"{name}: {error}")
                continue
            answers.append((name, pages))
            more = more or not whole
        if not_asked:
            log.warning("could not ask for this node's own feed: %s", "; ".join(not_asked))
            if answers:
                await in_thread(take_back.not_all_reached, not_asked)
                return False
        taken: int = await in_thread(take_back.take, answers, not_asked, more)
        if not (more and taken):  # done, held back, or a copy cut short that brought nothing
            return not take_back.pending


async def _held_pages(
    client: FederationClient, url: str, after: int
) -> tuple[list[FeedPage], bool]:
    """A peer's held copy of the own feed after `after`, page by page, at most `ROUND_PAGES`
    pages (each within 8 MiB), so that a peer claiming a head it never reaches cannot make
    this node buffer without end; and whether that is the whole copy."""
    pages: list[FeedPage] = []
    while len(pages) < ROUND_PAGES:
        page = await client.held_copy(url, after, MAX_PAGE_ENTRIES)
        if not page.entries:
            return pages, True
        pages.append(page)
        after += len(page.entries)
        if after >= page.head:
            return pages, True
    return pages, False
