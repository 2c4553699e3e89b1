"""Personal calendars: each person may make a secret link to their calendar feed (shown once),
replace it, and revoke it; the link opens their calendar while they are in the circle.

A link is revoked with its person's access: when their last personal token is revoked
(node/app/tokens.py), and it opens nothing once they have left the circle.
"""

from __future__ import annotations

from datetime import datetime

from eventsourcing.application import AggregateNotFoundError

from domain.errors import NotFound, NotPermitted
from domain.values import GONE
from node.app.calendar_items import CalendarItem, calendar_items
from node.app.calendar_secrets import CALENDAR_SECRETS_ID, CalendarSecrets
from node.app.records import CircleRecords
from node.app.work import UnitOfWork, Work
from node.store.retry import retry_on_conflict as command


def calendar_secrets(work: Work) -> CalendarSecrets:
    """The node's calendar links, a copy of its own to change (new, not yet stored, if none)."""
    try:
        secrets: CalendarSecrets = work.load(CalendarSecrets, CALENDAR_SECRETS_ID)
    except AggregateNotFoundError:
        return CalendarSecrets()
    return secrets


class Calendars:
    """Making, replacing and revoking calendar links; reading a person's calendar."""

    def __init__(self, records: CircleRecords) -> None:
        self._records = records

    @command
    def make_link(self, person_id: str) -> str:
        """A new calendar link for the person (replacing theirs); returns its secret, shown
        this once."""
        participant = self._records.peek_circle().participant(person_id)
        if participant.status in GONE:
            raise NotPermitted("Someone who has left the circle gets no calendar link")
        with UnitOfWork(self._records) as uow:
            secrets = calendar_secrets(self._records)
            uow.add(secrets)
            return secrets.make(person_id, uow.now)

    @command
    def revoke_link(self, person_id: str) -> None:
        secrets = calendar_secrets(self._records)
        if secrets.made_for(person_id) is None:
            raise NotFound("You have no calendar link to revoke")
        with UnitOfWork(self._records) as uow:
            uow.add(secrets)
            secrets.revoke(person_id)

    def link_made(self, person_id: str) -> datetime | None:
        """When the person's calendar link was made, or None if they have none."""
        made = self._peek().made_for(person_id)
        return datetime.fromisoformat(made) if made is not None else None

    def person_for_secret(self, secret: str) -> str | None:
        """Whose calendar a secret opens: someone of the circle who has not left; else None."""
        person = self._peek().person_for(secret)
        if person is None or not self._records.is_founded:
            return None
        participant = self._records.peek_circle().participants.get(person)
        if participant is None or participant.status in GONE:
            return None
        return person

    def items_for(self, person_id: str) -> list[CalendarItem]:
        return calendar_items(self._records, person_id)

    def _peek(self) -> CalendarSecrets:
        try:
            secrets: CalendarSecrets = self._records.kept.peek(CALENDAR_SECRETS_ID)
        except AggregateNotFoundError:
            return CalendarSecrets()
        return secrets
