"""The member API's contract: /openapi.json documents every route under /api with its request
and response schemas and the problem responses; and no request, however wrong, gets a 500."""

from __future__ import annotations

import importlib
import itertools
import pkgutil
import re
from pathlib import Path
from typing import Any

import pytest
from fastapi import APIRouter
from fastapi.routing import APIRoute

import node.http.api
from domain.values import Purpose
from node.demo.scripted import consent_to
from tests.node.api.world import Circle

PROBLEMS = ("400", "401", "403", "404", "409", "422", "503")
CREATIONS = {
    ("post", "/api/people"),
    ("post", "/api/tokens"),
    ("post", "/api/me/calendar"),
    ("post", "/api/hats"),
    ("post", "/api/selections"),
    ("post", "/api/selections/{selection_id}/nominations"),
    ("post", "/api/proposals"),
    ("post", "/api/proposals/{proposal_id}/questions"),
    ("post", "/api/proposals/{proposal_id}/reactions"),
    ("post", "/api/processes/{process_id}/answers-in-advance"),
    ("post", "/api/processes/{process_id}/consents"),
    ("post", "/api/processes/{process_id}/objections"),
    ("post", "/api/processes/{process_id}/answer-changes"),
    ("post", "/api/processes/{process_id}/integrations"),
    ("post", "/api/decisions"),
    ("post", "/api/decisions/{decision_id}/challenge"),
    ("post", "/api/meetings"),
    ("post", "/api/plans"),
    ("post", "/api/appeals"),
    ("post", "/api/appeals/elsewhere"),
}


def module_routes() -> dict[tuple[str, str], APIRoute]:
    """Every route the modules of node.http.api define, by (method, path under /api)."""
    routes = {}
    for module in pkgutil.iter_modules(node.http.api.__path__):
        router = getattr(importlib.import_module(f"node.http.api.{module.name}"), "router", None)
        if isinstance(router, APIRouter):
            for route in router.routes:
                assert isinstance(route, APIRoute)
                for method in route.methods:
                    routes[(method.lower(), f"/api{route.path}")] = route
    return routes


def refs(value: Any) -> set[str]:
    if isinstance(value, dict):
        found = {value["$ref"]} if "$ref" in value else set()
        return found.union(*(refs(v) for v in value.values()))
    if isinstance(value, list):
        return set().union(*(refs(v) for v in value))
    return set()


def test_openapi_documents_every_route_with_schemas_and_problems(circle: Circle) -> None:
    spec = circle.client.get("/openapi.json").json()
    schemas = spec["components"]["schemas"]
    documented = {
        (method, path): operation
        for path, operations in spec["paths"].items()
        if path.startswith("/api/")
        for method, operation in operations.items()
    }
    routes = module_routes()
    # Every route of every module is served and documented, and nothing else is under /api.
    assert set(documented) == set(routes)
    assert len(routes) >= 70
    assert set(routes) >= CREATIONS
    for key, operation in documented.items():
        route = routes[key]
        assert route.summary and operation["summary"] == route.summary, key
        assert operation["security"] == [{"HTTPBearer": []}], key
        for status in PROBLEMS:
            content = operation["responses"][status]["content"]
            problem = content["application/problem+json"]["schema"]
            assert problem == {"$ref": "#/components/schemas/ProblemDetails"}, (key, status)
        successes = [s for s in operation["responses"] if s.startswith("2")]
        expected = "201" if key in CREATIONS else "204" if key[0] == "delete" else "200"
        assert successes == [expected], key
        if expected != "204":
            schema = operation["responses"][expected]["content"]["application/json"]["schema"]
            assert "$ref" in schema or "oneOf" in schema, key
            assert route.response_model is not None, key
        if route.body_field is not None:
            body = operation["requestBody"]
            assert body["required"] is True, key
            ref = body["content"]["application/json"]["schema"]["$ref"]
            declared = schemas[ref.rsplit("/", 1)[1]]
            # A model's fields, or (a proposal's draft) one model per purpose.
            assert declared.get("properties") or declared["discriminator"], key
        else:
            assert "requestBody" not in operation, key
    # Every schema referred to is there, and named plainly.
    for ref in refs(spec):
        assert ref.rsplit("/", 1)[1] in schemas, ref
    assert not [name for name in schemas if "__" in name]
    problem = schemas["ProblemDetails"]
    assert set(problem["required"]) == {"title", "status", "detail", "reason"}
    # Moments are documented as such.
    assert schemas["MeetingIn"]["properties"]["when"]["format"] == "date-time"
    assert schemas["MeetingOut"]["properties"]["when"]["format"] == "date-time"
    response = circle.client.get("/docs")
    assert response.status_code == 200 and "swagger" in response.text.lower()


