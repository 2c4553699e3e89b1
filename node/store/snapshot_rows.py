"""Only the latest snapshot of each aggregate is kept (SQLite and PostgreSQL).

A snapshot holds the whole aggregate, and an aggregate that only grows (an index of records,
a feed) is snapshotted again at each interval: kept, every snapshot would make the store grow
with the square of the aggregate's size, while a load reads only the latest. So the snapshots'
recorders delete an aggregate's older snapshots once a later one is stored, in a transaction
of their own after it: if that fails, the older rows merely stay until the next snapshot, and
a load never misses a snapshot it would have read. A load of a version older than the latest
snapshot (eventsourcing's `Repository.get(version=)`) replays the events from the first: the
same aggregate, read more slowly. A store written before keeps its older snapshots until each
aggregate's next one is stored. The in-memory store keeps them all, for the process's life.
"""

from __future__ import annotations

from collections.abc import Iterable
from uuid import UUID

from eventsourcing.persistence import StoredEvent


def latest_versions(snapshots: Iterable[StoredEvent]) -> list[tuple[UUID, int]]:
    """Each aggregate of these snapshots, with the latest version among them."""
    latest: dict[UUID, int] = {}
    for snapshot in snapshots:
        aggregate_id = UUID(str(snapshot.originator_id))
        latest[aggregate_id] = max(latest.get(aggregate_id, 0), snapshot.originator_version)
    return list(latest.items())
