"""The circle's records: how they are loaded, listed and filed (the use cases' `Work`)."""

from __future__ import annotations

import copy
import logging
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime
from typing import Any, TypeVar
from uuid import UUID
from zoneinfo import ZoneInfo

from eventsourcing.application import AggregateNotFoundError
from eventsourcing.domain import Aggregate
from eventsourcing.persistence import PersistenceError, RecordConflictError

from domain.circle import Circle
from domain.consent import ConsentProcess
from domain.decision import Decision
from domain.errors import NotFound
from domain.meeting import Meeting
from domain.person import PersonalDetails
from domain.plan import Plan
from domain.proposal import Proposal
from domain.register import REGISTER_ID, Index, Register, index_id
from domain.selection import HatSelection
from node.app.decisions_in_force import DecisionsInForce
from node.app.filed_by_state import FiledByState
from node.network.intake import Saving
from node.store.application import NodeStore
from node.store.kept import Kept

A = TypeVar("A", bound=Aggregate)

# Records read at once by a search from the newest back (`newest_first`).
NEWEST_READ = 20
log = logging.getLogger("circle_node.store")
Clock = Callable[[], datetime]
FORMER_PARTICIPANT = "a former participant"


def utc_now() -> datetime:
    return datetime.now(UTC)


class CircleRecords:
    """The circle's records: loaded (a copy of its own for a command to change, or the shared
    copy to read), listed, and filed in their indexes; and the node's save, for the use cases
    (node/app/work.py)."""

    def __init__(self, store: NodeStore, clock: Clock, save: Saving) -> None:
        self._store = store
        self.clock = clock
        self.save = save
        # The circle's id, once read from the register (it never changes once founded): a
        # command then loads the circle without loading the whole register first.
        self._circle_id: UUID | None = None
        # Each index's version and ids as UUIDs, as last listed (an index only grows: a later
        # one is the same list and more).
        self._listed: dict[str, tuple[int, tuple[UUID, ...]]] = {}
        # The decisions in force, as a member circle's summary reads them.
        self.decisions_in_force = DecisionsInForce(store, lambda: self.ids("decision"))
        # The proposals by their stage, for a page of those at one stage.
        self.proposals_by_stage = FiledByState(
            store, lambda: self.ids("proposal"), Proposal, lambda proposal: str(proposal.stage)
        )
        self._move_filings_to_indexes()

    @property
    def kept(self) -> Kept:
        """The store's kept aggregates (node/store/kept.py)."""
        return self._store.kept

    def _move_filings_to_indexes(self) -> None:
        """A store made before the per-kind indexes filed its records in the register: they
        are filed in the indexes, once, in one save (a store made since has nothing to move;
        if another worker moves them at the same time, its save or this one is refused)."""
        try:
            register = self._register()
        except NotFound:
            return
        filed = {kind: ids for kind, ids in register.entries.items() if ids}
        if not filed or any(index_id(kind) in self._store.repository for kind in filed):
            return
        indexes = []
        for kind, ids in filed.items():
            index = Index(kind=kind)
            for record_id in ids:
                index.file(record_id)
            indexes.append(index)
        try:
            self._store.save(*indexes)
        except RecordConflictError:
            return  # moved by another worker meanwhile
        except PersistenceError as error:  # e.g. a read-only copy of an old store: lists wait
            log.warning("could not move filed records from the register: %s", error)
            return
        log.info("moved %d filed records from the register to their indexes", len(indexes))

    # Loading.

    def get_record(self, cls: type[A], aggregate_id: UUID | str, what: str) -> A:
        try:
            aggregate: Aggregate = self.kept.copy(UUID(str(aggregate_id)))
        except (AggregateNotFoundError, ValueError):
            raise NotFound(f"No {what} with id {aggregate_id}") from None
        if not isinstance(aggregate, cls):
            raise NotFound(f"No {what} with id {aggregate_id}")
        return aggregate

    def _register(self) -> Register:
        try:
            # Not kept (it may be large), but one read while it is missing (unfounded).
            register: Aggregate = self.kept.load(REGISTER_ID)
        except AggregateNotFoundError:
            raise NotFound("This node has no circle yet; found one first") from None
        assert isinstance(register, Register)
        return register

    def index(self, kind: str) -> Index:
        """The index of one kind of record, a copy of its own to change (an empty one, not
        yet stored, if none is)."""
        try:
            index: Aggregate = self.kept.copy(index_id(kind))
        except AggregateNotFoundError:
            return Index(kind=kind)
        assert isinstance(index, Index)
        return index

    def ids(self, kind: str) -> tuple[UUID, ...]:
        """The ids of the records of one kind, in the order they were filed: those listed
        before, and those filed since, read as the index's later events (not the whole index
        again, which grows with the circle's record)."""
        if not self.is_founded:
            return ()
        version, listed = self._listed.get(kind, (0, ()))
        if version:
            # The event last listed, and those after it: the same index grown, or another one
            # (a store restored under a running node), listed afresh.
            later = list(self._store.repository.event_store.get(index_id(kind), gt=version - 1))
            same = later and later[0].originator_version == version
            if same and _filed(later[:1]) == listed[-1:]:
                listed += _filed(later[1:])
                version = later[-1].originator_version
            else:
                version = 0
        if not version:
            try:
                index: Aggregate = self.kept.peek(index_id(kind))
            except AggregateNotFoundError:
                return ()
            assert isinstance(index, Index)
            version, listed = index.version, tuple(UUID(entry) for entry in index.entries)
        self._listed[kind] = (version, listed)
        return listed

    def filed(self, kind: str, *record_ids: UUID) -> list[Aggregate | Index.Filed]:
        """What to save to file records in their index, without loading it: `Filed` events
        at the index's next versions (read from the store), or a new index."""
        last = self._store.recorder.select_events(index_id(kind), desc=True, limit=1)
        if not last:
            index = Index(kind=kind)
            for record_id in record_ids:
                index.file(record_id)
            return [index]
        version = last[0].originator_version
        return [
            Index.Filed(  # type: ignore[call-arg]
                originator_id=index_id(kind),
                originator_version=version + number,
                timestamp=Index.Filed.create_timestamp(),
                record_id=record_id,
            )
            for number, record_id in enumerate(record_ids, 1)
        ]

    @property
    def is_founded(self) -> bool:
        if self._circle_id is None:
            try:
                self._circle_id = self._register().circle_id
            except NotFound:
                return False
        return True

    @property
    def circle_id(self) -> UUID:
        if self._circle_id is None:
            self._circle_id = self._register().circle_id
        return self._circle_id

    def get_circle(self) -> Circle:
        """The circle, a copy of its own for a command to change."""
        return copy.deepcopy(self.peek_circle())

    def peek_circle(self) -> Circle:
        """The circle as stored now, shared (see node/store/kept.py): read it, never change it."""
        try:
            circle: Aggregate = self.kept.peek(self.circle_id)
        except AggregateNotFoundError:
            raise NotFound(f"No circle with id {self.circle_id}") from None
        assert isinstance(circle, Circle)
        return circle

    def get_proposal(self, proposal_id: UUID | str) -> Proposal:
        return self.get_record(Proposal, proposal_id, "proposal")

    def get_selection(self, selection_id: UUID | str) -> HatSelection:
        return self.get_record(HatSelection, selection_id, "selection")

    def get_decision(self, decision_id: UUID | str) -> Decision:
        return self.get_record(Decision, decision_id, "decision")

    def get_meeting(self, meeting_id: UUID | str) -> Meeting:
        return self.get_record(Meeting, meeting_id, "meeting")

    def get_process(self, process_id: UUID | str) -> ConsentProcess:
        return self.get_record(ConsentProcess, process_id, "proposal or selection")  # type: ignore[type-abstract]

    def now(self) -> datetime:
        return self.clock()

    def load(self, cls: type[Any], aggregate_id: UUID) -> Any:
        """Load an aggregate of a known class (AggregateNotFoundError if there is none)."""
        return self._store.load(cls, aggregate_id)

    def time_zone(self) -> ZoneInfo:
        """The circle's time zone (its rules'; UTC before it is founded)."""
        if not self.is_founded:
            return ZoneInfo("UTC")
        return ZoneInfo(self.peek_circle().rules.time_zone)

    def local(self, moment: datetime) -> datetime:
        """The moment in the circle's time zone."""
        return moment.astimezone(self.time_zone())

    def today(self) -> date:
        """The date in the circle's time zone: reviews and terms fall due at local midnight."""
        return self.local(self.now()).date()

    def person_name(self, person_id: str) -> str:
        try:
            return self.get_record(PersonalDetails, person_id, "person").name
        except NotFound:
            return FORMER_PARTICIPANT

    def list_people(self) -> dict[str, str]:
        """Every person on file, by id, with their name."""
        return {str(pid): self.person_name(str(pid)) for pid in self.ids("person")}

    # Listings.

    def all(self, kind: str, cls: type[A]) -> Iterator[A]:
        """The records of a kind as stored, shared (see node/store/kept.py): listings read them and
        never change them (a command changes a copy: `get_decision`, `get_proposal`...)."""
        for record in self.kept.peek_all(self.ids(kind), listing=kind):
            if isinstance(record, cls):
                yield record

    def window(self, kind: str, cls: type[A], offset: int, limit: int) -> tuple[list[A], int]:
        """The records of a kind from `offset` on, at most `limit`, in the order filed, and how
        many were filed: only those in the window are read (kinds whose records stay once
        made: decisions, proposals, selections, meetings, plans)."""
        ids = self.ids(kind)
        window = self.kept.peek_all(ids[offset : offset + limit])
        return [record for record in window if isinstance(record, cls)], len(ids)

    def newest_first(self, kind: str, cls: type[A]) -> Iterator[A]:
        """The records of a kind from the last filed back, read a few at a time: for a search
        that expects its record among the newest, without reading the whole list."""
        ids = self.ids(kind)
        for end in range(len(ids), 0, -NEWEST_READ):
            for record in reversed(self.kept.peek_all(ids[max(0, end - NEWEST_READ) : end])):
                if isinstance(record, cls):
                    yield record

    def list_proposals(self) -> list[Proposal]:
        return list(self.all("proposal", Proposal))

    def list_selections(self) -> list[HatSelection]:
        return list(self.all("selection", HatSelection))

    def list_decisions(self) -> list[Decision]:
        return list(self.all("decision", Decision))

    def list_meetings(self) -> list[Meeting]:
        return list(self.all("meeting", Meeting))

    def list_plans(self) -> list[Plan]:
        """The circle's budgets and plans, in the order they were made."""
        return list(self.all("plan", Plan))


def _filed(events: list[Any]) -> tuple[UUID, ...]:
    """The records these events of an index filed."""
    return tuple(event.record_id for event in events if isinstance(event, Index.Filed))
