"""The register: the proposals, selections, decisions, meetings and people a circle has."""

from __future__ import annotations

from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate, event

KINDS = ("proposal", "selection", "decision", "meeting", "person", "relationship", "support")

# A node keeps one circle, so its register sits at a well-known id from which the node
# finds everything else.
REGISTER_ID = uuid5(NAMESPACE_URL, "circle-node:register")


class Register(Aggregate):
    """An index kept beside the circle so that listing its records never scans the store."""

    @staticmethod
    def create_id(**kwargs: Any) -> UUID:
        return REGISTER_ID

    @event("Opened")
    def __init__(self, circle_id: UUID) -> None:
        self.circle_id = circle_id
        self.entries: dict[str, list[UUID]] = {kind: [] for kind in KINDS}

    @event("Filed")
    def file(self, kind: str, record_id: UUID) -> None:
        self.entries.setdefault(kind, []).append(record_id)

    def ids(self, kind: str) -> list[UUID]:
        return list(self.entries.get(kind, []))
