"""Finding lines in the circle's logbook: by the kind of record they are about
(node/app/logbook_kinds.py), by words of their text, and by the days they were recorded (in the
circle's time zone)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from domain.errors import InvalidRequest
from node.app.logbook import LogbookEntry, read_logbook
from node.app.logbook_kinds import LineKind
from node.app.node import CircleNode


@dataclass(frozen=True)
class LogbookSearch:
    """Which lines to keep: those whose text holds `text` (whatever the case), of `kind`,
    recorded from the day `since` to the day `until` (both included). Empty: every line."""

    text: str = ""
    kind: str = ""
    since: date | None = None
    until: date | None = None

    def __post_init__(self) -> None:
        if self.kind and self.kind not in set(LineKind):
            raise InvalidRequest(f"The logbook has no lines of the kind {self.kind!r}")
        if self.since and self.until and self.since > self.until:
            raise InvalidRequest("The last day comes before the first: nothing can be found")

    def keeps(self, kind: str, text: str, day: date) -> bool:
        words = self.text.strip().casefold()
        return (
            (not words or words in text.casefold())
            and (not self.kind or kind == self.kind)
            and (self.since is None or day >= self.since)
            and (self.until is None or day <= self.until)
        )


def search_logbook(
    node: CircleNode, level: str | None, search: LogbookSearch
) -> list[LogbookEntry]:
    """The lines of the logbook `search` keeps, oldest first, as a participant of `level`
    reads it (node.app.logbook.read_logbook)."""
    return [
        entry
        for entry in read_logbook(node, level)
        if search.keeps(entry.kind, entry.text, entry.at.date())
    ]
