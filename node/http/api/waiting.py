"""What waits for the member asking: their "Waiting for you" list (node/app/waiting.py)."""

from __future__ import annotations

from datetime import date, datetime

from fastapi import APIRouter
from pydantic import BaseModel, Field

from node.app.waiting import Waiting, WaitingItem, my_waiting
from node.http.api.auth import Node, Person
from node.http.api.errors import ERROR_RESPONSES
from node.http.api.fields import in_zone
from node.http.api.paging import Page, Paging, page_of
from node.http.api.threaded import ThreadedRoute

router = APIRouter(route_class=ThreadedRoute, tags=["circle and people"], responses=ERROR_RESPONSES)


class WaitingOut(BaseModel):
    what: Waiting = Field(description="What waits: a round to answer, questions, minutes, ...")
    record: str = Field(
        description="The kind of record it is about: proposal, selection, meeting, hat, "
        "decision, appeal, circle (a linked circle) or person"
    )
    record_id: str = Field(
        description="The record's id (a hat's id, a linked circle's reference, a person's id)"
    )
    title: str = Field(description="The record's title")
    why: str = Field(description="Why it waits for you, in a sentence")
    deadline: datetime | None = Field(
        description="A round's deadline, in the circle's time zone with its offset (none for a "
        "round held in a meeting, and for what has no deadline)"
    )
    due_on: date | None = Field(
        description="The date a term or review falls due, or a meeting's (minutes), in the "
        "circle's time zone"
    )


@router.get(
    "/me/waiting",
    summary="What waits for you: rounds needing your answer, questions of your proposals, "
    "minutes, terms and reviews coming due, appeals, requests, trials (soonest first, paginated)",
)
def list_my_waiting(node: Node, by: Person, paging: Paging) -> Page[WaitingOut]:
    zone = node.records.time_zone()

    def out(item: WaitingItem) -> WaitingOut:
        return WaitingOut(
            what=item.what,
            record=item.record,
            record_id=item.record_id,
            title=item.title,
            why=item.why,
            deadline=in_zone(item.deadline, zone),
            due_on=item.due_on,
        )

    return page_of([out(item) for item in my_waiting(node.records, by)], paging)
