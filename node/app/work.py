"""What a use case needs of the node, and the unit of work every command runs in.

Each area of use cases (people, hats, proposals, ...) is a small class that takes a `Work`:
the circle's records to load, and the node's save. A command runs in a `UnitOfWork`: it
loads what it changes through it (each aggregate once, a copy of its own), asks the domain to
decide, and when it is done everything it made or changed is saved in one `save()`: all of it
or nothing, with the feed entries the change causes (node/app/node.py composes the node that
does this). A peer's entries run in the intake's own unit of work (node/network/batch.py).
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterator
from datetime import date, datetime
from typing import Any, Protocol
from uuid import UUID

from eventsourcing.domain import Aggregate

from domain.circle import Circle
from domain.consent import ConsentProcess
from domain.decision import Decision
from domain.meeting import Meeting
from domain.plan import Plan
from domain.proposal import Proposal
from domain.rules import local_date
from domain.selection import HatSelection
from node.store.kept import Kept


class Work(Protocol):
    """The circle's records and the save that stores a change of them at once."""

    @property
    def circle_id(self) -> UUID: ...

    @property
    def kept(self) -> Kept: ...

    @property
    def is_founded(self) -> bool: ...

    def now(self) -> datetime: ...

    def today(self) -> date: ...

    def local(self, moment: datetime) -> datetime: ...

    def get_circle(self) -> Circle: ...

    def peek_circle(self) -> Circle: ...

    def get_proposal(self, proposal_id: UUID | str) -> Proposal: ...

    def get_selection(self, selection_id: UUID | str) -> HatSelection: ...

    def get_decision(self, decision_id: UUID | str) -> Decision: ...

    def get_meeting(self, meeting_id: UUID | str) -> Meeting: ...

    def get_process(self, process_id: UUID | str) -> ConsentProcess: ...

    def get_record(self, cls: type[Any], record_id: UUID | str, what: str) -> Any: ...

    def load(self, cls: type[Any], aggregate_id: UUID) -> Any: ...

    def list_decisions(self) -> list[Decision]: ...

    def list_proposals(self) -> list[Proposal]: ...

    def list_selections(self) -> list[HatSelection]: ...

    def list_plans(self) -> list[Plan]: ...

    def filed(self, kind: str, *record_ids: UUID) -> list[Any]: ...

    def all(self, kind: str, cls: type[Any]) -> Iterator[Any]: ...

    def save(self, *objs: Any, **kwargs: Any) -> Any: ...


class UnitOfWork:
    """What one command changes: each aggregate it changes loaded once (a copy of its own),
    and everything it made or changed saved together when it is done, in one save (nothing
    if it raised, or if nothing changed). Use it as a context manager:

        with UnitOfWork(work) as uow:
            uow.circle().admit(by, person_id, level, uow.today)
    """

    def __init__(self, work: Work) -> None:
        self.work = work
        self.now = work.now()
        # The circle as stored when the unit begins, read once: its time zone, and what the
        # command reads of it (`shared_circle`) or copies to change (`circle`). None before
        # the circle is founded.
        self._stored: Circle | None = work.peek_circle() if work.is_founded else None
        # The date in the circle's time zone: what falls due on a date does so at local midnight.
        self.today = (
            local_date(self._stored.rules, self.now)
            if self._stored is not None
            else work.local(self.now).date()
        )
        self._changing: dict[UUID, Aggregate] = {}
        self._order: list[Any] = []  # what to save, in the order it was loaded or added
        self._read: list[Circle] = []
        self._afterwards: list[Callable[[], None]] = []
        self._erasing: dict[str, list[Any]] = {}

    def __enter__(self) -> UnitOfWork:
        return self

    def __exit__(self, error_type: type[BaseException] | None, *_: object) -> None:
        if error_type is None:
            self.commit()

    def _keep(self, aggregate: Any) -> Any:
        """The unit's copy of an aggregate: this one, unless the unit holds it already."""
        held = self._changing.get(aggregate.id)
        if held is None:
            self._changing[aggregate.id] = held = aggregate
            self._order.append(aggregate)
        return held

    def circle(self) -> Circle:
        """The circle, a copy of its own to change."""
        held: Any = self._changing.get(self.work.circle_id)
        if held is None:
            stored = self._stored
            held = self._keep(
                copy.deepcopy(stored) if stored is not None else self.work.get_circle()
            )
        circle: Circle = held
        return circle

    def shared_circle(self) -> Circle:
        """The circle as kept, shared: to read only (checked unchanged when committing)."""
        circle = self._stored if self._stored is not None else self.work.peek_circle()
        self._read.append(circle)
        return circle

    def proposal(self, proposal_id: UUID | str) -> Proposal:
        proposal: Proposal = self._keep(self.work.get_proposal(proposal_id))
        return proposal

    def selection(self, selection_id: UUID | str) -> HatSelection:
        selection: HatSelection = self._keep(self.work.get_selection(selection_id))
        return selection

    def process(self, process_id: UUID | str) -> ConsentProcess:
        process: ConsentProcess = self._keep(self.work.get_process(process_id))
        return process

    def decision(self, decision_id: UUID | str) -> Decision:
        decision: Decision = self._keep(self.work.get_decision(decision_id))
        return decision

    def meeting(self, meeting_id: UUID | str) -> Meeting:
        meeting: Meeting = self._keep(self.work.get_meeting(meeting_id))
        return meeting

    def record(self, cls: type[Any], record_id: UUID | str, what: str) -> Any:
        """Another record of the circle, a copy of its own to change (NotFound: `what`)."""
        return self._keep(self.work.get_record(cls, record_id, what))

    def add(self, *objs: Any) -> None:
        """What to save with the rest, in this order: aggregates made or changed elsewhere (an
        aggregate already in this unit is not added twice), or `Index.Filed` events
        (node/app/records.py `filed`)."""
        for obj in objs:
            if isinstance(obj, Aggregate):
                self._keep(obj)
            else:
                self._order.append(obj)

    def file(self, kind: str, record: Aggregate) -> None:
        """A new record, and its filing in the index of its kind."""
        self.add(record, *self.work.filed(kind, record.id))

    def erase(self, bodies: list[bytes], aggregate_ids: list[UUID]) -> None:
        """Erase these bodies and aggregates in the unit's save (personal data), so that they
        are gone if and only if the change is saved."""
        self._erasing.setdefault("erase_bodies", []).extend(bodies)
        self._erasing.setdefault("erase_events", []).extend(aggregate_ids)

    def after_commit(self, action: Callable[[], None]) -> None:
        """Something to do once the change is saved."""
        self._afterwards.append(action)

    def commit(self) -> None:
        for circle in self._read:
            check_unchanged(self.work, circle)
        saved = [o for o in self._order if not isinstance(o, Aggregate) or o.pending_events]
        if saved:
            self.work.save(*saved, **self._erasing)
        for action in self._afterwards:
            action()


def check_unchanged(work: Work, circle: Circle) -> None:
    """A command that reads the shared circle (`peek_circle`) must not change it."""
    if circle.pending_events:  # a bug in the command
        work.kept.forget(circle.id)
        raise RuntimeError("a command changed the shared circle instead of its own copy")
