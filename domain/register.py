"""The register: which circle a node keeps, and an index of its records by kind (proposals,
selections, decisions, meetings, people, relationships, support requests, appeals)."""

from __future__ import annotations

from functools import lru_cache
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate, event

from domain.records import Copied

KINDS = (
    "proposal",
    "selection",
    "decision",
    "meeting",
    "person",
    "relationship",
    "support",
    "plan",
    "appeal",
    "letter",  # mail to send (node/app/mail_queue.py), not a record of the circle
)

# A node keeps one circle, so its register sits at a well-known id from which the node
# finds everything else.
REGISTER_ID = uuid5(NAMESPACE_URL, "circle-node:register")


@lru_cache(maxsize=len(KINDS))
def index_id(kind: str) -> UUID:
    """Where the index of one kind of record sits (worked out once per kind: a command that
    files a record asks twice)."""
    return uuid5(NAMESPACE_URL, f"circle-node:register:{kind}")


class Register(Copied, Aggregate):
    """The circle this node keeps (its id never changes once founded)."""

    @staticmethod
    def create_id(**kwargs: Any) -> UUID:
        return REGISTER_ID

    @event("Opened")
    def __init__(self, circle_id: UUID) -> None:
        self.circle_id = circle_id
        # Records filed here by nodes made before the per-kind indexes (the node moves them
        # to the indexes when it opens such a store): empty for a register opened since.
        self.entries: dict[str, list[UUID]] = {}

    @event("Filed")
    def filed_before_indexes(self, kind: str, record_id: UUID) -> None:
        """How nodes made before the per-kind indexes filed a record (their stores hold
        these events and must still open); a node no longer files anything here."""
        self.entries.setdefault(kind, []).append(record_id)


class Index(Copied, Aggregate):
    """The records of one kind, in the order they were filed: listing them never scans the
    store. One index per kind, so that filing a decision never touches the list of people.

    Filing needs nothing of the index's state, only its version: a node may append a `Filed`
    event at the next version without loading the index (two concurrent filings then
    conflict, as any two changes of one aggregate do)."""

    @staticmethod
    def create_id(kind: str) -> UUID:
        return index_id(kind)

    @event("Opened")
    def __init__(self, kind: str) -> None:
        if kind not in KINDS:
            raise ValueError(f"No index of {kind!r}")
        self.kind = kind
        # Kept as text: a snapshot of thousands of ids then decodes as plain strings.
        self.entries: list[str] = []

    class Filed(Aggregate.Event):
        record_id: UUID

    @event(Filed)
    def file(self, record_id: UUID) -> None:
        self.entries.append(str(record_id))

    def ids(self) -> list[UUID]:
        return [UUID(entry) for entry in self.entries]