def test_the_docs_work_offline_and_the_public_pages_carry_the_security_headers(
    circle: Circle,
) -> None:
    from node.http.web.rendering import SECURITY_HEADERS

    c = circle.client
    page = c.get("/docs")
    assert page.status_code == 200
    # Every file the page loads is the node's own (before: Swagger UI from a CDN).
    loaded = re.findall(r'(?:src|href)="([^"]*)"', page.text)
    assert loaded and all(url.startswith("/docs/assets/") for url in loaded), loaded
    assert not re.search(r"https?://", page.text)
    # No inline script (before: FastAPI's page started Swagger UI inline), and the policy
    # runs scripts from the node only.
    scripts = re.findall(r"<script([^>]*)>(.*?)</script>", page.text, re.DOTALL)
    assert scripts and all('src="' in attributes and not body for attributes, body in scripts)
    policy = page.headers["content-security-policy"]
    assert "script-src 'self';" in policy and "unsafe-inline" not in policy.split("style-src")[0]
    assert "connect-src 'self'" in policy and "frame-ancestors 'none'" in policy
    for url in loaded:
        asset = c.get(url)
        assert asset.status_code == 200, url
        assert asset.headers["x-content-type-options"] == "nosniff"
    init = c.get("/docs/assets/swagger-init.js").text
    assert "/openapi.json" in init and "validatorUrl: null" in init
    assert not re.search(r"https?://", init)
    assert c.get("/docs/assets/index.html").status_code == 404  # only what the page loads
    assert c.get("/redoc").status_code == 404  # it loaded ReDoc from a CDN
    # The docs and the public overview carry the member pages' headers (the policy of /docs
    # adds scripts, styles and the spec's fetch from the node itself).
    for path in ("/docs", "/"):
        response = c.get(path)
        assert response.status_code == 200
        for name, value in SECURITY_HEADERS.items():
            if name != "Content-Security-Policy" or path == "/":
                assert response.headers[name] == value, (path, name)


# No request gets a 500: wrong types, missing fields, odd values, unknown ids, on every route.

ODD_VALUES: dict[str, list[Any]] = {
    # Words the circle knows too, so that enumerated fields are tried with real choices.
    "string": ["", " ", "x", "\u0000", "x" * 400, "accept_offer", "async", "shorten_term", "full"],
    "date": ["1900-01-01", "9999-12-31", "2026-03-02", "2026-02-30", 20260302],
    "date-time": [
        "2026-03-05T10:00:00",
        "2026-03-05T10:00:00Z",
        "9999-12-31T23:59:59-14:00",
        "0001-01-01T00:00:00+14:00",
        "yesterday",
    ],
    "integer": [-1, 0, 1, 2, 2**70, "one", 1.5],
    "boolean": [True, False, "maybe"],
    "array": [[], ["x"], [1, 2], "x", [None]],
    "object": [
        {},
        {"circle": 5, "request": [], "round": "x", "circles": 3},
        {"decision_id": "x", "supersedes": "y", "person_id": "z", "kind": 1},
        {"methods_by_topic": [1], "decision_method": 5, "absentee_policy": None},
        [],
    ],
}


