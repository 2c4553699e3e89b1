"""A person's calendar feed (iCalendar, RFC 5545, built with the `icalendar` library) at their
secret address: `GET /calendar/<secret>.ics`, which calendar applications subscribe to.

The secret in the address is the only authentication (a calendar application sends no other);
an unknown, replaced or revoked secret, or one of someone who has left, answers 404. The
address is never logged: a failure is logged without it.
"""

from __future__ import annotations

import logging
from datetime import UTC, date, datetime, timedelta
from uuid import NAMESPACE_URL, uuid5

from fastapi import APIRouter, Request
from fastapi.responses import Response
from icalendar import Calendar, Event

from node.app.calendar_items import CalendarItem
from node.app.node import CircleNode
from node.http.public_urls import public_url
from node.http.served_circle import served
from node.http.web.rendering import SECURITY_HEADERS

log = logging.getLogger("circle_node.web")

router = APIRouter()

CALENDAR_TYPE = "text/calendar; charset=utf-8"
# How often a calendar application is asked to read the feed again.
REFRESH = timedelta(hours=1)
NOT_FOUND = "No calendar at this address: it was revoked or replaced, or never made.\n"


@router.get("/calendar/{secret}.ics", include_in_schema=False)
def personal_calendar(request: Request, secret: str) -> Response:
    node: CircleNode = served(request).node
    try:
        person = node.calendars.person_for_secret(secret)
        if person is None:
            return Response(NOT_FOUND, 404, SECURITY_HEADERS, "text/plain; charset=utf-8")
        body = calendar_of(node, person, public_url(request))
    except Exception:  # logged here, without the secret the path holds
        log.exception("error serving a personal calendar")
        return Response("The node could not do that.\n", 500, SECURITY_HEADERS, "text/plain")
    return Response(body, 200, SECURITY_HEADERS, CALENDAR_TYPE)


def calendar_of(node: CircleNode, person_id: str, base: str) -> bytes:
    """The person's calendar, as iCalendar bytes."""
    circle = node.records.peek_circle()
    calendar = Calendar.new(
        prodid="-//circle-node//personal calendar//EN",
        uid=uuid5(NAMESPACE_URL, f"circle-node:calendar:{circle.id}:{person_id}"),
        name=f"{circle.name} ({node.records.person_name(person_id)})",
        description=f"Meetings, deadlines, reviews and hat terms of the {circle.name} circle",
        refresh_interval=REFRESH,
        url=f"{base}/circle",
    )
    stamp = node.records.now().astimezone(UTC)  # DTSTAMP is in UTC (RFC 5545 3.8.7.2)
    for item in node.calendars.items_for(person_id):
        calendar.add_component(_event(item, base, stamp))
    calendar.add_missing_timezones()  # the circle's zone, for the meetings' and deadlines' times
    result: bytes = calendar.to_ical()
    return result


def _event(item: CalendarItem, base: str, stamp: datetime) -> Event:
    start = item.start
    # A whole day ends the next day (DTEND is exclusive); a moment has no length on record.
    # (The last day a date can be has no next day: such an event is left a moment.)
    end = None if isinstance(start, datetime) or start == date.max else start + timedelta(days=1)
    event = Event.new(
        uid=f"{item.uid}@circle-node",
        summary=item.summary,
        description=item.description,
        start=start,
        end=end,
        stamp=stamp,
        last_modified=item.changed,
        sequence=item.sequence,
        url=f"{base}{item.path}" if item.path else None,
    )
    return event
