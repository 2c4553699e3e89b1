"""The node's own feed: its inception, the entries its changes cause (signed as they are saved),
key rotation, and what it serves: pages of entries with the bodies a reader may read, single
bodies, its descriptor, and a join request with the feed up to it."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime

from eventsourcing.application import AggregateNotFoundError
from eventsourcing.domain import Aggregate

from federation.feed import next_entry, node_id
from federation.keys import NodeKeys
from federation.verify import decode_signed_entry
from federation.wire import (
    BODY_REF_DECODER,
    JOIN_REQUEST,
    MAX_PAGE_BYTES,
    MAX_PUSH_BYTES,
    PROTOCOL_VERSION,
    SIGNATURE_SIZE,
    BodyRef,
    FeedPage,
    JoinRequest,
    NodeDescriptor,
    NodeMoved,
    Push,
    SignedEntry,
    encode,
    is_base_url,
)
from node.network.batch import Outgoing
from node.network.feeds import OWN_FEED_ID, OwnFeed, dropped_entries_key
from node.store.application import NodeStore
from node.store.recorders import BodyRow, EntryRow
from node.store.retry import retry_on_conflict

# An unknown node sends its feed from the inception up to its join request (its last entry).
MAX_JOIN_ENTRIES = 50
MESSAGE_OVERHEAD = 1024  # room for a page's or push's own framing


class IdentityError(Exception):
    """The node's keys and its feed disagree; it must not sign anything."""


class FeedBehind(Exception):
    """The node's store may lack entries it already published (it was restored from a
    backup): it signs nothing until it has taken them back from its peers. The message is
    the sentence members and operators read."""


