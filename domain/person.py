"""Personal details, kept apart from the circle's record so that they can be erased."""

from __future__ import annotations

import re
from email.errors import HeaderParseError, MessageDefect
from email.headerregistry import Address

from eventsourcing.domain import Aggregate, event

from domain.errors import InvalidRequest, NotPermitted
from domain.inputs import choice, required_text
from domain.records import Copied
from domain.values import Notices

# An address as mail servers take it: something, one @, a domain with a dot; no spaces.
_ADDRESS = re.compile(r"[^@\s<>,;]+@[^@\s<>,;]+\.[^@\s<>,;]+")


def is_plain_address(address: str) -> bool:
    """Whether this is a plain `local@domain` that the mail library reads back unchanged: no
    comments, groups, quoting or display names, which a mail header would read otherwise."""
    if len(address) > 254 or not _ADDRESS.fullmatch(address):
        return False
    try:
        parsed = Address(addr_spec=address)
    except (ValueError, HeaderParseError, MessageDefect):
        return False
    return parsed.addr_spec == address and not parsed.domain.startswith("[")


class PersonalDetails(Copied, Aggregate):
    """A person's name and contact. The record refers to people only by this aggregate's id.

    Their email address, and how they want to hear from the node there, are theirs alone to
    set, and are erased with the rest (a person registered before addresses has none)."""

    email: str = ""
    notices: str = Notices.EACH

    @classmethod
    def register(cls, name: str, contact: str = "", email: str = "") -> PersonalDetails:
        """`email`: the address an applicant gave in their application (mail about it, and
        their sign-in link once admitted, goes there); from then on theirs to change."""
        person = cls(name=required_text(name, "A person needs a name"), contact=contact.strip())
        if email.strip():
            person.choose_mail(str(person.id), email, Notices.EACH)
        return person

    @event("Registered")
    def __init__(self, name: str, contact: str) -> None:
        self.name = name
        self.contact = contact
        # Notes of appreciation, by the occasion (a membership status such as "left"): kept
        # with the person, not in the circle's record, because they name the person.
        self.notes: dict[str, str] = {}

    def add_note(self, occasion: str, text: str) -> None:
        self._noted(occasion, required_text(text, "A note needs its words"))

    @event("Noted")
    def _noted(self, occasion: str, text: str) -> None:
        self.notes[occasion] = text

    def update(self, name: str, contact: str) -> None:
        self._updated(required_text(name, "A person needs a name"), contact.strip())

    @event("Updated")
    def _updated(self, name: str, contact: str) -> None:
        self.name = name
        self.contact = contact

    def choose_mail(self, by: str, email: str, notices: str) -> None:
        """Give, change or remove (empty) the address mail goes to, and how often."""
        self.check_is(by, "choose where and how often the circle mails you")
        address = email.strip()
        if address and not is_plain_address(address):
            raise InvalidRequest(f"{address!r} is not an email address")
        self._mail_chosen(address, choice(Notices, notices, "way to hear from the circle"))

    @event("MailChosen")
    def _mail_chosen(self, email: str, notices: str) -> None:
        self.email = email
        self.notices = notices

    def check_is(self, by: str, doing: str) -> None:
        if by != str(self.id):
            raise NotPermitted(f"Only the person themselves can {doing}")