def kind_of(schema: dict[str, Any]) -> str:
    for option in schema.get("anyOf", [schema]):
        if option.get("type") in ("string",) and option.get("format") in ("date", "date-time"):
            return str(option["format"])
        if option.get("type") not in (None, "null"):
            return str(option["type"])
    return "string"


def bodies(schema: dict[str, Any], ids: list[str]) -> list[Any]:
    """Wrong shapes, then each property in turn given every odd value or left out; last, a
    plausible body."""
    properties = schema.get("properties", {})
    base: dict[str, Any] = {}
    for name, prop in properties.items():
        kind = kind_of(prop)
        base[name] = {
            "string": ids[0],
            "date": "2026-03-02",
            "date-time": "2026-03-05T10:00:00Z",
            "integer": 1,
            "boolean": True,
            "array": ids,
            "object": {},
        }[kind]
    found: list[Any] = [None, [], "x"]
    for name, prop in properties.items():
        odd = [*ODD_VALUES[kind_of(prop)], None, *ids[:1]]
        found.extend({**base, name: value} for value in odd)
        found.append({k: v for k, v in base.items() if k != name})
    return [*found, base]


def test_no_request_gets_a_server_error(circle: Circle) -> None:
    c, ids = circle, circle.ids
    node_ = c.node
    node_.hats.define_hat(ids["ada"], "Cook", "Cooks", [], ["menu"])
    consent_to(node_, Purpose.ADOPT_POLICY, {}, text="Soup on Sundays", by=ids["ada"])
    in_round = consent_to(node_, Purpose.ADOPT_POLICY, {}, text="Bread", close=False)
    drafted = node_.proposals.draft_proposal(ids["cleo"], "Draft", "Text")
    selection = node_.hats.open_selection(ids["ben"], "cook")
    meeting = node_.meetings.schedule_meeting(ids["ben"], "Meeting", node_.clock())
    decision = node_.records.list_decisions()[0].id
    token_id, _ = node_.tokens.issue_token(ids["gus"])
    values = {
        "proposal_id": [in_round, drafted],
        "process_id": [in_round, selection],
        "selection_id": [selection],
        "decision_id": [str(decision)],
        "meeting_id": [meeting],
        "hat_id": ["cook", "facilitator"],
        "person_id": [ids["gus"]],
        "token_id": [token_id],
        "number": ["1", "2", "-1", "99999999999999999999999"],
    }
    spec = c.client.get("/openapi.json").json()
    schemas = spec["components"]["schemas"]
    people = [ids["cleo"], ids["gus"]]
    served = 0
    for path, operations in spec["paths"].items():
        if not path.startswith("/api/"):
            continue
        names = re.findall(r"\{([^}]+)\}", path)
        choices = [[*values.get(name, []), "x"] for name in names]
        for method, operation in operations.items():
            body_schema: dict[str, Any] = {}
            if "requestBody" in operation:
                ref = operation["requestBody"]["content"]["application/json"]["schema"]["$ref"]
                body_schema = schemas[ref.rsplit("/", 1)[1]]
            variants = bodies(body_schema, people) if body_schema else [None]
            for number, filled in enumerate(itertools.product(*choices)):
                url = path
                for name, value in zip(names, filled, strict=True):
                    url = url.replace(f"{{{name}}}", value)
                # Every odd body on the real ids; the plausible body on every other id.
                for turn, body in enumerate(variants if number == 0 else variants[-1:]):
                    response = c.client.request(
                        method, url, json=body, headers=c.as_(("ben", "ada")[turn % 2])
                    )
                    assert response.status_code < 500, (method, url, body, response.text)
                    served += 1
    assert served > 800
    # Lone surrogates anywhere in a body are refused before anything is stored.
    headers = {**c.as_("cleo"), "Content-Type": "application/json"}
    for raw in (
        b'{"title": "x", "text": "y", "subject": {"aim": "\\ud800"}}',
        b'{"title": "x", "text": "y", "subject": {"\\udfff": 1}}',
        b'{"title": "x", "text": "y", "ask_circles": ["\\ud800"]}',
    ):
        response = c.client.post("/api/proposals", content=raw, headers=headers)
        assert response.status_code == 400, response.text


