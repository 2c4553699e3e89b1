"""What a person's calendar holds: the circle's meetings, the deadlines of the rounds they take
part in, the review dates of the decisions and plans in force, and the end of their hat terms.

Each item has a stable uid (its kind and its record's id), so that a calendar application
that reads the feed again updates an item rather than adding it twice. Times are in the
circle's time zone; dates (reviews, terms) are whole days. What leaves the node in a calendar
is read outside it, on phones and servers of other companies: a meeting's confidential agenda
items are never named (domain/meeting.py), only its open ones.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Protocol

from domain.circle import Circle
from domain.consent import ConsentProcess
from domain.decision import Decision
from domain.meeting import Meeting
from domain.plan import Plan
from domain.proposal import Proposal
from domain.selection import HatSelection
from domain.values import ACTING, Level, Mode, Stage

# Meetings further back than this are left out: the calendar shows the past year and all
# that is to come.
PAST_MEETINGS = timedelta(days=365)


class CalendarRecords(Protocol):
    """What the calendar reads of the circle's records (node/app/records.py)."""

    def peek_circle(self) -> Circle: ...

    def list_meetings(self) -> list[Meeting]: ...

    def list_proposals(self) -> list[Proposal]: ...

    def list_selections(self) -> list[HatSelection]: ...

    def list_decisions(self) -> list[Decision]: ...

    def list_plans(self) -> list[Plan]: ...

    def local(self, moment: datetime) -> datetime: ...

    def today(self) -> date: ...


@dataclass(frozen=True)
class CalendarItem:
    """One event of a personal calendar."""

    uid: str  # stable for its record: the same item, read again, is the same event
    summary: str
    start: datetime | date  # a moment in the circle's time zone, or a whole day
    description: str
    path: str | None  # the page of the node that shows it, if there is one
    changed: datetime | None  # when its record last changed
    sequence: int  # grows as its record changes


def calendar_items(records: CalendarRecords, person_id: str) -> list[CalendarItem]:
    """Everything of the circle the person's calendar holds, in time order."""
    circle = records.peek_circle()
    items = [
        *_meetings(records, circle, person_id),
        *_deadlines(records, circle, person_id),
        *_reviews(records, circle),
        *_terms(circle, person_id),
    ]
    return sorted(items, key=lambda item: (_day(item.start), item.uid))


def _day(start: datetime | date) -> date:
    return start.date() if isinstance(start, datetime) else start


def _meetings(records: CalendarRecords, circle: Circle, person_id: str) -> Iterator[CalendarItem]:
    since = records.today() - PAST_MEETINGS
    for meeting in records.list_meetings():
        when = records.local(meeting.when)
        if when.date() < since:
            continue
        lines = [f"Stage: {meeting.stage.replace('_', ' ')}."]
        # Only the open items: a confidential item's title never leaves in a calendar.
        agenda = [item.title for _, item in meeting.open_agenda]
        if agenda:
            lines.append("Agenda: " + "; ".join(agenda))
        if person_id in meeting.told_absent:
            lines.append("You told the secretary you will be absent.")
        yield CalendarItem(
            uid=f"meeting-{meeting.id}",
            summary=f"{circle.name} meeting: {meeting.title}",
            start=when,
            description="\n".join(lines),
            path="/meetings",
            changed=meeting.modified_on,
            sequence=meeting.version,
        )


def _deadlines(records: CalendarRecords, circle: Circle, person_id: str) -> Iterator[CalendarItem]:
    """The deadlines of the open asynchronous rounds: everyone acting in the circle takes part
    in them (full participants consent or object, the others speak)."""
    participant = circle.participants.get(person_id)
    if participant is None or participant.status not in ACTING:
        return
    processes: list[ConsentProcess] = [*records.list_proposals(), *records.list_selections()]
    for process in processes:
        if process.is_final or process.mode != Mode.ASYNC or process.deadline is None:
            continue
        if isinstance(process, Proposal):
            what, path = f"«{process.title}»", f"/proposals/{process.id}"
        else:
            assert isinstance(process, HatSelection)
            hat = circle.hats.get(process.hat_id)
            what, path = f"the selection of the {hat.name if hat else 'hat'}", "/hats"
        lines = [f"Stage: {process.stage.replace('_', ' ')}."]
        if (
            process.stage == Stage.CONSENT_ROUND
            and participant.level == Level.FULL
            and person_id not in process.answers
        ):
            lines.append("Your answer is waiting.")
        yield CalendarItem(
            uid=f"deadline-{process.id}",
            summary=f"{circle.name}: deadline for {what}",
            start=records.local(process.deadline),
            description="\n".join(lines),
            path=path,
            changed=process.modified_on,
            sequence=process.version,
        )


def _reviews(records: CalendarRecords, circle: Circle) -> Iterator[CalendarItem]:
    """The review dates of the decisions in force, and of the budgets and plans whose period
    has not ended."""
    today = records.today()
    for decision in records.list_decisions():
        if not decision.in_force:
            continue
        yield CalendarItem(
            uid=f"review-{decision.id}",
            summary=f"{circle.name}: review of «{decision.title}»",
            start=decision.review_date,
            description=f"The {decision.kind} decision «{decision.title}» is due for review.",
            path=f"/decisions#decision-{decision.id}",
            changed=decision.modified_on,
            sequence=decision.version,
        )
    for plan in records.list_plans():
        if not plan.is_current(today):
            continue
        yield CalendarItem(
            uid=f"review-{plan.id}",
            summary=f"{circle.name}: review of the {plan.kind} «{plan.title}»",
            start=plan.review_date,
            description=f"The {plan.kind} «{plan.title}» is due for review.",
            path=None,
            changed=plan.modified_on,
            sequence=plan.version,
        )


def _terms(circle: Circle, person_id: str) -> Iterator[CalendarItem]:
    """The review dates of the hats the person wears: their terms end then."""
    for term in circle.terms:
        if term.person_id != person_id:
            continue
        hat = circle.hats.get(term.hat_id)
        name = hat.name if hat else term.hat_id
        yield CalendarItem(
            uid=f"term-{circle.id}-{term.hat_id}-{person_id}",
            summary=f"{circle.name}: your term as {name.lower()} ends",
            start=term.review_date,
            description=f"Your term as {name.lower()} comes to its review date: renewed, or "
            "someone is selected.",
            path="/hats",
            changed=None,
            sequence=0,
        )
