"""The member API (`/api/...`): JSON for everything the circle's domain offers.

Each person signs in with their personal token (`Authorization: Bearer cn_...`); what they may
do follows the domain: their participation level and the hats they wear. Errors are
`application/problem+json` (RFC 9457) with a readable message; lists are paginated.
"""

from __future__ import annotations

from fastapi import Depends, FastAPI

from node.http.api.appeals import router as appeal_routes
from node.http.api.calendar import router as calendar_routes
from node.http.api.circle import router as circle_routes
from node.http.api.decisions import router as decision_routes
from node.http.api.hats import router as hat_routes
from node.http.api.linked_circles import router as linked_circle_routes
from node.http.api.logbook import router as logbook_routes
from node.http.api.mail import router as mail_routes
from node.http.api.meetings import router as meeting_routes
from node.http.api.member_aims import router as member_aims_routes
from node.http.api.once import once
from node.http.api.plans import router as plan_routes
from node.http.api.processes import router as process_routes
from node.http.api.proposals import router as proposal_routes
from node.http.api.relations import router as relation_routes
from node.http.api.waiting import router as waiting_routes

ROUTERS = (
    circle_routes,
    member_aims_routes,
    calendar_routes,
    mail_routes,
    hat_routes,
    proposal_routes,
    process_routes,
    decision_routes,
    plan_routes,
    meeting_routes,
    relation_routes,
    linked_circle_routes,
    appeal_routes,
    logbook_routes,
    waiting_routes,
)


def include_api(app: FastAPI) -> None:
    """The member API's routers, each included in the app itself (under /api, with the
    Idempotency-Key dependency), not nested in one router of their own: FastAPI matches a
    request again at each level of nesting, which the API bench showed in every consent
    (bench/RESULTS.md, "API")."""
    for routes in ROUTERS:
        app.include_router(routes, prefix="/api", dependencies=[Depends(once)])
