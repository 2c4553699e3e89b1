"""What the circle's logbook says of absences told ahead and of confidential agenda items.

Which of these lines a guest reads is not decided here but by the event's class
(node/app/confidential.py): the wording may change, the filter stays. The line for the guests
leaving names no confidential title, only the item's number."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from node.app.event_classes import Meeting


def _absence_told(e: Any, c: Any) -> str:
    text = f"{c.name(e.person_id)} told the secretary they will be absent from "
    text += f"{c.title(e.originator_id)!r}"
    if e.by != e.person_id:
        text += f" (recorded by {c.name(e.by)})"
    return text + (f": {e.note}" if e.note else "")


def _guests_left(e: Any, c: Any) -> str:
    meeting = c.title(e.originator_id)
    if not e.guests:
        return f"No guest was present for confidential item {e.number} of {meeting!r}"
    return (
        f"For confidential item {e.number} of {meeting!r}, {', '.join(map(c.name, e.guests))} left"
    )


# Each takes the event and the logbook's context, whose `name(id)` names a person and
# `title(id)` a meeting.
MEETING_EVENTS: dict[type[Any], Callable[[Any, Any], str]] = {
    Meeting.AbsenceTold: _absence_told,
    Meeting.AgendaWithConfidentialItemsConsented: lambda e, c: (
        f"Agenda of {c.title(e.originator_id)!r} consented: "
        + "; ".join(title if title is not None else "a confidential item" for title in e.items)
    ),
    Meeting.ConfidentialItemsNamed: lambda e, c: (
        f"Confidential item(s) of {c.title(e.originator_id)!r}: {'; '.join(e.titles)}"
    ),
    Meeting.GuestsLeft: _guests_left,
    Meeting.ConfidentialItemDecided: lambda e, c: (
        f"{c.title(e.originator_id)!r}, item {e.number} (confidential): {e.outcome}"
    ),
    Meeting.ConfidentialMinutesRecorded: lambda e, c: (
        f"Minutes of the confidential items of {c.title(e.originator_id)!r} recorded"
    ),
}