# What the spec says the node answers is what it answers, when the store fails and when the
# parameters are invalid.


def test_the_spec_documents_store_failures_and_no_422_the_node_never_gives(
    circle: Circle,
) -> None:
    """Every operation that reads or writes the store may answer 503 (the store cannot be
    reached or written, or is too busy), with Retry-After; invalid parameters are answered
    400, so FastAPI's automatic 422 (HTTPValidationError) is in no operation."""
    spec = circle.client.get("/openapi.json").json()
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            responses = operation["responses"]
            unavailable = responses.get("503")
            assert unavailable is not None, (method, path)
            schema = unavailable["content"]["application/problem+json"]["schema"]
            assert schema == {"$ref": "#/components/schemas/ProblemDetails"}, (method, path)
            assert "Retry-After" in unavailable["headers"], (method, path)
            assert "HTTPValidationError" not in str(responses), (method, path)
            if operation.get("parameters") or "requestBody" in operation:
                assert "400" in responses, (method, path)
    assert "HTTPValidationError" not in spec["components"]["schemas"]
    assert "ValidationError" not in spec["components"]["schemas"]
    for query in ("after=-1", "limit=0", "after=x", "limit=100000"):
        answer = circle.client.get(f"/federation/feed?{query}")
        assert answer.status_code == 400, (query, answer.text)
        assert answer.headers["content-type"] == "application/problem+json"
        assert answer.json()["reason"] == "malformed"


def test_with_the_store_failing_every_operation_answers_as_documented(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The store fails every read and write (as when its disk fails or its server is gone):
    every operation of the spec, called as the secretary with real records, answers a status
    its spec documents, and those that reach the store answer 503 with a reason and
    Retry-After (not 500)."""
    from eventsourcing.persistence import OperationalError
    from eventsourcing.sqlite import SQLiteConnectionPool
    from fastapi.testclient import TestClient

    from federation.wire import Push, encode
    from node.app.persistence import event_store_env
    from node.http.server import ServerOptions, create_app
    from node.settings import Settings
    from node.store.sqlite_store import Readers
    from tests.node.api.everyone import everyone, fill_path, keyed_node

    world = everyone(keyed_node(61, event_store_env(Settings(data_dir=tmp_path / "kitchen"))))
    client = TestClient(create_app(world.node, None, ServerOptions("http://testserver")))
    spec = client.get("/openapi.json").json()
    # The peer pushes its feed: the node reads what it holds of it from the store first.
    push = Push(
        world.peer.feed.feed_id,
        [world.peer.feed.inception(), *world.peer.feed.own_entries(0, 10)],
        [],
    )
    values = {name: real[0] for name, real in world.records.items()}

    def failing(*args: Any, **kwargs: Any) -> Any:
        raise OperationalError("disk I/O error")

    monkeypatch.setattr(SQLiteConnectionPool, "get_connection", failing)
    monkeypatch.setattr(Readers, "rows", failing)  # reads of events, on their own connections
    answered: dict[tuple[str, str], int] = {}
    try:
        for path, operations in spec["paths"].items():
            for method, operation in operations.items():
                kwargs: dict[str, Any] = {"headers": world.bearer("ada")}
                if path == "/federation/inbox":
                    kwargs["content"] = encode(push)
                    kwargs["headers"]["content-type"] = "application/msgpack"
                elif "requestBody" in operation:
                    kwargs["json"] = {}
                answer = client.request(method.upper(), fill_path(path, values), **kwargs)
                status = answer.status_code
                answered[(method, path)] = status
                assert str(status) in operation["responses"], (method, path, answer.text)
                if status == 503:
                    assert answer.json()["reason"] == "store_unavailable"
                    assert int(answer.headers["retry-after"]) >= 1
    finally:
        monkeypatch.undo()
        world.node.close()
    unavailable = [key for key, status in answered.items() if status == 503]
    assert len(answered) >= 78 and len(unavailable) >= 70, answered
