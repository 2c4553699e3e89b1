"""What a use case needs of the node: the circle's records to load, and one save for the change.

Each area of use cases (people, hats, proposals, ...) is a small class that takes a `Work` and
nothing else. A command loads what it needs, asks the domain to decide, and saves every
changed aggregate in one `save()`: all of it or nothing, with the feed entries the change
causes (node/app/node.py composes the node that does this).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date, datetime
from typing import Any, Protocol
from uuid import UUID

from eventsourcing.domain import Aggregate

from domain.circle import Circle
from domain.consent import ConsentProcess
from domain.decision import Decision
from domain.meeting import Meeting
from domain.proposal import Proposal
from domain.selection import HatSelection
from node.store.kept import Kept


class Work(Protocol):
    """The circle's records and the save that stores a change of them at once."""

    @property
    def kept(self) -> Kept: ...

    @property
    def is_founded(self) -> bool: ...

    def now(self) -> datetime: ...

    def today(self) -> date: ...

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

    def filed(self, kind: str, *record_ids: UUID) -> list[Any]: ...

    def save(self, *objs: Any, **kwargs: Any) -> Any: ...


def change_circle(work: Work, change: Callable[[Circle], Any]) -> None:
    """Change the circle (a copy of its own) and save it."""
    circle = work.get_circle()
    change(circle)
    work.save(circle)


def check_unchanged(work: Work, circle: Circle) -> None:
    """A command that reads the shared circle (`peek_circle`) must not change it."""
    if circle.pending_events:  # a bug in the command
        work.kept.forget(circle.id)
        raise RuntimeError("a command changed the shared circle instead of its own copy")


def saved(work: Work, changed: Sequence[Aggregate]) -> None:
    """Save what changed, if anything did."""
    if changed:
        work.save(*changed)
