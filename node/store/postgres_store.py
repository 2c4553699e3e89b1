"""`PERSISTENCE_MODULE=node.store.postgres_store`: eventsourcing's PostgreSQL store, its datastore
given the process's one pool for its server and database (node/store/postgres_pool.py), so that
the connections a process opens do not grow with the stores (schemas) it opens. Only a store on
PostgreSQL imports it: SQLite-only installs never import psycopg.

eventsourcing inserts events as an array of a composite type of the store's schema
(`schema.stored_event_uuid`), dumped by an adapter it registers on each connection for a Python
class psycopg makes from the type's name and fields: the same class for every schema. On a
connection shared by stores of several schemas, the adapter registered last would dump every
store's events as its own schema's type. `ArrayInserts` inserts them as four plain arrays
instead (one per column), which any connection dumps the same way.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from eventsourcing import postgres as library
from eventsourcing.persistence import StoredEvent
from eventsourcing.utils import Environment, EnvType
from psycopg import Cursor, sql

from node.store.postgres_pool import share_pool
from node.store.snapshot_rows import latest_versions


class ArrayInserts(library.PostgresAggregateRecorder):
    """Events inserted by `unnest` of one array per column, not of composite values."""

    def __init__(self, datastore: Any, *, events_table_name: str = "stored_events") -> None:
        super().__init__(datastore, events_table_name=events_table_name)
        self.insert_events_statement = sql.SQL(
            "INSERT INTO {}.{} AS t (originator_id, originator_version, topic, state) "
            "SELECT * FROM unnest(%s::{}[], %s::bigint[], %s::text[], %s::bytea[])"
        ).format(
            sql.Identifier(self.datastore.schema),
            sql.Identifier(self.events_table_name),
            sql.SQL(self.datastore.originator_id_type),  # "uuid" or "text"
        )

    def _insert_stored_events(
        self, curs: Cursor[Any], stored_events: Sequence[StoredEvent], **_: Any
    ) -> None:
        as_text = self.datastore.originator_id_type == "text"
        curs.execute(
            self.insert_events_statement,
            (
                [str(e.originator_id) if as_text else e.originator_id for e in stored_events],
                [e.originator_version for e in stored_events],
                [e.topic for e in stored_events],
                [e.state for e in stored_events],
            ),
        )


class SnapshotRecorder(ArrayInserts):
    """The snapshots' recorder, which keeps only the latest snapshot of each aggregate
    (node/store/snapshot_rows.py)."""

    def insert_events(
        self, stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> Sequence[int] | None:
        inserted = super().insert_events(stored_events, **kwargs)
        statement = sql.SQL(
            "DELETE FROM {}.{} WHERE originator_id = %s AND originator_version < %s"
        ).format(sql.Identifier(self.datastore.schema), sql.Identifier(self.events_table_name))
        as_text = self.datastore.originator_id_type == "text"
        with self.datastore.transaction(commit=True) as curs:
            for aggregate_id, version in latest_versions(stored_events):
                curs.execute(statement, (str(aggregate_id) if as_text else aggregate_id, version))
        return inserted


# The one factory class of this module (eventsourcing looks for exactly one).
class Factory(library.PostgresFactory):
    aggregate_recorder_class = SnapshotRecorder

    def __init__(self, env: Environment | EnvType | None) -> None:
        super().__init__(env)  # its datastore's own pool is made, not opened
        share_pool(self.datastore)