def millis(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


class OwnFeedWriter:
    """The node's own feed, signed with its keys (none: a node that is not federated)."""

    def __init__(
        self, store: NodeStore, keys: NodeKeys | None, clock: Callable[[], datetime]
    ) -> None:
        self._store = store
        store.own_feed_id = OWN_FEED_ID  # its appends tell the processes serving the store
        self.keys = keys
        self._clock = clock
        self._feed_id: bytes | None = None
        self.held_back: str | None = None  # why it may not sign now (FeedBehind)
        # Asked after the own feed is loaded and before each signing: why this node may not
        # sign here for good (a circle that left its host, node/host/leaving.py), or None.
        self.gate: Callable[[], str | None] = lambda: None
        if keys is not None:
            self._ensure_inception(keys)

    def _ensure_inception(self, keys: NodeKeys) -> None:
        try:
            own = self.own_feed()
        except AggregateNotFoundError:
            own, inception = OwnFeed.incept(keys, millis(self._clock()))
            self._store.save(own, entries=[(own.feed_id, 0, encode(inception))])
        if own.key != keys.current_public:
            raise IdentityError(
                "The node's key file does not hold the key its feed is signed with; "
                "restore the right node.keys from a backup"
            )

    def own_feed(self) -> OwnFeed:
        own: Aggregate = self._store.kept.copy(OWN_FEED_ID)
        if not isinstance(own, OwnFeed):
            raise AggregateNotFoundError(OWN_FEED_ID)
        return own

    def hold_back(self, reason: str) -> None:
        """Sign nothing until `release`: every signing raises FeedBehind(reason)."""
        self.held_back = reason

    def release(self) -> None:
        self.held_back = None

    def _check_may_sign(self) -> None:
        if self.held_back is not None:
            raise FeedBehind(self.held_back)

    def _check_gate(self) -> None:
        """Called with the own feed loaded: a signing that raced what closed the gate either
        conflicts with the entry saved meanwhile (and, retried, lands here again) or stops."""
        closed = self.gate()
        if closed is not None:
            raise IdentityError(closed)

    @property
    def is_federated(self) -> bool:
        """Whether the node has keys: a feed of its own, and peers."""
        return self.keys is not None

    @property
    def feed_id(self) -> bytes:
        # A feed's id is the hash of its inception: it never changes once there is one.
        if self._feed_id is None:
            self._feed_id = self.own_feed().feed_id
        return self._feed_id

    @property
    def node_id(self) -> str:
        return node_id(self.feed_id)

    def sign(self, outgoing: Sequence[Outgoing]) -> tuple[OwnFeed, list[EntryRow], list[BodyRow]]:
        """Append the entries a change causes: the own feed to save with the change, and the
        rows of the entries and of their bodies (federation.feed.WontSign if peers would
        refuse one)."""
        assert self.keys is not None
        self._check_may_sign()
        own = self.own_feed()
        self._check_gate()
        now = millis(self._clock())
        first = own.next_seq
        signed = own.append_all(self.keys, [(i.type, i.body, i.audience) for i in outgoing], now)
        entries: list[EntryRow] = []
        bodies: list[BodyRow] = []
        for seq, (item, entry) in enumerate(zip(outgoing, signed, strict=True), first):
            entries.append((own.feed_id, seq, encode(entry)))
            if item.body:
                bodies.append(self._store.body_row(item.body, item.audience))
        return own, entries, bodies

    def rotate_key(self, stage: Callable[[NodeKeys], None]) -> NodeKeys:
        """Rotate to the pre-committed key. `stage` stores the new keys before the rotation
        entry is saved (so that a crash never leaves a feed signed by keys nobody has)."""
        if self.keys is None:
            raise IdentityError("This node has no keys")
        self._check_may_sign()
        own = self.own_feed()
        self._check_gate()
        signed, new_keys = own.rotate(self.keys, millis(self._clock()))
        stage(new_keys)
        self._store.save(own, entries=[(own.feed_id, own.head, encode(signed))])
        self.keys = new_keys
        return new_keys

    def check_can_supersede(self) -> OwnFeed:
        """The own feed, if this node's keys can sign a superseding rotation of it: its key
        file holds the key the feed is committed to. IdentityError if not (a backup taken
        before the feed's latest rotation, PROTOCOL.md 6.1)."""
        if self.keys is None:
            raise IdentityError("This node has no keys")
        own = self.own_feed()
        self._check_gate()
        if self.keys.current_public != own.key or self.keys.next_digest != own.next_digest:
            raise IdentityError(
                "This node's key file does not hold the key its feed is committed to (it was "
                "backed up before the feed's latest key rotation), so it cannot recover the "
                "feed; restore a backup taken after that rotation"
            )
        return own

    def supersede(
        self,
        after: int,
        stage: Callable[[NodeKeys], None],
        also: Sequence[Aggregate] = (),
    ) -> SignedEntry:
        """Recover the feed (PROTOCOL.md 6.1): sign a superseding rotation with the
        pre-committed next key right after own entry `after`. The own entries after `after`
        are moved apart (kept as evidence) in the same save as the rotation and `also` (the
        delivery cursors, rewound). `stage` stores the new keys before the save."""
        own = self.check_can_supersede()
        assert self.keys is not None  # checked
        if not 0 <= after <= own.head:
            raise ValueError(f"This feed's entries are 0 to {own.head}; {after} is not one")
        after_hash = self.feed_id if after == 0 else self.own_entries(after - 1, 1)[0].hash
        signed, new_keys = own.supersede(self.keys, after, after_hash, millis(self._clock()))
        stage(new_keys)
        self._store.save(
            own,
            *also,
            entries=[(own.feed_id, after + 1, encode(signed))],
            superseded=[(own.feed_id, after + 1, dropped_entries_key(signed.hash))],
        )
        self.keys = new_keys
        return signed

    def own_entries(self, after: int, limit: int) -> list[SignedEntry]:
        """Own entries with seq > `after`, oldest first (the inception is seq 0)."""
        return [
            decode_signed_entry(raw)
            for raw in self._store.feeds.select_entries(self.feed_id, after, limit)
        ]

    def inception(self) -> SignedEntry:
        (raw,) = self._store.feeds.select_entries(self.feed_id, -1, 1)
        return decode_signed_entry(raw)

    def descriptor(self, name: str, url: str) -> NodeDescriptor:
        own = self.own_feed()
        return NodeDescriptor(PROTOCOL_VERSION, own.feed_id, self.inception(), own.head, name, url)

    def page(self, after: int, limit: int, reader: bytes | None) -> FeedPage:
        """Own entries after `after`, with the bodies `reader` (a feed id, or anyone) may read,
        within the page's byte limit."""
        entries, bodies = self.run(after, limit, reader, MAX_PAGE_BYTES)
        own: OwnFeed = self._store.kept.peek(OWN_FEED_ID)  # read only: no copy
        return FeedPage(self.feed_id, entries, bodies, own.head)

    def run(
        self, after: int, limit: int, reader: bytes | None, max_bytes: int
    ) -> tuple[list[SignedEntry], list[bytes]]:
        """Own entries after `after` with the bodies `reader` may read, cut short before the
        encoded message would pass `max_bytes` (always at least one entry)."""
        entries, bodies, _ = self._run(after, limit, reader, max_bytes - MESSAGE_OVERHEAD)
        return entries, bodies

    def runs(
        self, after: int, limit: int, readers: Sequence[bytes], max_bytes: int
    ) -> dict[bytes, tuple[list[SignedEntry], list[bytes]]]:
        """`run` for each of `readers` (peers that stand at the same seq): the entries and the
        bodies read from the store once for all of them."""
        entries = self.own_entries(after, limit)
        refs = _body_refs(entries)
        wanted = {
            ref.body_hash
            for ref in refs
            if ref.body_hash and any(_readable(ref, reader) for reader in readers)
        }
        stored = self._store.stored_data(list(wanted))
        budget = max_bytes - MESSAGE_OVERHEAD
        runs = {}
        for reader in readers:
            kept, bodies, _ = _cut(entries, refs, stored, reader, budget)
            runs[reader] = (kept, bodies)
        return runs

    def _run(
        self, after: int, limit: int, reader: bytes | None, budget: int
    ) -> tuple[list[SignedEntry], list[bytes], int]:
        """`run` within `budget` bytes for the entries and bodies; also returns what is left of
        the budget."""
        entries = self.own_entries(after, limit)
        refs = _body_refs(entries)
        stored = self._store.stored_data(
            [ref.body_hash for ref in refs if ref.body_hash and _readable(ref, reader)]
        )
        return _cut(entries, refs, stored, reader, budget)

    def body_for(self, digest: bytes, reader: bytes | None) -> bytes | None:
        """A stored body if `reader` may read it; None if unknown, PermissionError if not theirs."""
        stored = self._store.stored_bodies([digest]).get(digest)
        if stored is None:
            return None
        data, audience = stored
        if audience and reader not in audience:
            raise PermissionError("This body is for its audience only")
        return data

    @retry_on_conflict  # the node may be serving, and appending, in another process
    def announce_url(self, url: str) -> int:
        """Append a public `node.moved` entry: this node is served at `url` from now on (its
        peers follow once that URL serves this feed up to the entry). Returns its seq."""
        if self.keys is None:
            raise IdentityError("This node has no keys")
        self._check_may_sign()
        own = self.own_feed()
        self._check_gate()
        if url == own.url:
            raise ValueError(f"This node's feed already says it is served at {url}")
        if not is_base_url(url):
            raise ValueError(f"{url!r} is not a node's base URL (http:// or https://)")
        body = encode(NodeMoved(url))
        signed = own.move(self.keys, url, body, millis(self._clock()))
        self._store.save(
            own,
            entries=[(own.feed_id, own.head, encode(signed))],
            bodies=[self._store.body_row(body, [])],
        )
        return own.head

    def check_join(self, to: bytes, url: str, name: str, message: str) -> None:
        """Refuse (ValueError) a join request that `ask_to_join` could not send now, before
        anything is signed, stored or recorded about node `to`."""
        body = encode(JoinRequest(to, url, name, message))
        self._join_run(self.own_feed(), to, body, millis(self._clock()))

    def ask_to_join(self, to: bytes, url: str, name: str, message: str) -> Push:
        """Append a join request addressed to node `to`; returns the push that carries it (this
        node's feed from the inception up to the request, with the request's body). A request
        the push could not carry whole is refused before it is signed."""
        body = encode(JoinRequest(to, url, name, message))
        own = self.own_feed()
        now = millis(self._clock())
        entries, bodies = self._join_run(own, to, body, now)
        assert self.keys is not None  # _join_run refuses a node without keys
        signed = own.append(self.keys, JOIN_REQUEST, body, now, [to])
        self._store.save(
            own,
            entries=[(own.feed_id, own.head, encode(signed))],
            bodies=[self._store.body_row(body, [to])],
        )
        return Push(self.feed_id, [*entries, signed], [*bodies, body])

    def _join_run(
        self, own: OwnFeed, to: bytes, body: bytes, now: int
    ) -> tuple[list[SignedEntry], list[bytes]]:
        """The feed up to a join request with `body` signed at `now`, without it, with the
        bodies `to` may read; ValueError if the push could not carry all of it."""
        if self.keys is None:
            raise IdentityError("This node has no keys")
        if to == self.feed_id:
            raise ValueError("A node does not ask itself to join")
        self._check_may_sign()
        self._check_gate()
        if own.next_seq + 1 > MAX_JOIN_ENTRIES:  # seq 0 .. the request, all sent
            raise ValueError(
                f"This node's feed is longer than {MAX_JOIN_ENTRIES} entries; ask a node that "
                "knows it to introduce it instead"
            )
        # The request's size is known before it is signed: an Ed25519 signature is 64 bytes.
        request = encode(next_entry(own.state, JOIN_REQUEST, body, now, [to]))
        entries, bodies, budget = self._run(
            -1, MAX_JOIN_ENTRIES, to, MAX_PUSH_BYTES - MESSAGE_OVERHEAD
        )
        if len(entries) < own.next_seq or _wire_size(request, body) > budget:
            raise ValueError(
                "This node's feed is too large to send with a join request; ask a node that "
                "knows it to introduce it instead"
            )
        return entries, bodies


def _body_refs(entries: Sequence[SignedEntry]) -> list[BodyRef]:
    # Own entries, checked when signed: only what names the body is decoded.
    return [BODY_REF_DECODER.decode(signed.entry) for signed in entries]


def _readable(ref: BodyRef, reader: bytes | None) -> bool:
    return bool(ref.body_hash) and (not ref.audience or reader in ref.audience)


def _cut(
    entries: Sequence[SignedEntry],
    refs: Sequence[BodyRef],
    stored: dict[bytes, bytes],
    reader: bytes | None,
    budget: int,
) -> tuple[list[SignedEntry], list[bytes], int]:
    """The entries with the bodies `reader` may read, cut short before they pass `budget`
    bytes (always at least one entry); also returns what is left of the budget."""
    kept: list[SignedEntry] = []
    bodies: list[bytes] = []
    for signed, ref in zip(entries, refs, strict=True):
        body = stored.get(ref.body_hash) if _readable(ref, reader) else None
        size = _wire_size(signed.entry, body)
        if kept and size > budget:
            break
        budget -= size
        kept.append(signed)
        if body is not None:
            bodies.append(body)
    return kept, bodies, budget


def _wire_size(entry: bytes, body: bytes | None) -> int:
    """What a signed entry and its body add to an encoded page or push, at most."""
    return len(entry) + SIGNATURE_SIZE + 16 + (len(body) + 8 if body else 0)
