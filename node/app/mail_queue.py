"""Mail to send, kept in the store: a `Letter` per mail, filed in the index of letters.

A letter is saved in the same save as the change that causes it (node/app/notices.py), so a
change and the mail it calls for are stored together or not at all; it survives a restart
because it is in the store. It holds the person's id, never their address (read when it is
sent, from their personal details: an erased person's letters are dropped unsent).

Sending takes turns like the outbox's deliveries (node/network/outbox.py), by the store's own
optimistic concurrency: a sender `claim`s a letter by saving a `Claimed` event at its next
version, and of two workers claiming at once one wins the save, the other gets a conflict and
leaves the letter alone. A claim lasts `CLAIM_LEASE`: a worker that stops between the claim and
`sent` leaves the letter to be claimed again after it (it may then be sent twice; never lost).
A failed send is retried with exponential backoff and full jitter (node/network/mail_sender.py),
up to `MAX_ATTEMPTS`, then dropped and logged.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from urllib.parse import urlsplit
from uuid import NAMESPACE_URL, UUID, uuid4, uuid5

from eventsourcing.application import AggregateNotFoundError
from eventsourcing.domain import Aggregate, event
from eventsourcing.persistence import IntegrityError

from domain.errors import NotFound
from domain.person import PersonalDetails
from domain.records import Copied
from domain.values import Notices
from node.app.mail_links import Links
from node.app.records import CircleRecords

log = logging.getLogger("circle_node.mail")

CLAIM_LEASE = timedelta(minutes=10)
MAX_ATTEMPTS = 12
QUEUED, SENT, DROPPED = "queued", "sent", "dropped"
ADMISSION = "admission"  # a letter that carries a sign-in link


class Letter(Copied, Aggregate):
    """One mail to one person: what it says, and how sending it went.

    A reminder has a `key` (what it reminds of, and of whom): its id is made from the key, so
    that the same reminder is queued once, however often the calendar looks."""

    @staticmethod
    def create_id(key: str = "") -> UUID:
        return uuid5(NAMESPACE_URL, f"circle-node:letter:{key}") if key else uuid4()

    @event("Queued")
    def __init__(
        self,
        person_id: str,
        kind: str,
        subject: str,
        text: str,
        queued: datetime,
        key: str = "",
    ) -> None:
        self.person_id = person_id
        self.kind = kind  # "admission" carries a sign-in link; the others are notices
        self.subject = subject
        self.text = text
        self.queued = queued
        self.state = QUEUED
        self.not_before = queued
        self.attempts = 0
        self.claimed_by = ""
        self.claimed_until: datetime | None = None
        self.last_error = ""

    def is_due(self, now: datetime) -> bool:
        """Waiting to be sent, not before now, and claimed by nobody (or a lapsed claim)."""
        unclaimed = self.claimed_until is None or self.claimed_until <= now
        return self.state == QUEUED and self.not_before <= now and unclaimed

    def claim(self, worker: str, now: datetime) -> None:
        self._claimed(worker, now + CLAIM_LEASE)

    @event("Claimed")
    def _claimed(self, worker: str, until: datetime) -> None:
        self.claimed_by = worker
        self.claimed_until = until

    @event("Sent")
    def sent(self, at: datetime) -> None:
        self.state = SENT
        self.claimed_until = None

    @event("Failed")
    def failed(self, error: str, retry_at: datetime) -> None:
        self.attempts += 1
        self.last_error = error
        self.not_before = retry_at
        self.claimed_until = None

    @event("Dropped")
    def dropped(self, reason: str) -> None:
        self.state = DROPPED
        self.last_error = reason
        self.claimed_until = None


class MailQueue:
    """The letters waiting, claimed (composed into mails) and settled by the mail sender."""

    def __init__(self, work: CircleRecords, links: Links, worker: str) -> None:
        self._work = work
        self._links = links
        self.worker = worker
        # Where the links in mails lead (the circle's public URL), and who mails come from:
        # set by the server that sends them (node/http/server.py).
        self.public_url = ""
        self.from_address = ""
        # Letters known to be settled (sent or dropped): not loaded again by this process.
        self._settled: set[UUID] = set()
        self._lock = threading.Lock()

    def due(self) -> list[UUID]:
        """The letters that may be sent now, oldest first."""
        now = self._work.now()
        due = []
        for letter_id in self._work.ids("letter"):
            with self._lock:
                if letter_id in self._settled:
                    continue
            letter = self._letter(letter_id)
            if letter is None or letter.state != QUEUED:
                with self._lock:
                    self._settled.add(letter_id)
            elif letter.is_due(now):
                due.append(letter_id)
        return due

    def waiting(self) -> list[Letter]:
        """The letters waiting to be sent (claimed or not)."""
        letters = (self._letter(letter_id) for letter_id in self._work.ids("letter"))
        return [letter for letter in letters if letter is not None and letter.state == QUEUED]

    def claim(self, letter_id: UUID) -> EmailMessage | None:
        """Claim a due letter for this worker and compose its mail (an admission's with a new
        sign-in link, saved with the claim); None if another worker has it, it is no longer
        due, or it cannot be sent (then dropped: the person was erased, gave no address, or
        chose no mail)."""
        letter = self._letter(letter_id)
        now = self._work.now()
        if letter is None or not letter.is_due(now):
            return None
        details = self._details(letter.person_id)
        wanted = details is not None and (
            letter.kind == ADMISSION or details.notices != Notices.NONE
        )
        if details is None or not details.email or not wanted:
            letter.dropped("no address to send it to, or no mail wanted")
            self._save_or_conflict(letter)
            return None
        letter.claim(self.worker, now)
        links = self._links.links()
        try:
            message = compose(
                letter,
                details.email,
                self.from_address,
                self.public_url,
                links.issue(letter.person_id, now) if letter.kind == ADMISSION else None,
                links.signature(letter.person_id),
            )
        except (ValueError, TypeError) as error:
            # A mail the email library will not write (a header it refuses) is dropped with
            # its reason, so that it never stops the letters after it.
            letter.dropped(f"its mail could not be written: {type(error).__name__}")
            self._save_or_conflict(letter)
            return None
        return message if self._save_or_conflict(letter, links) else None

    def _save_or_conflict(self, *aggregates: Aggregate) -> bool:
        try:
            self._work.save(*(a for a in aggregates if a.pending_events))
        except IntegrityError:
            return False  # another worker claimed or settled it first
        return True

    def sent(self, letter_id: UUID) -> None:
        letter = self._mine(letter_id)
        if letter is not None:
            letter.sent(self._work.now())
            self._settle(letter)

    def failed(self, letter_id: UUID, error: str, retry_in: Callable[[int], float]) -> bool:
        """Record a failed attempt, to be tried again `retry_in(attempt)` seconds later; True
        if it will be, False if given up (after `MAX_ATTEMPTS`)."""
        letter = self._mine(letter_id)
        if letter is None:
            return False
        if letter.attempts + 1 >= MAX_ATTEMPTS:
            letter.dropped(f"given up after {MAX_ATTEMPTS} attempts: {error}")
            self._settle(letter)
            return False
        delay = retry_in(letter.attempts + 1)
        letter.failed(error, self._work.now() + timedelta(seconds=delay))
        self._work.save(letter)
        return True

    def _settle(self, letter: Letter) -> None:
        self._work.save(letter)
        with self._lock:
            self._settled.add(letter.id)

    def _mine(self, letter_id: UUID) -> Letter | None:
        """The letter, if this worker still holds its claim."""
        letter = self._letter(letter_id)
        if letter is None or letter.state != QUEUED or letter.claimed_by != self.worker:
            return None
        return letter

    def _letter(self, letter_id: UUID) -> Letter | None:
        try:
            letter: Letter = self._work.load(Letter, letter_id)
        except AggregateNotFoundError:
            return None
        return letter

    def _details(self, person_id: str) -> PersonalDetails | None:
        try:
            details: PersonalDetails = self._work.get_record(PersonalDetails, person_id, "person")
        except NotFound:
            return None  # erased
        return details


def compose(
    letter: Letter,
    to: str,
    sender: str,
    public_url: str,
    sign_in_token: str | None,
    unsubscribe_signature: str,
) -> EmailMessage:
    """The mail of a letter: its text with the circle's links filled in, and a one-click
    unsubscribe (RFC 8058: the List-Unsubscribe URL takes a POST without signing in)."""
    base = public_url.rstrip("/")
    unsubscribe = f"{base}/unsubscribe/{letter.person_id}/{unsubscribe_signature}"
    text = letter.text.replace("{public_url}", base)
    if sign_in_token is not None:
        text = text.replace("{sign_in_link}", f"{base}/sign-in/link/{sign_in_token}")
    message = EmailMessage()
    message["From"] = sender
    message["To"] = to
    # A title may hold line breaks; a header never does (no header is injected, none refused).
    message["Subject"] = " ".join(letter.subject.split())
    message["Date"] = formatdate(localtime=False)
    message["Message-ID"] = make_msgid(idstring=str(letter.id), domain=urlsplit(base).hostname)
    message["List-Unsubscribe"] = f"<{unsubscribe}>"
    message["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    message["Auto-Submitted"] = "auto-generated"
    footer = f"\n-- \nTo stop these mails: {unsubscribe}\nOr change how often: {base}/account\n"
    message.set_content(text + footer)
    return message
