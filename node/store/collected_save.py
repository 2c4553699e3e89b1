"""The one place the node relies on private parts of eventsourcing's `Application`.

`Application.save` checks every aggregate against a typing Protocol at run time before it
collects its events, which is a large part of a save of many aggregates (bench/RESULTS.md,
"append"), and `ProcessingEvent.collect_events` checks each domain event given alone (an
index's `Filed`, in every command that files a record) against another. The node collects
the events itself, then calls what `Application.save` calls:
`_record` (store the events with the `saved_kwargs` the recorder takes: feed entries and
bodies) and `_notify` (tell followers). tests/node/test_collected_save.py pins both, and
pyproject.toml pins eventsourcing to the minor version they are tested with.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any
from uuid import UUID

from eventsourcing.application import Application, ProcessingEvent
from eventsourcing.domain import Aggregate


def record(
    app: Application[UUID], objs: Sequence[Any], kwargs: Mapping[str, Any]
) -> tuple[ProcessingEvent[UUID], Any]:
    """Store the pending events of `objs` (aggregates, or domain events of their own) in one
    transaction, as `Application.save` does; returns the processing event and the recordings."""
    processing_event: ProcessingEvent[UUID] = ProcessingEvent()
    for obj in objs:
        if isinstance(obj, Aggregate):
            processing_event.events.extend(obj.collect_events())
            processing_event.aggregates[obj.id] = obj
        elif isinstance(obj, Aggregate.Event):
            processing_event.events.append(obj)  # a domain event of its own
        elif obj is not None:
            processing_event.collect_events(obj)  # anything else, as the library takes it
    processing_event.saved_kwargs.update(kwargs)
    return processing_event, app._record(processing_event)


def notify(app: Application[UUID], recordings: Any) -> None:
    """Tell the application's followers about what was recorded, as `Application.save` does."""
    app._notify(recordings)
