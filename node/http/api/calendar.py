"""My calendar link: the secret address of my personal calendar feed (iCalendar), made (or
replaced), read and revoked by me alone."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Request, status
from pydantic import BaseModel, Field

from node.http.api.auth import Node, Person
from node.http.api.errors import ERROR_RESPONSES
from node.http.api.threaded import ThreadedRoute
from node.http.public_urls import calendar_url

router = APIRouter(route_class=ThreadedRoute, tags=["circle and people"], responses=ERROR_RESPONSES)


class CalendarLinkState(BaseModel):
    exists: bool = Field(description="Whether you have a calendar link that works")
    made: datetime | None = Field(description="When it was made (none: you have none)")


class CalendarLink(BaseModel):
    url: str = Field(
        description="The secret address of your calendar feed, shown this once: subscribe to "
        "it in your calendar application, and keep it to yourself"
    )
    made: datetime


@router.get("/me/calendar", summary="Whether you have a calendar link, and since when")
def my_calendar_link(node: Node, by: Person) -> CalendarLinkState:
    made = node.calendars.link_made(by)
    return CalendarLinkState(exists=made is not None, made=made)


@router.post(
    "/me/calendar",
    status_code=status.HTTP_201_CREATED,
    summary="Make your calendar link, or replace it (the old one stops working); shown once",
)
def make_calendar_link(node: Node, by: Person, request: Request) -> CalendarLink:
    secret = node.calendars.make_link(by)
    made = node.calendars.link_made(by)
    assert made is not None
    return CalendarLink(url=calendar_url(request, secret), made=made)


@router.delete(
    "/me/calendar",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Revoke your calendar link: its address answers 404 from now on",
)
def revoke_calendar_link(node: Node, by: Person) -> None:
    node.calendars.revoke_link(by)
