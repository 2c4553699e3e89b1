"""What a read model kept in memory reads to catch up: the store's notifications of some
topics after the last one it saw (node/app/decisions_in_force.py, filed_by_state.py)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from eventsourcing.domain import Aggregate
from eventsourcing.utils import get_topic

# Notifications read at once while catching up.
PAGE = 500


def event_topics(cls: type[Aggregate]) -> tuple[str, ...]:
    """The topics of the events of an aggregate class and of the classes it derives from, as
    the store names them."""
    classes = {
        event
        for ancestor in cls.__mro__
        for event in vars(ancestor).values()
        if isinstance(event, type) and issubclass(event, Aggregate.Event)
    }
    return tuple(sorted(get_topic(event) for event in classes))


def notified_since(recorder: Any, start: int, top: int, topics: tuple[str, ...]) -> Iterator[Any]:
    """The notifications of `topics` from `start` to `top`, both included, read PAGE at a time."""
    while start <= top:
        found = recorder.select_notifications(start, PAGE, stop=top, topics=topics)
        yield from found
        if len(found) < PAGE:
            return
        start = found[-1].id + 1
