"""Names for the ids the records hold: people, linked seats, and other circles."""

from __future__ import annotations

from domain.consent import circle_seat
from domain.errors import NotFound
from node.app.node import CircleNode

CIRCLE_SEAT = circle_seat("")


class Names:
    """Looks names up once per page: a person's name (kept apart from the record, so it may
    have been erased), a linked circle's seat, or a circle answering a federated round."""

    def __init__(self, node: CircleNode) -> None:
        self.node = node
        self._known: dict[str, str] = {}

    def __call__(self, ref: str | None) -> str:
        if not ref:
            return ""
        if ref not in self._known:
            self._known[ref] = self._look_up(ref)
        return self._known[ref]

    def _look_up(self, ref: str) -> str:
        if ref.startswith(CIRCLE_SEAT):
            return self.circle(ref[len(CIRCLE_SEAT) :])
        if "/" in ref:
            return self.node.relations.seat_name(ref)
        return self.node.records.person_name(ref)

    def circle(self, other: str) -> str:
        try:
            return self.node.relations.relationship(other).name or other
        except NotFound:
            return other
