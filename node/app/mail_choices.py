"""Where and how often the node mails someone: their address and choice of notices, set by the
person alone and shown to nobody else. Both are personal data (domain/person.py), erased with
the rest of the person's details."""

from __future__ import annotations

from dataclasses import dataclass

from domain.errors import NotPermitted
from domain.person import PersonalDetails
from domain.values import GONE
from node.app.work import UnitOfWork, Work
from node.store.retry import retry_on_conflict as command


@dataclass(frozen=True)
class MailChoice:
    """Someone's address (empty: none given) and how they hear: each, digest or none."""

    email: str
    notices: str


class MailChoices:
    """Each person gives, changes or removes their own address and chooses how often."""

    def __init__(self, work: Work) -> None:
        self._work = work

    @command
    def choose(self, by: str, person_id: str, email: str, notices: str) -> MailChoice:
        with UnitOfWork(self._work) as uow:
            if uow.shared_circle().participant(person_id).status in GONE:
                raise NotPermitted("Someone who has left the circle is mailed nothing")
            details: PersonalDetails = uow.record(PersonalDetails, person_id, "person")
            details.choose_mail(by, email, notices)
            return MailChoice(details.email, details.notices)

    def choice_of(self, by: str, person_id: str) -> MailChoice:
        """Someone's own choice, read by them alone."""
        details: PersonalDetails = self._work.get_record(PersonalDetails, person_id, "person")
        details.check_is(by, "read where the circle mails you")
        return MailChoice(details.email, details.notices)
