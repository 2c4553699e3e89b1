"""schemathesis against the node's own OpenAPI spec (`/openapi.json`), in process.

Every operation of the spec, the member API and the federation API alike, gets requests
generated from the spec (valid ones, and invalid ones that must be refused), sent to the ASGI
app as the circle's secretary (a personal token, `Authorization: Bearer ...`). Path parameters
sometimes name records that exist, so that requests get past "not found". Each response must be
no 5xx, a status code the spec documents for the operation, the content type it documents and a
body matching its schema; an invalid request must be refused with a 4xx.

`make test` runs a few examples per operation; `make fuzz` sets
CIRCLE_NODE_SCHEMATHESIS_EXAMPLES (e.g. 300) for the long run. Each operation starts from a
fresh circle, so that what one operation's requests change does not starve another's.
"""

from __future__ import annotations

import os
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

schemathesis = pytest.importorskip("schemathesis")

from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402
from schemathesis import GenerationMode  # noqa: E402
from schemathesis.checks import not_a_server_error  # noqa: E402
from schemathesis.core.parameters import ParameterLocation  # noqa: E402
from schemathesis.specs.openapi.checks import (  # noqa: E402
    content_type_conformance,
    negative_data_rejection,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from node.http.server import ServerOptions, create_app  # noqa: E402
from tests.node.api.everyone import Everyone, everyone, keyed_node  # noqa: E402

EXAMPLES = int(os.environ.get("CIRCLE_NODE_SCHEMATHESIS_EXAMPLES", "6"))
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]
Scope = dict[str, Any]
Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]


class WithoutLifespan:
    """The app without its lifespan: no delivery loops run beside the requests."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.state = app.state

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            while True:
                message = await receive()
                if message["type"] == "lifespan.startup":
                    await send({"type": "lifespan.startup.complete"})
                else:
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        await self.app(scope, receive, send)


# Pushes are MessagePack: schemathesis sends the bytes it generates for them as they are.
schemathesis.serializer.alias("application/msgpack", "application/octet-stream")
APP = create_app(keyed_node(61), None, ServerOptions(public_url="http://testserver"))
SCHEMA = schemathesis.openapi.from_asgi("/openapi.json", WithoutLifespan(APP))
OPERATIONS = sorted(
    (operation.method.upper(), operation.path)
    for result in SCHEMA.get_all_operations()
    for operation in [result.ok()]
)


def test_the_spec_holds_every_route() -> None:
    assert len(OPERATIONS) >= 75
    assert ("POST", "/federation/inbox") in OPERATIONS
    assert ("GET", "/api/circle") in OPERATIONS


@pytest.mark.parametrize(("method", "path"), OPERATIONS, ids=[f"{m} {p}" for m, p in OPERATIONS])
def test_every_operation_answers_as_its_spec_says(method: str, path: str) -> None:
    world = everyone()
    APP.state.served.node = world.node  # the app reads its node from here on every request
    APP.state.served.join_limiter.clear()
    operation = SCHEMA[path][method]
    strategies = [operation.as_strategy(generation_mode=GenerationMode.POSITIVE)]
    if operation.path_parameters or operation.query or operation.body:
        strategies.append(operation.as_strategy(generation_mode=GenerationMode.NEGATIVE))

    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(case=st.one_of(strategies), data=st.data())
    def run(case: Any, data: st.DataObject) -> None:
        checks = list(CHECKS)
        if negated(case, ParameterLocation.PATH):
            pass  # its invalid path parameters stay as generated
        else:
            use_real_records(case, world, data)
        # An invalid request must be refused, unless what made it invalid were its headers
        # (replaced here by the secretary's token), or a query parameter given more than once
        # (read as its last value, as Starlette does: not refused when that value is valid).
        repeated = any(isinstance(value, list) for value in (case.query or {}).values())
        if negated(case) and not negated(case, ParameterLocation.HEADER) and not repeated:
            checks.append(negative_data_rejection)
        case.call_and_validate(headers=world.bearer("ada"), checks=checks)

    run()


def negated(case: Any, location: ParameterLocation | None = None) -> bool:
    """Whether the case is a negative one (as a whole, or in this part of the request)."""
    meta = case.meta
    if meta is None or not meta.generation.mode.is_negative:
        return False
    if location is None:
        return True
    component = meta.components.get(location)
    return component is not None and component.mode.is_negative


def use_real_records(case: Any, world: Everyone, data: st.DataObject) -> None:
    """Name records that exist, half the time, in place of generated path parameters."""
    for name in list(case.path_parameters or {}):
        real = world.records.get(name)
        if real and data.draw(st.booleans()):
            case.path_parameters[name] = data.draw(st.sampled_from(real))
