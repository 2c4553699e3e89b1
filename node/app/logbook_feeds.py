"""What the circle's logbook says of the feeds: a peer that forked its feed, a peer's key that
leaked, a peer that recovered its feed, and this node's own recovery (PROTOCOL.md 6.1, 7.4).
The members must hear of these, though they are the transport's bookkeeping; and what came
back to this node from its peers after a restore."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from federation.feed import node_id
from node.app.event_classes import OwnFeed, Peer
from node.app.node import CircleNode


def peer_names(node: CircleNode) -> dict[str, str]:
    """Each peer's name and node id, by the id of its record (the events' originator)."""
    return {
        str(peer.id): f"{peer.name or 'A peer'} ({node_id(peer.feed_id)})"
        for peer in node.peering.peers()
    }


def _took_back(e: Any, c: Any) -> str:
    if e.last_seq < e.first_seq:
        came_back = "its peers held no entry of its feed that it lacked"
    else:
        kinds = ", ".join(f"{n} {kind}" for kind, n in sorted(e.types.items()))
        came_back = (
            f"entries {e.first_seq} to {e.last_seq} of its feed came back from "
            f"{', '.join(e.peers)} ({kinds})"
        )
        if e.missing_bodies:
            came_back += f"; {e.missing_bodies} of their bodies no peer held"
        if e.erased_again:
            came_back += (
                f"; the personal data of {e.erased_again} former participant(s), erased after "
                "the backup, was erased again"
            )
    return (
        f"This node was restored from a backup: {came_back}. The circle's own records made "
        "between the backup and the restore are lost; only what those entries told other "
        "circles remains, in the feed"
    )


# Each takes the event and the logbook's context, whose `peer(id)` names a peer.
FEED_EVENTS: dict[type[Any], Callable[[Any, Any], str]] = {
    OwnFeed.TookBack: _took_back,
    Peer.EquivocationRecorded: lambda e, c: (
        f"{c.peer(e.originator_id)} signed two different entries at seq {e.seq} of its feed "
        "(a fork): this node stopped taking its feed, and keeps both entries as proof"
    ),
    Peer.RetiredKeyUsed: lambda e, c: (
        f"An entry at seq {e.seq} of the feed of {c.peer(e.originator_id)} was signed with a "
        "key it has retired since: that key leaked. The entry is kept as evidence; the feed "
        "goes on"
    ),
    Peer.FeedSuperseded: lambda e, c: (
        f"{c.peer(e.originator_id)} recovered its feed with a rotation at seq {e.seq}: its "
        f"entries {e.seq} to {e.seq + e.dropped - 1} held here were dropped (kept as evidence; "
        "what they did here stands)"
    ),
    OwnFeed.Superseded: lambda e, c: (
        f"This node recovered its feed with a rotation at seq {e.seq}: peers drop what it had "
        "signed from there on"
    ),
}
