"""A circle served over HTTP for the member API's tests: people of every level with their
tokens, and a client that signs in as any of them."""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from fastapi.testclient import TestClient
from httpx import Response

from domain.values import Purpose
from node.app.node import CircleNode
from node.app.persistence import open_node
from node.demo.scripted import consent_to, form_aim, select
from node.http.ratelimit import RateLimiter
from node.http.served_circle import InCircle
from node.http.server import ServerOptions, circles_app, serve_circle
from node.settings import Settings
from tests.conftest import Clock
from tests.node.circles import sync

PROBLEM = "application/problem+json"


@dataclass
class Circle:
    """The kitchen circle: Ada (secretary), Ben (facilitator), Cleo (full), Eli (learning),
    Gus (guest); `ids` and `tokens` by first name."""

    node: CircleNode
    client: TestClient
    ids: dict[str, str] = field(default_factory=dict)
    tokens: dict[str, str] = field(default_factory=dict)

    def as_(self, who: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[who]}"}

    def get(self, who: str, path: str, **kwargs: Any) -> Response:
        return self.client.get(f"/api{path}", headers=self.as_(who), **kwargs)

    def post(self, who: str, path: str, body: Any = None, **kwargs: Any) -> Response:
        return self.client.post(f"/api{path}", headers=self.as_(who), json=body, **kwargs)

    def ok(self, who: str, path: str, body: Any = None, status: int = 200) -> Any:
        """POST, expecting `status`; returns the JSON answer."""
        response = self.post(who, path, body)
        assert response.status_code == status, response.text
        return response.json()


@functools.cache
def one_app() -> FastAPI:
    """The app that serves every circle, built once for the tests as a host builds it once
    (building it again for each test, and its routes on its first request, cost about a third
    of a second a test)."""
    return circles_app()


def serve(node: CircleNode) -> TestClient:
    """A client of the node's circle: the app that serves every circle with this one in front
    (`client.app.circle`), as `create_app` and a host put it. No lifespan: the app's delivery
    loops do not run; requests are served all the same. The client sends many wrong tokens on
    purpose (every route, every case): their limit is tested on its own (test_api_access.py)."""
    circle = serve_circle(node, None, ServerOptions(public_url="http://testserver"))
    circle.token_limiter = RateLimiter(burst=1e9)
    return TestClient(InCircle(one_app(), circle))


def kitchen(node: CircleNode, name: str = "Kitchen") -> Circle:
    """Found the circle on `node`, select its facilitator and secretary, start it."""
    ada = node.circle.found_circle(
        name=name, aim="Feed the neighbourhood", domain="Food", founder_name="Ada"
    )
    ids = {"ada": ada}
    for name, level in (("Ben", "full"), ("Cleo", "full"), ("Eli", "learning"), ("Gus", "guest")):
        ids[name.lower()] = node.people.add_founding_member(ada, name, level)
    form_aim(node, "Good food is good care")
    select(node, "facilitator", ids["ben"])
    select(node, "secretary", ada)
    node.circle.activate_circle(ada)
    tokens = {who: node.tokens.issue_token(person)[1] for who, person in ids.items()}
    return Circle(node, serve(node), ids, tokens)


def assert_problem(response: Response, status: int, reason: str, detail: str | None = None) -> None:
    """An RFC 9457 problem with this status, reason and (if given) exactly this detail."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM
    body = response.json()
    assert body["status"] == status and body["reason"] == reason, body
    if detail is not None:
        assert body["detail"] == detail, body


def member_pair(tmp_path: Path, clock: Clock) -> tuple[dict[str, CircleNode], Circle, Circle]:
    """The co-op and the kitchen circle, on two nodes in one process (`nodes` by "coop" and
    "kitchen"): the co-op admitted the kitchen to the network, the kitchen applied to be part
    of the co-op, and the co-op admitted it, each by consent."""
    nodes = {
        key: open_node(Settings(data_dir=tmp_path / key), clock) for key in ("coop", "kitchen")
    }
    coop, kitchen_circle = kitchen(nodes["coop"], "Equal Care Co-op"), kitchen(nodes["kitchen"])
    push = nodes["kitchen"].relations.ask_to_join_network(
        nodes["coop"].feed.descriptor("Equal Care Co-op", "http://coop"),
        "http://coop",
        "http://kitchen",
        "We would like to join",
    )
    nodes["coop"].intake.receive_push(push)
    consent_to(nodes["coop"], Purpose.ADMIT_TO_NETWORK, {"circle": nodes["kitchen"].feed.node_id})
    sync(nodes)
    consent_to(nodes["kitchen"], Purpose.APPLY_TO_COOP, {"circle": nodes["coop"].feed.node_id})
    sync(nodes)
    consent_to(nodes["coop"], Purpose.ADMIT_MEMBER, {"circle": nodes["kitchen"].feed.node_id})
    sync(nodes)
    return nodes, coop, kitchen_circle
