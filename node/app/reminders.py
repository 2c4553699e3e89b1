"""Reminders by mail, as the calendar looks each hour: a consent round's deadline within a day
(to each full participant who has not answered), a hat term coming to its review within a week
(to its wearer), a decision's review coming due within a week (to the facilitator and the
secretary, who put it on the agenda); and, to who chose it, the daily digest of what waits for
them (node/app/waiting.py). Each is queued once: its letter's id is made from what
it reminds of (node/app/mail_queue.py, `Letter.create_id`)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import timedelta

from eventsourcing.application import AggregateNotFoundError
from eventsourcing.persistence import IntegrityError

from domain.circle import Circle
from domain.values import Stage
from node.app.mail_queue import Letter
from node.app.notices import (
    DIGEST_HOUR,
    NOTICE,
    Noticing,
    wants_digest,
    wants_mail,
    what_and_where,
)
from node.app.records import CircleRecords
from node.app.waiting import WaitingItem, waiting_for

DEADLINE_AHEAD = timedelta(days=1)
DUE_AHEAD_DAYS = 7
# (key, person, subject, text) of one reminder.
Reminder = tuple[str, str, str, str]


class Reminders:
    """What the calendar reminds people of, queued once each."""

    def __init__(
        self, records: CircleRecords, noticing: Noticing, queued: Callable[[], None] = lambda: None
    ) -> None:
        self._records = records
        self._noticing = noticing
        self._queued = queued  # told of each reminder queued (the mail sender looks then)

    def remind(self) -> int:
        """Queue the reminders due now and not queued before; returns how many were."""
        if not self._records.is_founded:
            return 0
        circle = self._records.peek_circle()
        queued = 0
        for key, person, subject, text in [
            *self._deadlines(circle),
            *self._terms(circle),
            *self._reviews(circle),
        ]:
            if wants_mail(self._noticing, person) and self._queue(key, person, subject, text):
                queued += 1
        for key, person, subject, text in self._digests(circle):
            if self._queue(key, person, subject, text):
                queued += 1
        return queued

    def _digests(self, circle: Circle) -> Iterator[Reminder]:
        """Once a day, from `DIGEST_HOUR` of the circle's time, to each person who chose a
        digest: what waits for them (node/app/waiting.py), if anything does."""
        local = self._records.local(self._records.now())
        if local.hour < DIGEST_HOUR:
            return
        for person_id in self._records.ids("person"):
            person = str(person_id)
            if not wants_digest(self._noticing, person):
                continue
            items = waiting_for(self._records, person)
            if not items:
                continue
            lines = "\n".join(f"- {_line(item)}" for item in items)
            yield (
                f"digest:{person}:{local.date()}",
                person,
                f"{circle.name}: {len(items)} things wait for you today",
                f"What waits for you in {circle.name} today:\n\n{lines}\n\n"
                f"Your home page lists them: {{public_url}}/home\n",
            )

    def _queue(self, key: str, person: str, subject: str, text: str) -> bool:
        letter = Letter(
            person_id=person,
            kind=NOTICE,
            subject=subject,
            text=text,
            queued=self._records.now(),
            key=key,
        )
        try:
            self._records.load(Letter, letter.id)
            return False  # queued before
        except AggregateNotFoundError:
            pass
        try:
            self._records.save(letter, *self._records.filed("letter", letter.id))
        except IntegrityError:
            return False  # another worker queued it (or filed a letter) just now: next hour
        self._queued()
        return True

    def _deadlines(self, circle: Circle) -> Iterator[Reminder]:
        now = self._records.now()
        processes = [*self._records.list_proposals(), *self._records.list_selections()]
        for process in processes:
            deadline = process.deadline
            if (
                process.is_final
                or process.stage != Stage.CONSENT_ROUND
                or deadline is None
                or not now < deadline <= now + DEADLINE_AHEAD
            ):
                continue
            what, path = what_and_where(circle, process)
            for person in circle.full_participants():
                if person in process.answers:
                    continue
                yield (
                    f"deadline:{process.id}:{process.round_number}:{person}",
                    person,
                    f"{circle.name}: the consent round on {what} closes within a day",
                    f"The consent round on {what} closes at {deadline:%Y-%m-%d %H:%M} UTC, "
                    f"and your consent or objection is not in yet.\n\n"
                    f"Answer here: {{public_url}}{path}\n",
                )

    def _terms(self, circle: Circle) -> Iterator[Reminder]:
        for term in circle.terms_ending(self._records.today(), DUE_AHEAD_DAYS):
            hat = circle.hat(term.hat_id).name
            yield (
                f"term:{term.hat_id}:{term.person_id}:{term.review_date}",
                term.person_id,
                f"{circle.name}: your term as {hat} comes to its review on {term.review_date}",
                f"Your term as {hat} comes to its review on {term.review_date}: the circle "
                f"renews it or selects again.\n\nThe hats: {{public_url}}/hats\n",
            )

    def _reviews(self, circle: Circle) -> Iterator[Reminder]:
        horizon = self._records.today() + timedelta(days=DUE_AHEAD_DAYS)
        keepers = {*circle.wearers("facilitator"), *circle.wearers("secretary")}
        for decision in self._records.list_decisions():
            if not decision.in_force or decision.review_date > horizon:
                continue
            for person in sorted(keepers):
                yield (
                    f"review:{decision.id}:{decision.review_date}:{person}",
                    person,
                    f"{circle.name}: the decision “{decision.title}” comes due for review",
                    f"The decision “{decision.title}” comes due for review on "
                    f"{decision.review_date}: put it on a meeting's agenda, to renew, amend or "
                    f"end it.\n\nThe decisions: {{public_url}}/decisions\n",
                )


def _line(item: WaitingItem) -> str:
    when = ""
    if item.deadline is not None:
        when = f" (by {item.deadline:%Y-%m-%d %H:%M} UTC)"
    elif item.due_on is not None:
        when = f" (due {item.due_on})"
    return f"{item.title}: {item.why}{when}"
