"""Which changes of the circle call for a mail to someone, and what it says.

`letters_for` looks at the events a save is about to store, as node/app/publishing.py does for
the feed, and returns the letters (node/app/mail_queue.py) they cause, which the node saves in
that same save: someone admitted is sent their sign-in link; when a consent round opens, each
full participant who must answer is told. Who gave no address, or chose no mail, is queued for
nothing; who chose a daily digest gets, at `DIGEST_HOUR` of the circle's time, one mail
listing what waits for them (node/app/waiting.py), queued by the calendar's reminders. A
letter names records of the circle (a proposal's title), never another person.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any, Protocol

from eventsourcing.domain import Aggregate

from domain.circle import Circle
from domain.errors import NotFound
from domain.person import PersonalDetails
from domain.proposal import Proposal
from domain.selection import HatSelection
from domain.values import Notices
from node.app import event_classes
from node.app.mail_queue import ADMISSION, Letter

NOTICE = "notice"
# Daily digests go at this hour of the circle's time zone.
DIGEST_HOUR = 7


class Noticing(Protocol):
    """What notices read of the node."""

    def get_circle(self) -> Circle: ...

    def details(self, person_id: str) -> PersonalDetails | None: ...

    def now(self) -> datetime: ...


def letters_for(node: Noticing, aggregates: Sequence[Aggregate]) -> list[Letter]:
    """The letters the pending events of `aggregates` cause, in order."""
    letters: list[Letter] = []
    for aggregate in aggregates:
        for pending in aggregate.pending_events:
            write = WRITERS.get((type(aggregate), type(pending)))
            if write is not None:
                letters.extend(write(node, aggregate, pending))
    return letters


def wants_mail(node: Noticing, person_id: str, *, always: bool = False) -> bool:
    """Whether the person is mailed each notice as it comes (`always`: any mail at all). Who
    chose a digest hears of it in the day's list of what waits for them (node/app/reminders.py)."""
    details = node.details(person_id)
    if details is None or not details.email:
        return False
    return always or details.notices == Notices.EACH


def wants_digest(node: Noticing, person_id: str) -> bool:
    details = node.details(person_id)
    return details is not None and bool(details.email) and details.notices == Notices.DIGEST


def _admitted(node: Noticing, circle: Any, admitted: Any) -> list[Letter]:
    person_id = admitted.person_id
    if not wants_mail(node, person_id, always=True):
        return []
    text = (
        f"You are now a member of {circle.name}.\n\n"
        "Sign in to the circle's pages with this link. It works once, for 24 hours; after "
        "that, ask the secretary for a personal token:\n\n{sign_in_link}\n"
    )
    return [
        Letter(
            person_id=person_id,
            kind=ADMISSION,
            subject=f"Welcome to {circle.name}: sign in",
            text=text,
            queued=node.now(),
        )
    ]


def what_and_where(circle: Circle, process: Any) -> tuple[str, str]:
    """A consent process as a letter names it, and the path of its page."""
    if isinstance(process, Proposal):
        return f"the proposal “{process.title}”", f"/proposals/{process.id}"
    return f"the selection for {circle.hat(process.hat_id).name}", "/hats"


def _round_opened(node: Noticing, process: Any, opened: Any) -> list[Letter]:
    circle = node.get_circle()
    what, path = what_and_where(circle, process)
    deadline = ""
    if process.deadline is not None:
        deadline = f" Answer by {process.deadline:%Y-%m-%d %H:%M} UTC."
    round_number = process.round_number
    text = (
        f"A consent round is open in {circle.name} on {what} (round {round_number}). "
        f"As a full participant, your consent or objection is needed.{deadline}\n\n"
        f"Answer here: {{public_url}}{path}\n"
    )
    return [
        Letter(
            person_id=person_id,
            kind=NOTICE,
            subject=f"{circle.name}: your answer is needed on {what}",
            text=text,
            queued=node.now(),
        )
        for person_id in circle.full_participants()
        if wants_mail(node, person_id)
    ]


Writer = Callable[[Noticing, Any, Any], list[Letter]]

# What one event calls for, chosen by its aggregate's class and the event's class.
WRITERS: dict[tuple[type, type], Writer] = {
    (Circle, event_classes.Circle.Admitted): _admitted,
    # The consent process's own event (recorded as such by proposals and selections alike);
    # a selection's consent round opens with its candidate proposed.
    (Proposal, event_classes.ConsentProcess.ConsentRoundOpened): _round_opened,
    (HatSelection, event_classes.ConsentProcess.ConsentRoundOpened): _round_opened,
    (HatSelection, event_classes.HatSelection.CandidateProposed): _round_opened,
}


def details_or_none(get: Callable[[str], PersonalDetails]) -> Callable[[str], Any]:
    def details(person_id: str) -> PersonalDetails | None:
        try:
            return get(person_id)
        except NotFound:
            return None

    return details
