"""A signed-in member's home (/home, where signing in leads): what waits for them, each with a
link to the page where it is done, its deadline or due date in the circle's time zone."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from fastapi import APIRouter
from fastapi.responses import Response

from node.app.waiting import Waiting, WaitingItem, waiting_for
from node.http.web.visits import Member, PageRoute

router = APIRouter(route_class=PageRoute)

# The member API's operations these pages carry out (node.http.web.page_table).
OPERATIONS = {"GET /api/me/waiting": "/home"}

HEADINGS = {
    Waiting.CONSENT_ROUND: "Round to answer",
    Waiting.QUESTION: "Questions to answer",
    Waiting.MINUTES: "Minutes to consent",
    Waiting.HAT_TERM: "Term coming up for review",
    Waiting.REVIEW: "Review of a decision",
    Waiting.APPEAL: "Appeal to answer",
    Waiting.CONSENT_REQUEST: "Request from a linked circle",
    Waiting.SEAT_REQUEST: "Your seat's answer",
    Waiting.TRIAL_SESSION: "Trial to count",
}


def link_to(item: WaitingItem) -> str:
    """Where the item is seen and acted on: a proposal, an appeal, a selection, a hat, a
    meeting, a decision, a person, and a linked circle (its request), each on its own page."""
    if item.record in ("proposal", "appeal", "selection", "hat", "meeting", "decision"):
        return f"/{item.record}s/{item.record_id}"
    if item.record == "person":
        return f"/people/{item.record_id}"
    if item.record == "circle":
        return f"/circles/{item.record_id}"
    return "/circle"


@router.get("/home", include_in_schema=False)
def home_page(found: Member) -> Response:
    records = found.node.records
    assert found.person is not None
    today = records.today()
    rows: list[dict[str, Any]] = []
    for item in waiting_for(records, found.person):
        due = item.deadline.astimezone(records.time_zone()) if item.deadline else None
        day = due.date() if due is not None else item.due_on
        rows.append(
            {
                "what": item.what.value,
                "heading": HEADINGS[item.what],
                "title": item.title,
                "why": item.why,
                "href": link_to(item),
                "deadline": due,
                "due_on": item.due_on,
                "urgency": "" if day is None else _urgency(day, today),
            }
        )
    return found.page("home.html", waiting=rows, circle=records.peek_circle())


def _urgency(day: Any, today: Any) -> str:
    """`due` for what is due today or past, `soon` within a day more."""
    if day <= today:
        return "due"
    return "soon" if day <= today + timedelta(days=1) else ""
