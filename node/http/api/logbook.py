"""The circle's logbook: its history told in sentences, oldest first."""

from __future__ import annotations

from datetime import date, datetime

from fastapi import APIRouter
from pydantic import BaseModel, Field

from node.app.logbook import read_logbook
from node.http.api.auth import Node, Person
from node.http.api.errors import ERROR_RESPONSES
from node.http.api.paging import Page, Paging, page_of
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
    confidential: bool = Field(
        False, description="About a confidential item: read by full and learning participants"
    )


@router.get(
    "/logbook",
    summary="The circle's logbook, oldest first (paginated); a guest reads no line about a "
    "confidential item",
)
def logbook(node: Node, by: Person, paging: Paging) -> Page[LogbookLine]:
    lines = [
        LogbookLine(
            when=entry.when,
            at=entry.at,
            record_id=entry.record_id,
            actor=entry.actor,
            text=entry.text,
            confidential=entry.confidential,
        )
        for entry in read_logbook(node, node.meetings.reader_level(by))
    ]
    return page_of(lines, paging)
