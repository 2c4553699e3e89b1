"""The member API's routes are the app's own routes under /api (node/http/api/__init__.py):
documented exactly as FastAPI's `include_router` documents them, and a request's route is its
whole template, as the metrics name it."""

from __future__ import annotations

import inspect

from fastapi import Depends, FastAPI
from fastapi.datastructures import DefaultPlaceholder
from fastapi.routing import APIRoute, APIRouter
from fastapi.security import HTTPBearer
from prometheus_client.parser import text_string_to_metric_families

from node.http.api import ROUTERS, add_under_api, include_api
from node.http.api.auth import PersonalToken
from node.http.api.once import once
from tests.node.api.world import Circle


def test_the_routes_added_under_api_are_documented_as_included_routers_are() -> None:
    added = FastAPI()
    include_api(added)
    included = FastAPI()
    for routes in ROUTERS:
        included.include_router(routes, prefix="/api", dependencies=[Depends(once)])
    assert added.openapi() == included.openapi()
    # Each route once, in the app's own routes (none nested in an included router).
    under_api = [route for route in added.routes if getattr(route, "path", "").startswith("/api/")]
    assert len(under_api) == sum(len(routes.routes) for routes in ROUTERS)


def test_a_request_is_counted_under_its_routes_whole_template(circle: Circle) -> None:
    # FastAPI's included routers left the request with the route as its router held it,
    # without /api: docs/operating.md names the template with it.
    process = "no-such-process"
    answer = circle.post("cleo", f"/processes/{process}/consents", {"concern": ""})
    assert answer.status_code == 404
    text = circle.client.get("/metrics").text
    routes = {
        sample.labels["route"]
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if sample.name == "circle_node_requests_total" and sample.labels["method"] == "POST"
    }
    assert "/api/processes/{process_id}/consents" in routes
    assert "/processes/{process_id}/consents" not in routes


def test_the_caller_is_one_dependency_of_each_route_that_needs_one() -> None:
    # The header read and the token check in one (PersonalToken), not the check depending on
    # FastAPI's HTTPBearer: FastAPI's work per dependency is most of what it costs.
    app = FastAPI()
    include_api(app)
    callers = [
        dependency
        for route in app.routes
        if isinstance(route, APIRoute)
        for dependency in route.dependant.dependencies
        if isinstance(dependency.call, HTTPBearer)
    ]
    assert len(callers) >= 70
    assert all(isinstance(caller.call, PersonalToken) for caller in callers)
    assert all(not caller.dependencies for caller in callers)


def test_every_setting_of_a_route_is_carried_under_api() -> None:
    # Settings the spec does not show (a body limit, form limits) would be dropped without
    # notice by a copy that names too few: each one add_api_route takes is carried.
    app = FastAPI()
    include_api(app)
    added = {
        (route.path, tuple(sorted(route.methods))): route
        for route in app.routes
        if isinstance(route, APIRoute)
    }
    settings = set(inspect.signature(APIRouter.add_api_route).parameters) - {
        "self",
        "path",
        "dependencies",  # the Idempotency-Key's first, then the route's own
        "route_class_override",  # not kept on the route: its class is
    }
    compared = 0
    for routes in ROUTERS:
        for route in routes.routes:
            assert isinstance(route, APIRoute)
            copy = added["/api" + route.path, tuple(sorted(route.methods))]
            assert type(copy) is type(route)
            for setting in settings:
                carried, own = _value(getattr(copy, setting)), _value(getattr(route, setting))
                assert carried == own, (route.path, setting)
                compared += 1
    assert compared > 70 * 20


def _value(setting: object) -> object:
    """A setting as it applies: a router's default (FastAPI's placeholder) is its value."""
    return setting.value if isinstance(setting, DefaultPlaceholder) else setting


def test_settings_no_router_changes_today_are_carried_too() -> None:
    router = APIRouter()
    router.add_api_route(
        "/thing", lambda: None, methods=["POST"], max_body_size=1234, strict_content_type=False
    )
    (route,) = router.routes
    assert isinstance(route, APIRoute)
    app = FastAPI()
    add_under_api(app, route)
    (copy,) = [r for r in app.routes if getattr(r, "path", "") == "/api/thing"]
    assert isinstance(copy, APIRoute)
    assert (copy.max_body_size, _value(copy.strict_content_type)) == (1234, False)
