"""The secrets behind the links in mails: one-time sign-in links, and unsubscribe links.

A sign-in link (sent to someone admitted) carries a random token; the node keeps only its
SHA-256 hash, whose it is and until when it holds (`SIGN_IN_LINK_LIFETIME`). It leads to a
sign-in form; posting that form uses the link (once: a second use is refused, as is a use
after it expired) and signs the person in with a personal token issued for that session,
never shown (so that leaving ends the session like any other). That token is revoked when
the session signs out; revoking any of the person's tokens revokes it too, and refuses their
links not yet used (node/app/tokens.py). The bearer token itself is never mailed.

An unsubscribe link names the person and carries an HMAC of their id under a key kept here,
so that it works without signing in and cannot be made for someone else.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from datetime import datetime, timedelta
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.application import AggregateNotFoundError
from eventsourcing.domain import Aggregate, event

from domain.errors import NotFound, NotPermitted
from domain.person import PersonalDetails
from domain.records import Copied
from domain.values import GONE, Notices
from node.app.credentials import CREDENTIALS_ID, Credentials
from node.app.records import CircleRecords
from node.app.work import UnitOfWork
from node.store.retry import retry_on_conflict as command

MAIL_LINKS_ID = uuid5(NAMESPACE_URL, "circle-node:mail-links")
SIGN_IN_LINK_LIFETIME = timedelta(hours=24)
LINK_REFUSED = (
    "This sign-in link was used already, has expired, or is unknown: sign in with your "
    "personal token, or ask the circle's secretary for one."
)


def link_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class MailLinks(Copied, Aggregate):
    """The unsubscribe key, and the sign-in links issued (by hash) and whether used."""

    @staticmethod
    def create_id(**kwargs: Any) -> UUID:
        return MAIL_LINKS_ID

    @event("Opened")
    def __init__(self, key: bytes) -> None:
        self.key = key
        # hash -> {"person", "expires" (ISO), "used"}
        self.sign_in: dict[str, dict[str, Any]] = {}

    def issue(self, person_id: str, now: datetime) -> str:
        """A new sign-in link's token for the person (their earlier links stop working)."""
        token = secrets.token_urlsafe(32)
        expires = (now + SIGN_IN_LINK_LIFETIME).isoformat()
        self._issued(link_hash(token), person_id, expires)
        return token

    @event("SignInLinkIssued")
    def _issued(self, digest: str, person_id: str, expires: str) -> None:
        for link in self.sign_in.values():
            if link["person"] == person_id:
                link["used"] = True
        # Links expired a day before this one was issued are forgotten: the aggregate stays
        # small, and what is forgotten could not be used anyway.
        cutoff = datetime.fromisoformat(expires) - 2 * SIGN_IN_LINK_LIFETIME
        self.sign_in = {
            h: link
            for h, link in self.sign_in.items()
            if datetime.fromisoformat(link["expires"]) > cutoff
        }
        self.sign_in[digest] = {"person": person_id, "expires": expires, "used": False}

    def person_for(self, token: str, now: datetime) -> str | None:
        """Whose link this is, if it may still be used; else None."""
        link = self.sign_in.get(link_hash(token))
        if link is None or link["used"] or datetime.fromisoformat(link["expires"]) <= now:
            return None
        person: str = link["person"]
        return person

    def use(self, token: str, now: datetime) -> str:
        person = self.person_for(token, now)
        if person is None:
            raise NotPermitted(LINK_REFUSED)
        self._used(link_hash(token))
        return person

    @event("SignInLinkUsed")
    def _used(self, digest: str) -> None:
        self.sign_in[digest]["used"] = True

    def withdraw(self, person_id: str) -> None:
        """Refuse the person's links not yet used (their tokens were revoked)."""
        if any(link["person"] == person_id and not link["used"] for link in self.sign_in.values()):
            self._withdrawn(person_id)

    @event("SignInLinksWithdrawn")
    def _withdrawn(self, person_id: str) -> None:
        for link in self.sign_in.values():
            if link["person"] == person_id:
                link["used"] = True

    def signature(self, person_id: str) -> str:
        mac = hmac.new(self.key, b"unsubscribe:" + person_id.encode(), hashlib.sha256)
        return base64.urlsafe_b64encode(mac.digest()[:16]).decode().rstrip("=")


class Links:
    """Sign-in links and unsubscribing, as the pages and the mail sender use them."""

    def __init__(self, records: CircleRecords) -> None:
        self._records = records

    def links(self) -> MailLinks:
        """The links' aggregate, a copy of its own (a new one, not yet stored, if none is)."""
        try:
            links: MailLinks = self._records.load(MailLinks, MAIL_LINKS_ID)
        except AggregateNotFoundError:
            return MailLinks(key=secrets.token_bytes(32))
        return links

    def person_for_link(self, token: str) -> str | None:
        """Whose sign-in link this is, if it may still be used (the form's page asks)."""
        return self.links().person_for(token, self._records.now())

    @command
    def sign_in_with_link(self, token: str) -> tuple[str, str]:
        """Use a sign-in link, once; returns (person, the id of the personal token issued for
        the session it opens: never shown)."""
        with UnitOfWork(self._records) as uow:
            links = self.links()
            uow.add(links)
            person = links.use(token, uow.now)
            participant = uow.shared_circle().participants.get(person)
            if participant is None or participant.status in GONE:
                raise NotPermitted(LINK_REFUSED)
            credentials = self._credentials()
            uow.add(credentials)
            return person, credentials.issue_for_session(person, uow.now)

    def _credentials(self) -> Credentials:
        try:
            credentials: Credentials = self._records.load(Credentials, CREDENTIALS_ID)
        except AggregateNotFoundError:
            return Credentials()
        return credentials

    def unsubscribe_signature(self, person_id: str) -> str:
        return self.links().signature(person_id)

    @command
    def unsubscribe(self, person_id: str, signature: str) -> None:
        """Stop all mail but sign-in links to someone, by the link in their mail."""
        links = self.links()
        if not hmac.compare_digest(links.signature(person_id), signature):
            raise NotFound("This unsubscribe link is not one this circle sent")
        with UnitOfWork(self._records) as uow:
            details: PersonalDetails = uow.record(PersonalDetails, person_id, "person")
            if details.notices != Notices.NONE:
                details.choose_mail(person_id, details.email, Notices.NONE)
