"""The circle's logbook: its history told in sentences, oldest first; found by words, kind and
days (node.app.logbook_search)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from node.app.logbook import LogbookEntry
from node.app.logbook_kinds import LineKind
from node.app.logbook_lines import logbook_page
from node.app.logbook_search import LogbookSearch, search_logbook
from node.http.api.auth import Node, Person
from node.http.api.errors import ERROR_RESPONSES
from node.http.api.paging import Page, Paging, page_of, window_of
from node.http.api.threaded import ThreadedRoute

router = APIRouter(route_class=ThreadedRoute, tags=["logbook"], responses=ERROR_RESPONSES)


class LogbookLine(BaseModel):
    when: date = Field(description="The day it took effect, in the circle's time zone")
    at: datetime = Field(
        description="When it was recorded, in the circle's time zone, with its offset"
    )
    record_id: str = Field(description="The record it is about (a proposal, a decision...)")
    actor: str | None = Field(
        description=(
            "The id of who did it (a person, or a linked seat), where the record names them; "
            "null for facts from other circles and for what the calendar brought"
        )
    )
    text: str = Field(description="What happened, naming the proposal, selection or meeting")
    kind: LineKind = Field(description="The kind of record it is about")
    confidential: bool = Field(
        False, description="About a confidential item: read by full and learning participants"
    )


@router.get(
    "/logbook",
    summary="The circle's logbook, oldest first (paginated), or the lines found by words, kind "
    "and days; a guest reads no line about a confidential item",
)
def logbook(
    node: Node,
    by: Person,
    paging: Paging,
    text: Annotated[
        str, Query(max_length=200, description="Words the line holds, whatever their case")
    ] = "",
    kind: Annotated[LineKind | None, Query(description="The kind of record it is about")] = None,
    since: Annotated[
        date | None, Query(description="Recorded on this day or after (the circle's days)")
    ] = None,
    until: Annotated[
        date | None, Query(description="Recorded on this day or before (the circle's days)")
    ] = None,
) -> Page[LogbookLine]:
    level = node.meetings.reader_level(by)
    if not (text or since or until):  # a page told alone, however long the logbook
        window, total = logbook_page(node, level, paging.offset, paging.limit, kind)
        return window_of([_line(entry) for entry in window], total, paging)
    # Words and days are looked for in every line told (see node/app/logbook_search.py).
    search = LogbookSearch(text, kind or "", since, until)
    return page_of([_line(entry) for entry in search_logbook(node, level, search)], paging)


def _line(entry: LogbookEntry) -> LogbookLine:
    return LogbookLine(
        when=entry.when,
        at=entry.at,
        record_id=entry.record_id,
        actor=entry.actor,
        text=entry.text,
        kind=LineKind(entry.kind),
        confidential=entry.confidential,
    )
