"""What node/store/collected_save.py relies on of eventsourcing's private `Application` API.

The node saves by collecting the aggregates' events itself and calling what `Application.save`
calls: `_record(processing_event)` and `_notify(recordings)`. If a new eventsourcing renames or
changes either, these tests fail before any store does.
"""

from __future__ import annotations

import inspect
from uuid import uuid4

import pytest
from eventsourcing.application import Application, ProcessingEvent

from domain.register import Index
from node.store.application import NodeStore
from node.store.collected_save import notify, record


def test_the_library_save_is_still_record_then_snapshots_then_notify() -> None:
    # Given: the library's own save.
    source = inspect.getsource(Application.save)
    # Then: it collects into a ProcessingEvent, records it, takes snapshots and notifies, in
    # that order: what NodeStore.save does with record() and notify().
    at = [source.index(call) for call in ("_record(", "_take_snapshots(", "_notify(")]
    assert at == sorted(at)
    assert list(inspect.signature(Application._record).parameters) == ["self", "processing_event"]
    assert list(inspect.signature(Application._notify).parameters) == ["self", "recordings"]
    assert "saved_kwargs" in vars(ProcessingEvent())


def test_record_and_notify_store_the_events_with_the_recorders_keyword_arguments() -> None:
    # Given: a store in memory, and an index with one record filed.
    store = NodeStore(env={"PERSISTENCE_MODULE": "node.store.memory_store"})
    index = Index(kind="proposal")
    index.file(index.id)
    # When: its events are recorded and the followers told.
    processing_event, recordings = record(store, [index], {"entries": [], "bodies": []})
    notify(store, recordings)
    # Then: both events are stored, in order, and the aggregate loads as it was.
    assert [r.domain_event.originator_version for r in recordings] == [1, 2]
    assert processing_event.aggregates == {index.id: index}
    assert store.repository.get(index.id).ids() == [index.id]
    store.close()


def test_a_domain_event_given_alone_is_stored_without_the_librarys_protocol_check(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Given: an index stored, and a `Filed` event at its next version, made without loading
    # it (as node/app/records.py `filed` makes them for every record a command files).
    store = NodeStore(env={"PERSISTENCE_MODULE": "node.store.memory_store"})
    index = Index(kind="proposal")
    store.save(index)
    record_id = uuid4()
    filed = Index.Filed(  # type: ignore[call-arg]
        originator_id=index.id,
        originator_version=2,
        timestamp=Index.Filed.create_timestamp(),
        record_id=record_id,
    )

    # The library's check of each object against its typing Protocols: not asked.
    def checked(*objs: object, **kwargs: object) -> None:
        raise AssertionError("collected through ProcessingEvent.collect_events")

    monkeypatch.setattr(ProcessingEvent, "collect_events", checked)
    # When: it is recorded alone.
    processing_event, recordings = record(store, [filed], {})
    # Then: it is stored, as the library stores it, and the index loads with the record.
    assert processing_event.events == [filed] and not processing_event.aggregates
    assert [r.domain_event for r in recordings] == [filed]
    assert store.repository.get(index.id).ids() == [record_id]
    store.close()
