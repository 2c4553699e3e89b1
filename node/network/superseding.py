"""Taking a peer's superseding rotation (PROTOCOL.md 6.1): which pushed entry resolves a stopped
feed's fork, what a pulled run from a stopped feed may start with, and what the intake records
and keeps apart when a run starts with one (the entries it drops, as evidence)."""

from __future__ import annotations

from collections.abc import Sequence

from federation.feed import KeyEpoch
from federation.verify import (
    HashAt,
    Reason,
    Rejected,
    Supersedes,
    check_superseding,
    decode_entry,
    decode_signed_entry,
)
from federation.wire import ROTATION, Entry, SignedEntry
from node.network.feeds import PeerFeed, dropped_entries_key
from node.network.peers import Peer
from node.store.recorders import EntryRow, SupersededRows


def _fork_seq(peer: Peer) -> int:
    return peer.equivocation_seq if peer.equivocation_seq is not None else -1


def superseding_in_push(
    peer: Peer, feed: PeerFeed, entries: Sequence[SignedEntry], hash_at: HashAt
) -> tuple[Supersedes, Sequence[SignedEntry]]:
    """The superseding rotation that resolves a stopped feed's fork (at or before the fork's
    seq) among pushed entries, checked, and the entries after it; refuses the push as
    `feed_stopped` if there is none, saying why."""
    fork = _fork_seq(peer)
    why = "nothing more is taken but a rotation that supersedes the fork"
    for index, signed in enumerate(entries):
        try:
            entry = decode_entry(signed)
            if entry.type == ROTATION and 0 < entry.seq <= fork:
                return check_superseding(feed.state, signed, hash_at), entries[index + 1 :]
        except Rejected as refused:
            why = f"its rotation was refused ({refused})"
            break
    raise Rejected(Reason.FEED_STOPPED, f"this feed equivocated; {why}")


def check_stopped_run(peer: Peer, first: Entry | None) -> None:
    """From a stopped feed, a pulled run is taken only if it starts with a superseding rotation
    at or before the fork's seq; refuses it as `feed_stopped` otherwise."""
    if first is None or first.type != ROTATION or not first.seq <= _fork_seq(peer):
        raise Rejected(Reason.FEED_STOPPED, "this feed equivocated; nothing more is taken")


def record_superseding(sender: Peer, feed: PeerFeed, first: Entry, row: EntryRow) -> SupersededRows:
    """Record on the sender that `first`, a superseding rotation stored as `row`, drops the
    entries held from its seq on (once, however often the run is tried: the event stays
    pending on the sender until saved); returns the rows to keep apart, under the evidence
    key."""
    rotation = row[2]  # the encoded signed entry
    evidence = dropped_entries_key(decode_signed_entry(rotation).hash)
    if (sender.superseded_seq, sender.superseded_rotation) != (first.seq, rotation):
        sender.record_superseded(first.seq, rotation, feed.next_seq - first.seq, evidence)
    return (feed.feed_id, first.seq, evidence)


def key_events(entries: Sequence[Entry]) -> list[KeyEpoch]:
    """The rotations among a run's entries, as the key epochs they start."""
    return [
        KeyEpoch(entry.seq, entry.keys.current, entry.keys.next_digest)
        for entry in entries
        if entry.type == ROTATION and entry.keys is not None
    ]
