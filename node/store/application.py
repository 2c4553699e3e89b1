"""One node's event store: eventsourcing's Application, configured, with feed and body tables.

The one subclass of the library's `Application` in the node: it is configured by the settings
given and nothing else (never os.environ), names its tables `circle_node`, maps events to
MessagePack typed by their classes, keeps what is used often in memory (`kept`), and stores a
save's events, feed entries and bodies in one transaction (`save`). It knows nothing of what
the aggregates mean: which ones are snapshotted how often, and which are never kept in memory,
is given to it by whoever composes the node. Opened, it refuses a store last written by a newer
version of circle-node, and records its own version as the one that last wrote it
(`written_by.py`).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any
from uuid import UUID

from eventsourcing import application
from eventsourcing.application import AggregateNotFoundError, Application
from eventsourcing.domain import Aggregate
from eventsourcing.persistence import JSONTranscoder, Mapper, PersistenceError
from eventsourcing.utils import Environment, EnvType

from federation.wire import body_hash
from node.store.append_notices import NoticeSource
from node.store.collected_save import notify, record
from node.store.event_mapping import TypedMapper
from node.store.file_changes import wal_file
from node.store.kept import Kept
from node.store.leader_lease import LeaderLease, Lease, SoleLeader
from node.store.memory_store import POPOFeedRecorder
from node.store.rate_buckets import RateBuckets
from node.store.recorders import BodyRow, FeedRecorder
from node.store.repository import Repository, project_events
from node.store.session_rows import SealedSessionRows, SessionRows
from node.store.sqlite_recorder import SQLiteFeedRecorder
from node.store.transcodings import register_domain_transcodings
from node.store.written_by import SQLWrittenBy, StoreTooNew, check_and_stamp, running_version

log = logging.getLogger("circle_node.store")


class NodeStore(Application[UUID]):
    """The node's store.

    `intervals`: the snapshot interval of each aggregate class (a load replays the events
    since the last snapshot). `event_intervals`: for events saved without their aggregate
    loaded (an index filed by its `Filed` events alone), the interval at which their
    aggregate is snapshotted all the same. `never_kept`: aggregate classes never kept in
    memory (those an erasure deletes)."""

    # PostgreSQL's tables are named after it (circlenode_events, ...): every store written so
    # far has them under this name (it was the application's class name), so it stays.
    name = "CircleNode"
    # The id of the aggregate whose saves with entries append to the own feed (set by the
    # network's own feed, node/network/own_feed.py): after one, `announce_appended`.
    own_feed_id: UUID | None = None

    def __init__(
        self,
        env: EnvType | None = None,
        *,
        intervals: Mapping[type[Aggregate], int] | None = None,
        event_intervals: Mapping[type, int] | None = None,
        never_kept: tuple[type, ...] = (),
    ) -> None:
        self._intervals: dict[type, int] = dict(intervals or {})
        self._event_intervals = dict(event_intervals or {})
        super().__init__(env)
        self.kept = Kept(self.repository, never=never_kept)
        written_by: SQLWrittenBy | None = getattr(self.recorder, "written_by", None)
        if written_by is not None:
            try:
                check_and_stamp(written_by, running_version())
            except StoreTooNew:
                self.close()
                raise

    def construct_repository(self) -> application.Repository[UUID]:
        # The library's Repository (no aggregate cache: node/store/kept.py keeps what is used
        # often), replaying events without its runtime Protocol check per event.
        return Repository(event_store=self.events, snapshot_store=self.snapshots)

    def construct_mapper(self) -> Mapper[UUID]:
        # Events in MessagePack typed by their classes, JSON where that would not round-trip.
        return self.factory.mapper(transcoder=self.construct_transcoder(), mapper_class=TypedMapper)

    def construct_env(self, name: str, env: EnvType | None = None) -> Environment:
        # The node's settings are the only source of configuration: os.environ is not merged
        # in behind them (eventsourcing would otherwise read PERSISTENCE_MODULE etc. from it).
        merged = dict(type(self).env)
        if self._intervals:
            merged["IS_SNAPSHOTTING_ENABLED"] = "y"
        merged.update(env or {})
        return Environment(name, merged)

    def register_transcodings(self, transcoder: JSONTranscoder) -> None:
        super().register_transcodings(transcoder)
        register_domain_transcodings(transcoder)

    @property
    def feeds(self) -> FeedRecorder:
        """The recorder, with its feed and body tables."""
        return self.recorder  # type: ignore[return-value]

    @property
    def sessions(self) -> SessionRows:
        """The web pages' sessions, in a table of the recorder's own (node/store/session_rows.py),
        their data encrypted as events are when the store is."""
        rows: SessionRows = self.recorder.session_rows  # type: ignore[attr-defined]
        cipher = self.mapper.cipher
        return rows if cipher is None else SealedSessionRows(rows, cipher)

    @property
    def rate_buckets(self) -> RateBuckets | None:
        """Rate limits' buckets, in a table of the recorder's own (node/store/rate_buckets.py);
        None for the in-memory store (its limits are kept in the process)."""
        return getattr(self.recorder, "rate_buckets", None)

    @property
    def reads_are_local(self) -> bool:
        """Whether the store is read in this process, in microseconds (SQLite, memory), not
        across a network (PostgreSQL)."""
        return isinstance(self.recorder, SQLiteFeedRecorder | POPOFeedRecorder)

    def load(self, cls: type[Any], aggregate_id: UUID) -> Any:
        """Load an aggregate of a known class (AggregateNotFoundError if there is none)."""
        aggregate: Aggregate = self.repository.get(aggregate_id)
        if not isinstance(aggregate, cls):
            raise AggregateNotFoundError(aggregate_id)
        return aggregate

    # Saving.

    def save(self, *objs: Any, **kwargs: Any) -> Any:
        """Store the aggregates' pending events, with the feed entries and bodies given
        (`entries=`, `bodies=`), in one transaction; then take the snapshots that are due.

        An erasure is part of the same transaction (`erase_bodies=` hashes, `erase_events=`
        aggregate ids: deleted after what the save stores, so also what it brings of them);
        once it is stored, the store is compacted so that what was erased leaves no trace."""
        processing_event, recordings = record(self, objs, kwargs)
        erased = list(kwargs.get("erase_events") or [])
        for aggregate_id in erased:
            self.kept.forget(aggregate_id)
        if erased or kwargs.get("erase_bodies"):
            self._compact()
        self._take_snapshots(processing_event)
        notify(self, recordings)
        if kwargs.get("entries") and any(
            getattr(obj, "id", None) == self.own_feed_id for obj in objs
        ):
            # An append to the own feed, by whichever process (a command too): the processes
            # serving this store push it at once (PostgreSQL; SQLite's commit is heard from
            # its file, node/store/file_changes.py).
            self.announce_appended()
        return recordings

    def _compact(self) -> None:
        """Compacting cannot run inside a transaction (VACUUM): it follows the erasure's save.
        If it fails, the erasure stands (its rows are deleted); their bytes may linger in the
        file's free pages until the next compaction."""
        try:
            self.feeds.compact()
        except (PersistenceError, OSError) as error:
            log.warning("could not compact the store after an erasure (it is saved): %s", error)

    def _take_snapshots(self, processing_event: Any) -> None:
        """Snapshots are taken after the save is stored: failing to store one (the store went
        away, the disk filled) must not fail a change that is already stored. The aggregate
        is replayed from its events until the next snapshot."""
        if not (self.snapshots and self._intervals):
            return
        # At most one snapshot per aggregate and save, taken from the aggregate as saved (not
        # reloaded): a batch of a thousand entries crosses ten multiples of the own feed's
        # interval, and the library would replay it ten times.
        due: dict[UUID, Aggregate] = {}
        by_events: list[tuple[UUID, int]] = []
        for saved in processing_event.events:
            aggregate = processing_event.aggregates.get(saved.originator_id)
            if aggregate is None:
                interval = self._event_intervals.get(type(saved))
                if interval and saved.originator_version % interval == 0:
                    by_events.append((saved.originator_id, saved.originator_version))
                continue
            interval = self._intervals.get(type(aggregate))
            if interval and saved.originator_version % interval == 0:
                due[saved.originator_id] = aggregate
        for aggregate in due.values():
            try:
                self._store_snapshot(aggregate)
            except PersistenceError as error:
                log.warning("could not store a snapshot (the change itself is stored): %s", error)
        for aggregate_id, version in by_events:
            try:
                self._snapshot_at(aggregate_id, version)
            except PersistenceError as error:
                log.warning("could not store a snapshot of an index: %s", error)

    def _store_snapshot(self, aggregate: Aggregate) -> None:
        """A snapshot of the aggregate as it is (which must be as stored)."""
        assert self.snapshots is not None and not aggregate.pending_events
        snapshot_class: Any = getattr(type(aggregate), "Snapshot", type(self).snapshot_class)
        self.snapshots.put([snapshot_class.take(aggregate)])

    def _snapshot_at(self, aggregate_id: UUID, version: int) -> None:
        """A snapshot of an aggregate saved by its events alone, at `version`: from the kept
        copy when it is at that version (no replay since the last snapshot), else as the
        library takes one."""
        kept: Aggregate = self.kept.peek(aggregate_id)
        if kept.version == version:
            self._store_snapshot(kept)
        else:
            self.take_snapshot(aggregate_id, version, projector_func=project_events)

    # Bodies, kept in the recorder's body table (encrypted like events when the store is).

    def body_row(
        self, body: bytes, audience: Sequence[bytes], digest: bytes | None = None
    ) -> BodyRow:
        cipher = self.mapper.cipher
        data = cipher.encrypt(body) if cipher is not None else body
        return (digest or body_hash(body), data, b"".join(audience))

    def stored_bodies(self, digests: Sequence[bytes]) -> dict[bytes, tuple[bytes, list[bytes]]]:
        """Stored bodies by hash: (data, audience)."""
        cipher = self.mapper.cipher
        found = {}
        for digest, data, audience in self.feeds.select_bodies(digests).values():
            plain = cipher.decrypt(data) if cipher is not None else data
            found[digest] = (plain, [audience[i : i + 32] for i in range(0, len(audience), 32)])
        return found

    def stored_data(self, digests: Sequence[bytes]) -> dict[bytes, bytes]:
        """Stored bodies by hash, without their audiences."""
        cipher = self.mapper.cipher
        rows = self.feeds.select_bodies(digests).values()
        if cipher is None:
            return {digest: data for digest, data, _ in rows}
        return {digest: cipher.decrypt(data) for digest, data, _ in rows}

    def erase_bodies(self, digests: Sequence[bytes]) -> int:
        """Delete bodies (their entries stay, and still verify); returns how many were held."""
        return self.feeds.delete_bodies(digests)

    def held_entries(self, feed_id: bytes) -> list[bytes]:
        """Every entry held of a feed (encoded signed entries), oldest first."""
        return list(self.feeds.select_entries(feed_id, 0, 2**31))

    # Claims on the outbox, where several workers share the store (PostgreSQL).

    def claim_outbox(self, feed_id: bytes) -> bool:
        """Claim delivery to a peer for this process: False while another worker on the same
        store delivers to it (so that each entry is pushed once). On PostgreSQL, a lock that
        ends with the worker's connection, however the worker ends; other stores are served by
        one process, which always has the claim."""
        claim = getattr(self.recorder, "claim_outbox", None)
        return True if claim is None else bool(claim(feed_id))

    def release_outbox(self, feed_id: bytes) -> None:
        release = getattr(self.recorder, "release_outbox", None)
        if release is not None:
            release(feed_id)

    # Several workers on one store (PostgreSQL): who leads, and waking the others on appends.

    def leader_lease(self, name: str | None = None) -> Lease:
        """The lease of the work that runs in one worker at a time (node/store/leader_lease.py),
        named `name` (by default after the store: the workers serving this store share it). A
        store one process serves alone has it always."""
        connect = getattr(self.recorder, "connect_apart", None)
        if connect is None:
            return SoleLeader()
        return LeaderLease(connect, name or self.recorder.notice_scope)  # type: ignore[attr-defined]

    def notice_source(self) -> NoticeSource | None:
        """Where other processes' appends to this store are heard (node/store/append_notices.py);
        None for a store one process serves alone."""
        if not hasattr(self.recorder, "announce_appended"):
            return None
        recorder: Any = self.recorder
        return NoticeSource(recorder.connection_kwargs(), recorder.notice_scope)

    def changed_file(self) -> Path | None:
        """The file another process's commit to this store writes (SQLite: its `-wal`,
        node/store/file_changes.py); None for a store no other process writes this way."""
        if not isinstance(self.recorder, SQLiteFeedRecorder):
            return None
        return wal_file(self.recorder.datastore.pool.db_name)

    def announce_appended(self) -> None:
        """Tell the other processes on the store that the own feed was appended to (or that a
        peer was added: `PeerBook.add_peer`). Called after the save: a failure is logged and not
        raised (the change is stored; the others find it at their next look)."""
        announce = getattr(self.recorder, "announce_appended", None)
        if announce is None:
            return
        try:
            announce()
        except Exception as error:
            log.warning("could not tell the other workers of an append: %s", error)

    def close(self) -> None:
        drop_claims = getattr(self.recorder, "drop_claims", None)
        if drop_claims is not None:
            drop_claims()
        super().close()
