"""What the circle's logbook says of the feeds: a peer that forked its feed, a peer's key that
leaked, a peer that recovered its feed, and this node's own recovery (PROTOCOL.md 6.1, 7.4).
The members must hear of these, though they are the transport's bookkeeping."""

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


# Each takes the event and the logbook's context, whose `peer(id)` names a peer.
FEED_EVENTS: dict[type[Any], Callable[[Any, Any], str]] = {
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
