"""A circle served over HTTP for the member API's tests: people of every level with their
tokens, and a client that signs in as any of them."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from fastapi.testclient import TestClient
from httpx import Response

from node.app.node import CircleNode
from node.demo.scripted import form_aim, select
from node.http.ratelimit import RateLimiter
from node.http.server import ServerOptions, create_app

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


def serve(node: CircleNode) -> TestClient:
    # No `with`: the app's delivery loops do not run; requests are served all the same.
    return unlimited_guesses(
        TestClient(create_app(node, None, ServerOptions(public_url="http://testserver")))
    )


def unlimited_guesses(client: TestClient) -> TestClient:
    """The tests' one client sends many wrong tokens on purpose (every route, every case):
    their limit is tested on its own (test_api_access.py)."""
    client.app.state.token_limiter = RateLimiter(burst=1e9)  # type: ignore[attr-defined]
    return client


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
