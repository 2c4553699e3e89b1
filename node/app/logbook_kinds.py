"""The kind of each line of the circle's logbook, from the class of the event it tells: what
the circle is and who takes part in it, its hats, its proposals, decisions and plans, meetings,
appeals, and what came from or went to other circles."""

from __future__ import annotations

from enum import StrEnum
from typing import Any


class LineKind(StrEnum):
    """What a logbook line is about."""

    CIRCLE = "circle"  # the circle itself, its people and their aims
    HATS = "hats"  # hats defined, worn, renewed, taken off; selections; back-stops
    PROPOSALS = "proposals"  # proposals and their consent process
    DECISIONS = "decisions"  # decisions in force, their reviews; budget and plans
    MEETINGS = "meetings"
    APPEALS = "appeals"
    OTHER_CIRCLES = "other_circles"  # relationships, support, peers' feeds, linked records


# By the aggregate whose event it is (the first part of the event class's qualified name).
_KIND_OF_AGGREGATE = {
    "Circle": LineKind.CIRCLE,
    "MemberAims": LineKind.CIRCLE,
    "HatSelection": LineKind.HATS,
    "BackStops": LineKind.HATS,
    "Proposal": LineKind.PROPOSALS,
    "ConsentProcess": LineKind.PROPOSALS,
    "Decision": LineKind.DECISIONS,
    "Plan": LineKind.DECISIONS,
    "Meeting": LineKind.MEETINGS,
    "Appeal": LineKind.APPEALS,
}
# The circle's own events about its hats.
_CIRCLE_HAT_EVENTS = ("Hat",)


def kind_of(event_class: type[Any]) -> LineKind:
    """The kind of a line telling an event of this class (a relationship's, a support
    request's, a peer's or a linked circle's are about other circles; a consent process's are
    about proposals, when the record they belong to is not known: see `LineKinds`)."""
    aggregate, _, name = event_class.__qualname__.partition(".")
    kind = _KIND_OF_AGGREGATE.get(aggregate, LineKind.OTHER_CIRCLES)
    if kind == LineKind.CIRCLE and name.startswith(_CIRCLE_HAT_EVENTS):
        return LineKind.HATS
    return kind


class LineKinds:
    """The kinds of the lines of one reading of the logbook, oldest first. A consent process's
    events are stored as the process's, whether it decides a proposal or a hat selection: they
    take the kind of the record they belong to, known from its first line."""

    def __init__(self) -> None:
        self._records: dict[str, LineKind] = {}

    def __call__(self, event_class: type[Any], record_id: str) -> LineKind:
        if event_class.__qualname__.startswith("ConsentProcess."):
            return self._records.get(record_id, LineKind.PROPOSALS)
        kind = kind_of(event_class)
        self._records.setdefault(record_id, kind)
        return kind
