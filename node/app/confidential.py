"""What of the circle's record only its full and learning participants read: the events that
tell a confidential agenda item's title, its outcome, and the minutes of confidential items
(domain/meeting.py). The logbook leaves their lines out for guests; publishing tells other
circles none of them: they never leave the node."""

from __future__ import annotations

from typing import Any

from domain.meeting import reads_confidential
from node.app.event_classes import Meeting

# Chosen by class, never by what a line says: the logbook's wording can change freely.
CONFIDENTIAL_EVENTS: frozenset[type[Any]] = frozenset(
    {
        Meeting.ConfidentialItemsNamed,
        Meeting.ConfidentialItemDecided,
        Meeting.ConfidentialMinutesRecorded,
    }
)


def is_confidential(event_class: type[Any]) -> bool:
    return event_class in CONFIDENTIAL_EVENTS


def shown_to(level: str | None, event_class: type[Any]) -> bool:
    """Whether a reader of this level reads what an event of this class tells; None is the
    node's operator (export, the command line), who reads the whole record."""
    return level is None or reads_confidential(level) or not is_confidential(event_class)
