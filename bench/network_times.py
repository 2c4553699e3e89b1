"""When a co-op's policy was saved, and when each member circle committed it, read from the
stores once the hosts have stopped: the co-op's signed entry (its time, as its clock said) and
each member circle's view of the co-op's records (the event that took the entry, as its host's
clock said)."""

from __future__ import annotations

import statistics
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bench.network_setup import COOP_SLUG, HostPlan
from federation.verify import decode_entry
from federation.wire import MAX_PUSH_BYTES, Push, encode
from node.app.node import CircleNode
from node.app.peer_view import peer_view_id
from node.cli.opening import opened
from node.network.messages import DECISION_RECORD
from node.network.outbox import PUSH_BATCH


@dataclass(frozen=True)
class PolicyTimes:
    """Seconds from the policy's save to each member circle's commit of it."""

    delays: list[float]
    members: int
    push_bytes: int  # the push that carries the policy to one member circle, MessagePack

    @property
    def committed(self) -> int:
        return len(self.delays)

    @property
    def first_s(self) -> float | None:
        return min(self.delays) if self.delays else None

    @property
    def median_s(self) -> float | None:
        return statistics.median(self.delays) if self.delays else None

    def percentile_s(self, percentile: int) -> float | None:
        if not self.delays:
            return None
        ordered = sorted(self.delays)
        return ordered[min(len(ordered) - 1, len(ordered) * percentile // 100)]

    @property
    def last_s(self) -> float | None:
        """The last member circle's: None unless every member circle committed it."""
        return max(self.delays) if self.delays and len(self.delays) == self.members else None


def saved_at(coop: CircleNode, after: int) -> float:
    """The time (Unix seconds) of the co-op's first `decision.record` after seq `after`."""
    for signed in coop.feed.own_entries(after, 100):
        entry = decode_entry(signed)
        if entry.type == DECISION_RECORD:
            return entry.time / 1000
    raise RuntimeError(f"the co-op published no decision after seq {after}")


def push_bytes(coop: CircleNode, after: int, member: bytes) -> int:
    """The size of the push that carries the co-op's entries after seq `after` (the policy) to
    one member circle: the message its outbox sends, without the HTTP around it."""
    entries, bodies = coop.feed.run(after, PUSH_BATCH, member, MAX_PUSH_BYTES)
    return len(encode(Push(coop.feed.feed_id, entries, bodies)))


def committed_at(member: CircleNode, coop_feed: bytes, decision: str) -> float | None:
    """When the member circle's view of the co-op's records first held the decision (Unix
    seconds); None if it never did."""
    events: list[Any] = list(member.store.events.get(peer_view_id(coop_feed), desc=True, limit=50))
    first: datetime | None = None
    for stored in events:
        decisions = getattr(stored, "decisions", None)
        if decisions is None:
            continue
        if any(each.get("decision_id") == decision for each in decisions):
            first = stored.timestamp  # newest first: the last one found took it
    return first.timestamp() if first is not None else None


def policy_times(plans: list[HostPlan], decision: str, coop_head: int) -> PolicyTimes:
    *member_hosts, coop_host = plans
    with opened(coop_host.folder, circle=COOP_SLUG) as (coop, _):
        saved = saved_at(coop, coop_head)
        coop_feed = coop.feed.feed_id
        some_member = coop.peering.peers()[0].feed_id
        size = push_bytes(coop, coop_head, some_member)
    delays = []
    members = 0
    for plan in member_hosts:
        for slug in plan.slugs:
            members += 1
            with opened(plan.folder, circle=slug) as (member, _):
                at = committed_at(member, coop_feed, decision)
            if at is not None:
                delays.append(at - saved)
    return PolicyTimes(delays, members, size)
