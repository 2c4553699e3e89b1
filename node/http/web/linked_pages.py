"""What linked circles sent: at a co-op, each member circle's records (aim, hats with their
wearers and back-stops), its decisions in force and its minutes; at a member circle, its
co-op's. Anyone signed in reads them; there is nothing to change here. A decision of a circle
linked to this one can be appealed from its line (the appeals page, node.http.web.appeal_pages).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query
from fastapi.responses import Response

from node.app.appeals import linked_circles
from node.app.linked_circles import LinkedCircle
from node.http.api.paging import MAX_LIMIT
from node.http.web.appeal_pages import may_appeal_here
from node.http.web.visits import Member, PageRoute

router = APIRouter(route_class=PageRoute)

# The member API's operations these pages carry out (node.http.web.page_table).
OPERATIONS = {
    "GET /api/linked-circles": "/linked-circles",
    "GET /api/linked-circles/{circle}": "/linked-circles/{circle}",
    "GET /api/linked-circles/{circle}/decisions": "/linked-circles/{circle}/decisions",
    "GET /api/linked-circles/{circle}/minutes": "/linked-circles/{circle}/minutes",
}

LINKED_AS = {
    "member": "a member circle of this one",
    "coop": "the co-op this circle is part of",
    "withdrawn": "was part of this circle, or this circle of it, and went its own way",
}
PER_PAGE = 20

Offset = Annotated[int, Query(ge=0)]
Limit = Annotated[int, Query(ge=1, le=MAX_LIMIT)]


def _circle(linked: LinkedCircle) -> dict[str, Any]:
    records = linked.records
    return {
        "circle": linked.circle,
        "name": linked.name or linked.circle,
        "link": linked.link,
        "linked_as": LINKED_AS.get(linked.link, linked.link),
        "aim": records.get("aim"),
        "mission_link": records.get("mission_link"),
        "status": records.get("status"),
        "hats": records.get("hats", []),
        "minutes": linked.minutes,
    }


def _pager(path: str, offset: int, limit: int, total: int, query: str = "") -> dict[str, Any]:
    """Links to the windows before and after this one, as the API pages its lists."""

    def at(start: int) -> str:
        return f"{path}?offset={start}&limit={limit}{query}"

    return {
        "first": offset + 1 if total else 0,
        "last": min(offset + limit, total),
        "total": total,
        "newer": at(max(offset - limit, 0)) if offset > 0 else "",
        "older": at(offset + limit) if offset + limit < total else "",
    }


@router.get("/linked-circles", include_in_schema=False)
def linked_circles_page(found: Member) -> Response:
    circles = [_circle(linked) for linked in found.node.linked.linked_circles()]
    return found.page("linked_circles.html", circles=circles)


@router.get("/linked-circles/{circle}", include_in_schema=False)
def linked_circle_page(found: Member, circle: str) -> Response:
    return found.page("linked_circle.html", c=_circle(found.node.linked.linked_circle(circle)))


@router.get("/linked-circles/{circle}/decisions", include_in_schema=False)
def linked_decisions_page(
    found: Member,
    circle: str,
    offset: Offset = 0,
    limit: Limit = PER_PAGE,
    reviews_due: bool = False,
) -> Response:
    node = found.node
    linked = _circle(node.linked.linked_circle(circle))
    decisions = node.linked.decisions(circle, reviews_due)
    may_appeal = circle in linked_circles(node.relations.relationships()) and may_appeal_here(
        node, found.person or ""
    )
    path = f"/linked-circles/{circle}/decisions"
    return found.page(
        "linked_decisions.html",
        c=linked,
        decisions=decisions[offset : offset + limit],
        pager=_pager(
            path, offset, limit, len(decisions), "&reviews_due=true" if reviews_due else ""
        ),
        reviews_due=reviews_due,
        may_appeal=may_appeal,
    )


@router.get("/linked-circles/{circle}/minutes", include_in_schema=False)
def linked_minutes_page(
    found: Member, circle: str, offset: Offset = 0, limit: Limit = PER_PAGE
) -> Response:
    node = found.node
    linked = _circle(node.linked.linked_circle(circle))
    minutes, total = node.linked.minutes(circle, offset, limit)
    path = f"/linked-circles/{circle}/minutes"
    return found.page(
        "linked_minutes.html",
        c=linked,
        minutes=minutes,
        pager=_pager(path, offset, limit, total),
    )
