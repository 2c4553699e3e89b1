"""Who did what a logbook line tells: the id of the person (or linked seat) its event names."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from node.app.event_classes import Circle, HatSelection, Relationship
from node.app.logbook_appeals import APPEAL_ACTORS

# Who did it: the first of these fields an event has (the people's ids; a seat's id for a
# linked seat). Events whose actor sits deeper name it in ACTOR. Facts from other circles
# (a relationship's events) and the calendar's (a review came due, a term ended) name no one.
ACTOR_FIELDS = (
    "by",
    "proposer",
    "taken_by",
    "opened_by",
    "scheduled_by",
    "founder_id",
    "person_id",
)
ACTOR: dict[type[Any], Callable[[Any], str | None]] = {
    HatSelection.Nominated: lambda e: e.nomination.nominator,
    Circle.HatPutOn: lambda e: e.term.person_id,
    Relationship.ConsentRequestAnswered: lambda e: getattr(e, "person", "") or None,
    **APPEAL_ACTORS,
}


def actor_of(event: Any) -> str | None:
    """The id of who did what the event records, where it names them."""
    for cls in type(event).__mro__:
        if cls in ACTOR:
            return ACTOR[cls](event)
    if isinstance(event, Relationship.Event):
        return None
    return next((str(v) for f in ACTOR_FIELDS if (v := getattr(event, f, None))), None)
