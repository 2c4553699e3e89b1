"""How exchanges with each peer are going, as delivery saw them since this process started:
pushes and pulls that reached the peer, failures in a row, when the next push is tried; and
what a page shows of it (`PeerContact`, in wall-clock time).

Kept in memory by the Federator (node/network/delivery.py): a restart starts them afresh,
while what is still owed to each peer is durable (the outbox's cursor)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime


@dataclass
class PeerLink:
    """How delivery to one peer is going (kept in memory; the cursor itself is durable).
    Times are read from the Federator's clock (monotonic)."""

    failures: int = 0
    not_before: float = 0.0
    last_error: str = ""
    delivered_at: float | None = None
    # Pulls from the peer that failed in a row (not refusals: errors), and when to try again.
    pull_failures: int = 0
    pull_not_before: float = 0.0
    # When a pull last had an answer from the peer, and pulls that could not reach it since.
    pulled_at: float | None = None
    unreached_pulls: int = 0
    last_pull_error: str = ""


@dataclass(frozen=True)
class PeerContact:
    """What is known of reaching a peer, for people to read."""

    last_contact: datetime | None  # the last push or pull that reached it; None: none yet
    push_failures: int  # pushes in a row that did not reach it (or that it took nothing of)
    pull_failures: int  # pulls in a row that did not reach it, or whose pages were not taken
    last_error: str
    next_push: datetime | None  # when the next push is tried, while backing off

    @property
    def reachable(self) -> bool:
        return self.push_failures == 0 and self.pull_failures == 0


def contact_of(link: PeerLink, clock_now: float, wall_now: float) -> PeerContact:
    """`link` in wall-clock time, `clock_now` on the link's clock being `wall_now`."""

    def wall(at: float | None) -> datetime | None:
        if at is None:
            return None
        return datetime.fromtimestamp(wall_now - (clock_now - at), UTC)

    reached = [at for at in (link.delivered_at, link.pulled_at) if at is not None]
    return PeerContact(
        last_contact=wall(max(reached)) if reached else None,
        push_failures=link.failures,
        pull_failures=max(link.unreached_pulls, link.pull_failures),
        last_error=link.last_error or link.last_pull_error,
        next_push=wall(link.not_before) if link.failures and link.not_before > clock_now else None,
    )
