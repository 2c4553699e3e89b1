"""The member API (`/api/...`): JSON for everything the circle's domain offers.

Each person signs in with their personal token (`Authorization: Bearer cn_...`); what they may
do follows the domain: their participation level and the hats they wear. Errors are
`application/problem+json` (RFC 9457) with a readable message; lists are paginated.
"""

from __future__ import annotations

from fastapi import Depends, FastAPI
from fastapi.routing import APIRoute

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
    """The member API's routes, each added to the app's own routes under /api, with the
    Idempotency-Key dependency first, in the routers' order.

    Not `app.include_router`: FastAPI keeps an included router as one route of the app, and
    matches a request against every route of each router in turn, then once more against the
    routes of the router that matched; a consent was matched against about sixty routes twice
    (bench/RESULTS.md, "The API's path"). The app's own routes are matched once each. A
    request's route is then the whole template (`/api/proposals/{proposal_id}`), as the
    metrics' `route` label names it (docs/operating.md)."""
    for routes in ROUTERS:
        for route in routes.routes:
            assert isinstance(route, APIRoute)
            add_under_api(app, route)


def add_under_api(app: FastAPI, route: APIRoute) -> None:
    """`route` as `include_router(prefix="/api", dependencies=[Depends(once)])` includes it
    (tests/node/api/test_api_routes.py compares the two apps' specs)."""
    app.router.add_api_route(
        "/api" + route.path,
        route.endpoint,
        response_model=route.response_model,
        status_code=route.status_code,
        tags=route.tags,
        dependencies=[Depends(once), *route.dependencies],
        summary=route.summary,
        description=route.description,
        response_description=route.response_description,
        responses=route.responses,
        deprecated=route.deprecated,
        methods=route.methods,
        operation_id=route.operation_id,
        response_model_include=route.response_model_include,
        response_model_exclude=route.response_model_exclude,
        response_model_by_alias=route.response_model_by_alias,
        response_model_exclude_unset=route.response_model_exclude_unset,
        response_model_exclude_defaults=route.response_model_exclude_defaults,
        response_model_exclude_none=route.response_model_exclude_none,
        include_in_schema=route.include_in_schema,
        response_class=route.response_class,
        name=route.name,
        route_class_override=type(route),
        callbacks=route.callbacks,
        openapi_extra=route.openapi_extra,
        generate_unique_id_function=route.generate_unique_id_function,
        strict_content_type=route.strict_content_type,
        max_body_size=route.max_body_size,
        form_limits=route.form_limits,
    )
