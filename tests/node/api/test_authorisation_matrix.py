"""The authorisation matrix: every endpoint of the app against everyone who might call it.

Callers: anonymous; Gus (guest), Eli (learning), Cleo (full); the hat wearers Ben
(facilitator) and Ada (secretary); Lee, who left (with the token he had); a peer node this one
knows and a node it does not (requests signed with their node keys).

The routes come from the app itself (its OpenAPI spec and its routers, hidden web pages
included): a route missing from the tables below (the web pages' are in web_matrix.py) fails
the first test, so a new route cannot go unchecked. Each cell's expected class of outcome
follows the circle's rules (domain/): who may act at all (participants who have not left), who
speaks but does not decide (guests, learning participants), and what only the facilitator or
the secretary does. Every request reaches the rule: each route is called on a fresh circle in
which its action is possible (a proposal at the right stage, a selection open, an applicant
waiting, ...; matrix_rules.py), with real ids. "allowed" means the rules let this person try:
2xx, or a refusal for another reason than who they are (409, 422), never 401 or 403; reads must
answer 200. No cell may give a 5xx.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from starlette.routing import Route

from federation.httpsig import sign_request
from federation.verify import decode_entry, decode_page, decode_push_reply
from federation.wire import JOIN_REQUEST, Push, encode
from node.app.node import CircleNode
from node.demo.scripted import consent_to
from node.http.ratelimit import RateLimiter
from node.http.served_circle import InCircle
from node.http.server import ServerOptions, circles_app, serve_circle
from tests.node.api.everyone import START, Everyone, everyone, fill_path
from tests.node.api.matrix_rules import (
    ALL,
    DATE,
    FACILITATOR,
    FULL,
    MEMBERS,
    NOBODY,
    SECRETARY,
    SPEAKERS,
    WHEN,
    Rule,
    Setup,
    appeal_heard,
    appeal_lodged,
    appeal_not_upheld,
    applicant,
    back_stop_named,
    budget,
    calendar_links_made,
    decision,
    gus_stepped_back,
    hat,
    meeting,
    meeting_open,
    meeting_with_agenda,
    meeting_with_confidential_item,
    meeting_with_minutes,
    member_circle,
    nothing,
    on_trial,
    peer,
    proposal_answered,
    proposal_drafted,
    proposal_in_consent_round,
    proposal_in_reactions,
    proposal_integrating,
    proposal_objected,
    proposal_presented,
    proposal_questioned,
    read,
    seat,
    selection_in_change_round,
    selection_nominated,
    selection_open,
    support_request,
    target,
    token_of_gus,
    treasurer,
)
from tests.node.api.web_matrix import (
    CONFIRMED,
    POSTED_BY,
    REFUSED_BY_THE_RULES,
    REFUSED_IN_THE_WORLD,
    SELECTION_PROCESS,
    STEP_ROUTES,
    WEB_ACTIONS,
    WEB_BY_MAIL,
    WEB_ONLY,
    WEB_OPEN,
    WEB_OWN,
    WEB_PAGES,
    WEB_PATH_PARAMS,
    form_fields,
)

OUTSIDERS = ("anonymous", "lee (left)", "peer node", "unknown node")


@functools.cache
def _one_app() -> Any:
    return circles_app()


def node_app(world: Everyone) -> InCircle:
    """The app that serves every circle, built once for the matrix as a host builds it once,
    with this case's circle in front (what `create_app` is, but for building the app's routes
    again in every case)."""
    options = ServerOptions(public_url="http://testserver")
    return InCircle(_one_app(), serve_circle(world.node, None, options))


def app_for(world: Everyone) -> TestClient:
    """A client of the case's circle, whose wrong tokens are not limited (the tests send many
    on purpose: their limit is tested on its own, test_api_access.py)."""
    app = node_app(world)
    app.circle.token_limiter = RateLimiter(burst=1e9)
    return TestClient(app)


API: dict[tuple[str, str], Rule] = {
    # Reads: everyone still in the circle.
    ("GET", "/api/circle"): read(),
    ("GET", "/api/people"): read(),
    ("GET", "/api/hats"): read(),
    ("GET", "/api/hats/{hat_id}"): read(hat("cook")),
    ("GET", "/api/terms-ending"): read(),
    ("GET", "/api/selections"): read(),
    ("GET", "/api/selections/{selection_id}"): read(selection_open),
    ("GET", "/api/proposals"): read(),
    ("GET", "/api/proposals/{proposal_id}"): read(proposal_drafted),
    ("GET", "/api/processes/{process_id}"): read(proposal_drafted),
    ("GET", "/api/decisions"): read(),
    ("GET", "/api/decisions/reviews-due"): read(),
    ("GET", "/api/decisions/{decision_id}"): read(decision),
    ("GET", "/api/plans"): read(),
    ("GET", "/api/plans/{plan_id}"): read(budget),
    ("GET", "/api/meetings"): read(),
    ("GET", "/api/meetings/{meeting_id}"): read(meeting),
    ("GET", "/api/relationships"): read(),
    ("GET", "/api/relationships/{other}"): read(peer),
    ("GET", "/api/policies-from-coops"): read(),
    ("GET", "/api/support-requests"): read(),
    ("GET", "/api/support-requests/{request_id}"): read(support_request),
    ("GET", "/api/peers"): read(),
    ("GET", "/api/appeals"): read(),
    ("GET", "/api/appeals/{appeal_id}"): read(appeal_lodged),
    ("GET", "/api/logbook"): read(),
    ("GET", "/api/member-aims"): read(),
    ("GET", "/api/people/{person_id}/aims"): read(target("cleo")),
    ("GET", "/api/me/waiting"): read(),
    # What linked circles sent: anyone signed in here reads it (minutes are open to all).
    ("GET", "/api/linked-circles"): read(),
    ("GET", "/api/linked-circles/{circle}"): read(member_circle),
    ("GET", "/api/linked-circles/{circle}/decisions"): read(member_circle),
    ("GET", "/api/linked-circles/{circle}/minutes"): read(member_circle),
    # The circle and its people.
    ("POST", "/api/circle/activate"): Rule(FULL, why="full participants start its work"),
    ("POST", "/api/people"): Rule(SECRETARY, body={"name": "Dora"}, why="records keeper"),
    ("POST", "/api/people/{person_id}/trial"): Rule(SECRETARY, applicant, {"sessions": 2}),
    ("POST", "/api/people/{person_id}/trial/sessions"): Rule(SECRETARY, on_trial),
    ("POST", "/api/people/{person_id}/admit"): Rule(SECRETARY, applicant, {"level": "full"}),
    ("POST", "/api/people/{person_id}/decline"): Rule(SECRETARY, applicant),
    ("POST", "/api/people/{person_id}/level"): Rule(
        SECRETARY, target("cleo"), {"level": "learning"}
    ),
    ("POST", "/api/people/{person_id}/step-back"): Rule(
        frozenset({"gus", "ada"}), target("gus"), {}, "oneself, or the secretary"
    ),
    ("POST", "/api/people/{person_id}/return"): Rule(
        frozenset({"gus", "ada"}), gus_stepped_back, None, "oneself, or the secretary"
    ),
    ("POST", "/api/people/{person_id}/leave"): Rule(
        frozenset({"gus", "ada"}), target("gus"), {}, "oneself, or the secretary"
    ),
    ("POST", "/api/people/{person_id}/erase"): Rule(SECRETARY, target("lee")),
    ("PUT", "/api/people/{person_id}/aims"): Rule(
        frozenset({"gus"}),
        target("gus"),
        {"aims": ["Cook on Sundays"], "development_goals": ["Learn to facilitate"]},
        "their own, kept by them",
    ),
    # My calendar link: each person's own, made, read and revoked by them alone.
    ("GET", "/api/me/calendar"): Rule(ALL, why="one's own"),
    ("POST", "/api/me/calendar"): Rule(ALL, why="one's own"),
    ("DELETE", "/api/me/calendar"): Rule(ALL, calendar_links_made, why="one's own"),
    ("GET", "/api/people/{person_id}/mail"): Rule(
        frozenset({"gus"}), target("gus"), why="their own address, shown to nobody else"
    ),
    ("PUT", "/api/people/{person_id}/mail"): Rule(
        frozenset({"gus"}),
        target("gus"),
        {"email": "gus@example.org", "notices": "digest"},
        "their own, set by them alone",
    ),
    ("POST", "/api/tokens"): Rule(SECRETARY, body=lambda w: {"person_id": w.ids["gus"]}),
    ("DELETE", "/api/tokens/{token_id}"): Rule(
        frozenset({"gus", "ada"}), token_of_gus, None, "its holder, or the secretary"
    ),
    # Hats and selections.
    ("POST", "/api/hats"): Rule(FULL, body={"name": "Baker", "purpose": "Bread"}),
    ("POST", "/api/hats/{hat_id}/renewals"): Rule(
        SECRETARY,
        hat("facilitator"),
        lambda w: {"person_id": w.ids["ben"], "review_date": DATE},
    ),
    ("POST", "/api/hats/{hat_id}/back-stop"): Rule(
        SECRETARY, hat("facilitator"), lambda w: {"person_id": w.ids["cleo"]}, "records keeper"
    ),
    ("DELETE", "/api/hats/{hat_id}/back-stop"): Rule(SECRETARY, back_stop_named),
    ("POST", "/api/hats/{hat_id}/take-off"): Rule(
        frozenset({"ben", "ada"}),
        hat("facilitator"),
        lambda w: {"person_id": w.ids["ben"], "reason": "Rest"},
        "its wearer, or the secretary",
    ),
    ("POST", "/api/selections"): Rule(FACILITATOR, body={"hat_id": "cook"}),
    ("POST", "/api/selections/{selection_id}/nominations"): Rule(
        SPEAKERS, selection_open, lambda w: {"nominee": w.ids["cleo"], "reason": "Cooks well"}
    ),
    ("POST", "/api/selections/{selection_id}/change-round"): Rule(FACILITATOR, selection_nominated),
    ("POST", "/api/selections/{selection_id}/change-nomination"): Rule(
        SPEAKERS,
        selection_in_change_round,
        lambda w: {"nominee": w.ids["ben"], "reason": "On reflection"},
    ),
    ("POST", "/api/selections/{selection_id}/candidate"): Rule(
        FACILITATOR,
        selection_in_change_round,
        lambda w: {"candidate": w.ids["cleo"], "reason": "Most nominated"},
    ),
    # Proposals and the consent process.
    ("POST", "/api/proposals"): Rule(SPEAKERS, body={"title": "Compost", "text": "Weekly"}),
    ("POST", "/api/proposals/{proposal_id}/present"): Rule(
        frozenset({"cleo"}), proposal_drafted, why="the proposer"
    ),
    ("POST", "/api/proposals/{proposal_id}/questions"): Rule(
        ALL, proposal_presented, {"question": "Why?"}
    ),
    ("POST", "/api/proposals/{proposal_id}/questions/{number}/answer"): Rule(
        frozenset({"cleo", "ben"}),
        proposal_questioned,
        {"answer": "Tuesdays"},
        "the proposer, or the facilitator for them",
    ),
    ("POST", "/api/proposals/{proposal_id}/reaction-round"): Rule(FACILITATOR, proposal_presented),
    ("POST", "/api/proposals/{proposal_id}/reactions"): Rule(
        ALL, proposal_in_reactions, {"reaction": "Good"}
    ),
    ("POST", "/api/proposals/{proposal_id}/amend"): Rule(
        frozenset({"cleo"}), proposal_presented, {"text": "Fortnightly"}, "the proposer"
    ),
    ("POST", "/api/proposals/{proposal_id}/vote"): Rule(
        SECRETARY, proposal_in_consent_round, {"in_favour": 3, "against": 0}
    ),
    ("POST", "/api/processes/{process_id}/consent-round"): Rule(FACILITATOR, proposal_in_reactions),
    ("POST", "/api/processes/{process_id}/answers-in-advance"): Rule(
        NOBODY,
        proposal_presented,
        {"consents": True},
        "the default absentee policy takes no answers in advance",
    ),
    ("POST", "/api/processes/{process_id}/consents"): Rule(FULL, proposal_in_consent_round, {}),
    ("POST", "/api/processes/{process_id}/objections"): Rule(
        FULL, proposal_in_consent_round, {"argument": "It harms the aim"}
    ),
    ("POST", "/api/processes/{process_id}/objections/{number}/withdraw"): Rule(
        frozenset({"cleo"}), proposal_objected, why="who raised it"
    ),
    ("POST", "/api/processes/{process_id}/integrations"): Rule(
        SPEAKERS,
        proposal_integrating,
        {"how": "amend", "text": "Fortnightly", "objections": [1]},
        "full and learning participants integrate an objection; guests do not change what "
        "is decided",
    ),
    ("POST", "/api/processes/{process_id}/answer-changes"): Rule(
        FULL,
        proposal_objected,
        {"consents": True},
        "full participants; who has not answered yet is told to answer (409)",
    ),
    ("POST", "/api/processes/{process_id}/close"): Rule(
        FACILITATOR, proposal_answered, why="closed once the quorum answered"
    ),
    ("POST", "/api/processes/{process_id}/escalate"): Rule(
        FACILITATOR, proposal_in_consent_round, {"reason": "Beyond us"}
    ),
    ("POST", "/api/processes/{process_id}/withdraw"): Rule(
        frozenset({"cleo", "ben"}), proposal_presented, why="the proposer, or the facilitator"
    ),
    # Decisions.
    ("POST", "/api/decisions"): Rule(
        FACILITATOR,
        body={"hat_id": "facilitator", "area": "meetings", "title": "Start at 7", "text": "x"},
        why="who wears the hat",
    ),
    ("POST", "/api/decisions/update-due-dates"): Rule(FULL),
    # Budget and plans, by the hat whose domain they are.
    ("POST", "/api/plans"): Rule(
        FACILITATOR,
        treasurer,
        {
            "hat_id": "treasurer",
            "kind": "budget",
            "title": "Spring",
            "text": "Food",
            "period_start": START.date().isoformat(),
            "period_end": DATE,
        },
        why="who wears the hat whose domain is the budget (Ben, as treasurer)",
    ),
    ("POST", "/api/plans/{plan_id}/revise"): Rule(
        FACILITATOR,
        budget,
        {"hat_id": "treasurer", "text": "Food and fuel"},
        why="who wears the hat whose domain is the budget (Ben, as treasurer)",
    ),
    ("POST", "/api/decisions/{decision_id}/challenge"): Rule(
        SPEAKERS, decision, {"text": "Meet on Wednesdays"}, "a challenge is a proposal"
    ),
    # Meetings.
    ("POST", "/api/meetings"): Rule(FACILITATOR, body={"title": "Extra", "when": WHEN}),
    ("POST", "/api/meetings/{meeting_id}/absences"): Rule(
        FULL, meeting, {}, "a full participant tells their own absence ahead"
    ),
    ("POST", "/api/meetings/{meeting_id}/agenda/{number}/guests-left"): Rule(
        FACILITATOR, meeting_with_confidential_item
    ),
    ("POST", "/api/meetings/{meeting_id}/attendance"): Rule(
        SECRETARY, meeting, lambda w: {"present": [w.ids["ada"], w.ids["ben"]]}
    ),
    ("POST", "/api/meetings/{meeting_id}/agenda"): Rule(
        FACILITATOR, meeting_open, {"items": ["The rota"]}
    ),
    ("POST", "/api/meetings/{meeting_id}/agenda/{number}/decided"): Rule(
        SECRETARY, meeting_with_agenda, {"outcome": "Agreed"}
    ),
    ("POST", "/api/meetings/{meeting_id}/minutes"): Rule(
        SECRETARY, meeting_with_agenda, {"text": "Met"}
    ),
    ("POST", "/api/meetings/{meeting_id}/minutes/consent"): Rule(FACILITATOR, meeting_with_minutes),
    # Other circles.
    ("POST", "/api/support-requests/{request_id}/delivery"): Rule(
        SECRETARY, support_request, {"note": "Two cooks came"}
    ),
    ("POST", "/api/support-requests/{request_id}/reflection"): Rule(
        ALL, support_request, {"text": "It helped"}
    ),
    # Appeals: by people who took no part in the decision (Ben took it).
    ("POST", "/api/appeals"): Rule(
        frozenset({"eli", "cleo", "ada"}),
        body=lambda w: {"decision_id": w.records["decision_id"][0], "grounds": "Too late"},
        why="full and learning participants who took no part in the decision",
    ),
    ("POST", "/api/appeals/{appeal_id}/join"): Rule(
        frozenset({"eli", "cleo", "ada"}),
        appeal_lodged,
        {},
        "who took no part in the decision (Cleo, appealing already, is refused for that: 409)",
    ),
    ("POST", "/api/appeals/{appeal_id}/circle-answer"): Rule(
        FACILITATOR, appeal_heard, {"upheld": False, "reason": "Tuesdays suit most"}
    ),
    ("POST", "/api/appeals/{appeal_id}/take-further"): Rule(
        frozenset({"eli", "cleo", "ada"}),
        appeal_not_upheld,
        why="its appellants (refused here for want of a care and counsel group: 409)",
    ),
    ("POST", "/api/appeals/{appeal_id}/amendment"): Rule(
        FACILITATOR, appeal_heard, {"text": "Wednesdays"}, "the facilitator, once upheld: 409"
    ),
    ("POST", "/api/appeals/{appeal_id}/answer"): Rule(
        FACILITATOR,
        appeal_heard,
        {"upheld": True, "reason": "Yes"},
        "the facilitator, for an appeal taken to this circle (not this one: 409)",
    ),
    ("POST", "/api/appeals/elsewhere"): Rule(
        SPEAKERS,
        body=lambda w: {"circle": w.records["other"][0], "decision_id": "d", "grounds": "Unfair"},
        why="full and learning participants (to a circle not linked to this one: 409)",
    ),
    ("POST", "/api/appeals/{appeal_id}/withdraw"): Rule(
        frozenset({"eli", "cleo", "ada"}),
        appeal_heard,
        {"reason": "Talked it over"},
        "its appellants",
    ),
    ("POST", "/api/seats/{co_op}/{proposal}"): Rule(
        NOBODY, seat, {"consents": True}, "only a delegate or leader seat answers; none here"
    ),
}

PUBLIC = {
    ("GET", "/"),
    ("GET", "/metrics"),
    ("GET", "/healthz"),
    ("GET", "/openapi.json"),
    ("GET", "/docs"),
    ("GET", "/docs/assets/{name}"),
    ("GET", "/decisions.atom"),
}
# Read with a secret in the address alone (a calendar application sends nothing else).
SECRET_ADDRESSES = {("GET", "/calendar/{secret}.ics")}
FEDERATION = {
    ("GET", "/federation/node"),
    ("GET", "/federation/feed"),
    ("GET", "/federation/bodies/{digest}"),
    ("POST", "/federation/inbox"),
    ("GET", "/federation/held"),
}


def _walk(routes: list[Any], prefix: str = "") -> Iterator[tuple[str, str]]:
    """(method, path) of routes, into included routers (FastAPI keeps them nested since
    0.16x; older versions flatten them into the app's routes)."""
    for route in routes:
        inner = getattr(route, "original_router", None)
        if inner is not None:
            context = getattr(route, "include_context", None)
            yield from _walk(inner.routes, prefix + (getattr(context, "prefix", "") or ""))
        elif isinstance(route, APIRoute | Route):
            for method in route.methods or ():
                if method != "HEAD":
                    yield method, prefix + route.path


def app_routes() -> set[tuple[str, str]]:
    """(method, path) of every route the app serves: its routers' (the hidden web pages
    included) and its spec's."""
    world = everyone()
    found = set(_walk(_one_app().routes))
    spec = TestClient(node_app(world)).get("/openapi.json").json()
    for path, operations in spec["paths"].items():
        found |= {(method.upper(), path) for method in operations}
    return found


def test_every_route_of_the_app_is_in_the_matrix() -> None:
    routes = app_routes()
    tabled = set(API) | PUBLIC | FEDERATION | WEB_OPEN | set(WEB_PAGES) | set(WEB_ACTIONS)
    tabled |= set(WEB_ONLY)
    tabled |= SECRET_ADDRESSES
    tabled |= WEB_OWN
    tabled |= WEB_BY_MAIL
    tabled |= {("POST", path) for path in STEP_ROUTES}
    assert routes - tabled == set(), "routes the matrix does not check"
    assert tabled - routes == set(), "the matrix names routes the app does not serve"
    assert len(routes) >= 95
    from node.http.web import appeal_pages, proposal_pages, selection_pages

    # Each step route's steps are the page module's own: a step added there must be tabled.
    assert set(proposal_pages.STEPS_BY_NAME) == set(STEP_ROUTES["/proposals/{proposal_id}/{step}"])
    selection_steps = STEP_ROUTES["/selections/{selection_id}/{step}"]
    assert set(selection_pages.STEPS_BY_NAME) == set(selection_steps)
    assert set(appeal_pages.STEPS) == set(STEP_ROUTES["/appeals/{appeal_id}/{step}"])
    # Every API route a step or a form follows is one the member API's matrix checks.
    followed = {("POST", api) for steps in STEP_ROUTES.values() for api in steps.values()}
    assert followed | set(WEB_ACTIONS.values()) <= set(API)
    assert set(SELECTION_PROCESS) <= {("POST", api) for api in selection_steps.values()}


# The member API: every route, every caller.


def signed_headers(world: Everyone, node: CircleNode, method: str, url: str, body: bytes) -> Any:
    assert node.feed.keys is not None
    return sign_request(
        method, url, {}, body, key_id=node.feed.node_id, private_key=node.feed.keys.current
    )


def call(client: TestClient, method: str, path: str, headers: dict[str, str], body: Any) -> Any:
    content = json.dumps(body).encode() if body is not None else None
    headers = {**headers, "Content-Type": "application/json"} if content is not None else headers
    return client.request(method, path, headers=headers, content=content)


def outsider_headers(world: Everyone, who: str, method: str, url: str, body: Any) -> dict[str, str]:
    raw = json.dumps(body).encode() if body is not None else b""
    if who == "anonymous":
        return {}
    if who == "lee (left)":
        return world.bearer("lee")
    node = world.peer if who == "peer node" else world.stranger
    return dict(signed_headers(world, node, method, url, raw))


@dataclass
class Cells:
    """What each caller got, and what was wrong with it."""

    got: dict[str, int] = field(default_factory=dict)
    wrong: list[str] = field(default_factory=list)

    def expect(self, who: str, response: Any, expected: str) -> None:
        status = response.status_code
        self.got[who] = status
        if status >= 500:
            self.wrong.append(f"{who}: {status} (a server error) {response.text[:200]}")
        elif expected == "401" and status != 401:
            self.wrong.append(f"{who}: {status}, expected 401 {response.text[:200]}")
        elif expected == "403" and status != 403:
            self.wrong.append(f"{who}: {status}, expected 403 {response.text[:200]}")
        elif expected == "200" and status != 200:
            self.wrong.append(f"{who}: {status}, expected 200 {response.text[:200]}")
        elif expected == "allowed" and status in (401, 403):
            self.wrong.append(f"{who}: {status}, expected to be let through {response.text[:200]}")


def body_of(rule: Rule, world: Everyone) -> Any:
    return rule.body(world) if callable(rule.body) else rule.body


@pytest.mark.parametrize(("method", "path"), sorted(API), ids=[f"{m} {p}" for m, p in sorted(API)])
def test_member_api_cells(method: str, path: str) -> None:
    assert_api_cells(method, path, API[(method, path)])


@pytest.mark.parametrize(
    ("method", "path"), sorted(SELECTION_PROCESS), ids=[p for _, p in sorted(SELECTION_PROCESS)]
)
def test_member_api_cells_on_a_selection(method: str, path: str) -> None:
    """The consent process's routes on a selection (its candidate's consent round), as a
    selection's page takes them."""
    assert_api_cells(method, path, SELECTION_PROCESS[(method, path)])


def assert_api_cells(method: str, path: str, rule: Rule) -> None:
    world = everyone()
    client = app_for(world)
    target_path = fill_path(path, rule.setup(world))
    assert "{" not in target_path, target_path
    body = body_of(rule, world)
    url = f"http://testserver{target_path}"
    cells = Cells()
    for who in OUTSIDERS:  # no personal token of someone still in: 401, nothing happens
        headers = outsider_headers(world, who, method, url, body)
        cells.expect(who, call(client, method, target_path, headers, body), "401")
    reading = method == "GET"
    denied = [who for who in MEMBERS if who not in rule.allowed]
    allowed = [who for who in MEMBERS if who in rule.allowed]
    for who in denied + allowed:  # refusals first: they change nothing
        response = call(client, method, target_path, world.bearer(who), body)
        expected = ("200" if reading else "allowed") if who in rule.allowed else "403"
        cells.expect(who, response, expected)
        if expected == "403" and response.status_code == 403:
            assert response.json()["reason"] == "not_permitted", response.text
    assert not cells.wrong, f"{method} {path} ({rule.why}): {cells.wrong}; got {cells.got}"


# The federation API: nodes, signed or not; personal tokens count for nothing here.


def _private_body(world: Everyone) -> str:
    """A body of the node's feed addressed to the peer alone; returns its hash in hex."""
    node, peer = world.node, world.peer
    assert node.feed.keys is not None
    own = node.feed.own_feed()
    body = b"for the garden only"
    signed = own.append(node.feed.keys, JOIN_REQUEST, body, 1, [peer.feed.feed_id])
    node.save(
        own,
        entries=[(node.feed.feed_id, own.head, encode(signed))],
        bodies=[node.store.body_row(body, [peer.feed.feed_id])],
    )
    return decode_entry(signed).body_hash.hex()


def test_federation_cells() -> None:
    world = everyone()
    client = app_for(world)
    private = _private_body(world)
    public = world.records["digest"][0]
    callers = ["anonymous", "member (a personal token)", "lee (left)", "peer node", "unknown node"]

    def headers(who: str, method: str, path: str, body: bytes = b"") -> dict[str, str]:
        if who == "member (a personal token)":
            return world.bearer("ada")
        if who in ("peer node", "unknown node"):
            node = world.peer if who == "peer node" else world.stranger
            return dict(signed_headers(world, node, method, f"http://testserver{path}", body))
        return outsider_headers(world, who, method, f"http://testserver{path}", None)

    cells = Cells()
    for who in callers:
        cells.expect(
            f"{who} node",
            client.get("/federation/node", headers=headers(who, "GET", "/federation/node")),
            "200",
        )
        path = "/federation/feed?after=0"
        response = client.get(path, headers=headers(who, "GET", path))
        cells.expect(f"{who} feed", response, "200")
        bodies = decode_page(response.content).bodies
        assert (b"for the garden only" in bodies) == (who == "peer node"), who
        path = f"/federation/bodies/{public}"
        cells.expect(
            f"{who} public body", client.get(path, headers=headers(who, "GET", path)), "200"
        )
        path = f"/federation/bodies/{private}"
        response = client.get(path, headers=headers(who, "GET", path))
        cells.expect(f"{who} private body", response, "200" if who == "peer node" else "403")
        # A node's own feed as held here: to that node alone (PROTOCOL.md 9.10).
        path = "/federation/held?after=0"
        response = client.get(path, headers=headers(who, "GET", path))
        cells.expect(f"{who} held copy", response, "200" if who == "peer node" else "401")
        if who == "peer node":
            assert decode_page(response.content).feed == world.peer.feed.feed_id
    # The inbox: what a push can do is what its entries' signatures allow, whoever sends it.
    client.app.circle.join_limiter.burst = 100.0  # type: ignore[attr-defined]
    consent_to(world.peer, "adopt_policy", {}, "So that the garden has news", title="Water")
    peer_next = world.peer.feed.own_feed().next_seq  # all of the peer's feed, once taken
    peer_push = world.peer.outbox.pending_push(world.node.feed.feed_id)
    assert peer_push is not None
    stranger_push = Push(
        world.stranger.feed.feed_id,
        [world.stranger.feed.inception(), *world.stranger.feed.own_entries(0, 10)],
        [],
    )
    for who in callers:
        raw = encode(stranger_push)
        response = client.post(
            "/federation/inbox",
            content=raw,
            headers={
                **headers(who, "POST", "/federation/inbox", raw),
                "Content-Type": "application/msgpack",
            },
        )
        cells.expect(f"{who} pushes an unknown node's feed", response, "403")
        assert response.json()["reason"] == "unknown_node"
    for who in callers:
        raw = encode(peer_push)
        response = client.post(
            "/federation/inbox",
            content=raw,
            headers={
                **headers(who, "POST", "/federation/inbox", raw),
                "Content-Type": "application/msgpack",
            },
        )
        cells.expect(f"{who} pushes the peer's entries", response, "200")
        reply = decode_push_reply(response.content)
        # The peer's entries are taken once, whoever carries them; never twice.
        assert reply.next_seq == peer_next, (who, reply)
    assert world.node.peering.peer(world.stranger.feed.feed_id) is None
    assert not cells.wrong, cells.wrong


def test_public_routes_answer_everyone() -> None:
    world = everyone()
    client = app_for(world)
    for method, route in sorted(PUBLIC):
        path = route.replace("{name}", "swagger-init.js")  # a file of the API's docs
        for who in (*OUTSIDERS, *MEMBERS):
            if who in MEMBERS:
                headers = world.bearer(who)
            else:
                headers = outsider_headers(world, who, method, f"http://testserver{path}", None)
            response = client.request(method, path, headers=headers)
            assert response.status_code == 200, (method, path, who, response.status_code)


def test_a_secret_address_answers_its_secret_alone() -> None:
    """A calendar feed answers whoever holds its secret address, and nobody else, whatever
    they sign with: a personal token, a node's key."""
    world = everyone()
    client = app_for(world)
    secret = world.node.calendars.make_link(world.ids["cleo"])
    (route,) = SECRET_ADDRESSES
    method, template = route
    wrong = secret[:-2] + ("aa" if not secret.endswith("aa") else "bb")
    for who in (*OUTSIDERS, *MEMBERS):
        for candidate, expected in ((wrong, 404), ("cn_" + secret[4:], 404), (secret, 200)):
            path = template.replace("{secret}", candidate)
            if who in MEMBERS:
                headers = world.bearer(who)
            else:
                headers = outsider_headers(world, who, method, f"http://testserver{path}", None)
            response = client.request(method, path, headers=headers)
            assert response.status_code == expected, (who, candidate[:6], response.status_code)


# The web pages: members sign in with their token into a session; forms carry its CSRF token.


def signed_in(client: TestClient, token: str) -> str:
    """Sign in with a token (the visitor's cookie is kept by the client); returns the CSRF
    token of the signed-in session."""
    page = client.get("/sign-in")
    csrf = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert csrf is not None
    response = client.post(
        "/sign-in",
        data={"csrf": csrf.group(1), "token": token, "next": "/circle"},
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text
    circle = client.get("/circle")
    found = re.search(r'name="csrf" value="([^"]+)"', circle.text)
    assert circle.status_code == 200 and found is not None
    return found.group(1)


def web_client(app: Any) -> TestClient:
    """A browser of its own (its own cookie jar) on the app."""
    return TestClient(app, follow_redirects=False)


def test_web_page_cells() -> None:
    """Every page, for every caller: members see it; everyone else is sent to sign in."""
    world = everyone()
    made: dict[Setup, dict[str, str]] = {}  # each setup once (pages of one record share it)
    for setup in WEB_PAGES.values():
        made[setup] = made[setup] if setup in made else setup(world)
    pages = {key: fill_path(key[1], made[setup]) for key, setup in WEB_PAGES.items()}
    assert not [path for path in pages.values() if "{" in path], pages
    app = node_app(world)
    sessions = {who: web_client(app) for who in MEMBERS}
    for who, client in sessions.items():
        signed_in(client, world.tokens[who])
    # Someone signs in while still in the circle, then leaves: their session ends with it.
    kim = world.node.people.apply_to_join("Kim")
    world.node.people.admit(world.ids["ada"], kim)
    gone = web_client(app)
    signed_in(gone, world.node.tokens.issue_token(kim)[1])
    world.node.people.leave(kim, kim)
    wrong = []
    for (method, _), path in sorted(pages.items()):
        for who in ("anonymous", "someone who left", "peer node", "unknown node"):
            client = gone if who == "someone who left" else web_client(app)
            url = f"http://testserver{path}"
            headers = (
                {} if who == "someone who left" else outsider_headers(world, who, method, url, None)
            )
            response = client.request(method, path, headers=headers)
            if response.status_code != 303 or not response.headers["location"].startswith(
                "/sign-in"
            ):
                wrong.append(f"{path} {who}: {response.status_code}")
        for who, client in sessions.items():
            response = client.request(method, path)
            if response.status_code != 200:
                wrong.append(f"{path} {who}: {response.status_code} {response.text[:200]}")
    assert not wrong, wrong


WEB_FORMS = sorted(
    [(method, path, None) for method, path in WEB_ACTIONS]
    + [("POST", path, step) for path, steps in STEP_ROUTES.items() for step in steps]
)


def web_form(world: Everyone, method: str, path: str, step: str | None) -> tuple[str, Any, Rule]:
    """Where a form (or a step) is posted, on a circle brought to where the API route it
    follows can act; a complete form; and that route's rule."""
    if step:
        api_method, api_path = "POST", STEP_ROUTES[path][step]
    else:
        api_method, api_path = WEB_ACTIONS[(method, path)]
    rule = API[(api_method, api_path)]
    if path == "/selections/{selection_id}/{step}":  # the consent process, on a selection
        rule = SELECTION_PROCESS.get((api_method, api_path), rule)
    params = {**rule.setup(world), **WEB_PATH_PARAMS.get(path, nothing)(world)}
    target_path = fill_path(path, {**params, "step": step or ""})
    assert "{" not in target_path, target_path
    return target_path, form_fields(world, path, step, api_path), rule


@pytest.mark.parametrize(
    ("method", "path", "step"),
    WEB_FORMS,
    ids=[f"{m} {p} {s or ''}".strip() for m, p, s in WEB_FORMS],
)
def test_web_form_cells(method: str, path: str, step: str | None) -> None:
    """A form of the web pages, posted by each member with their session's CSRF token: the
    same who-may as the member API's route that does the same."""
    world = everyone()
    target_path, fields, rule = web_form(world, method, path, step)
    denied = [who for who in MEMBERS if who not in rule.allowed]
    allowed = [who for who in MEMBERS if who in rule.allowed]
    app = node_app(world)
    wrong = []
    for who in denied + allowed:
        client = web_client(app)
        csrf = signed_in(client, world.tokens[who])
        response = client.post(target_path, data={**fields, "csrf": csrf})
        status = response.status_code
        if status >= 500 or (who in rule.allowed) == (status == 403) or status == 401:
            wrong.append(f"{who}: {status} {response.text[:300]}")
        if who not in rule.allowed and status == 403:
            assert "This form cannot be accepted" not in response.text  # the rules, not CSRF
    assert not wrong, f"{path} {step}: {wrong}"


@pytest.mark.parametrize(("method", "path"), sorted(WEB_ONLY), ids=[p for _, p in WEB_ONLY])
def test_web_only_form_cells(method: str, path: str) -> None:
    """A form of the web pages with no member API route: its own who-may, for each member."""
    rule = WEB_ONLY[(method, path)]
    world = everyone()
    target_path = fill_path(path, rule.setup(world))
    app = node_app(world)
    wrong = []
    for who in MEMBERS:
        client = web_client(app)
        csrf = signed_in(client, world.tokens[who])
        response = client.post(target_path, data={**body_of(rule, world), "csrf": csrf})
        status = response.status_code
        if status >= 500 or (who in rule.allowed) == (status == 403) or status == 401:
            wrong.append(f"{who}: {status} {response.text[:300]}")
    assert not wrong, f"{path}: {wrong}"


@pytest.mark.parametrize(
    ("path", "step"), sorted(CONFIRMED), ids=[f"{p} {s}".strip() for p, s in sorted(CONFIRMED)]
)
def test_a_confirmation_is_asked_of_whom_may_act(path: str, step: str) -> None:
    """A consequential step posted without `confirmed=yes`: whom the API route's rules let
    through is asked to confirm it on a page of its own (a form carrying `confirmed=yes`);
    everyone else is refused by the rules; nobody's post does anything yet."""
    world = everyone()
    target_path, fields, rule = web_form(world, "POST", path, step or None)
    unconfirmed = {name: value for name, value in fields.items() if name != "confirmed"}
    app = node_app(world)
    wrong = []
    for who in MEMBERS:
        client = web_client(app)
        csrf = signed_in(client, world.tokens[who])
        before = world.node.store.recorder.max_notification_id()
        response = client.post(target_path, data={**unconfirmed, "csrf": csrf})
        status = response.status_code
        asked = status == 200 and 'name="confirmed" value="yes"' in response.text
        if who in rule.allowed and not asked:
            wrong.append(f"{who} is not asked: {status} {response.text[:300]}")
        if who not in rule.allowed and status != 403:
            wrong.append(f"{who} is not refused: {status} {response.text[:300]}")
        if world.node.store.recorder.max_notification_id() != before:
            wrong.append(f"{who}'s post did something before it was confirmed")
    assert not wrong, f"{path} {step}: {wrong}"


# CSRF: every form of the web pages, each posted without its session's token.


def web_posts() -> list[tuple[str, str | None]]:
    """(path, step) of every POST route of the web pages (node.http.web), steps spelled out."""
    from node.http.web import PAGES

    posts: list[tuple[str, str | None]] = []
    routes = [route for pages in PAGES for route in pages.router.routes]
    for method, path in sorted(set(_walk(routes))):
        if method != "POST":
            continue
        if path in STEP_ROUTES:
            posts += [(path, step) for step in sorted(STEP_ROUTES[path])]
        else:
            posts.append((path, None))
    return posts


WEB_POSTS = web_posts()


def test_the_web_posts_are_the_ones_checked() -> None:
    assert {path for path, _ in WEB_POSTS} == {
        path for method, path in (*WEB_OPEN, *WEB_OWN, *WEB_ACTIONS, *WEB_ONLY) if method == "POST"
    } | set(STEP_ROUTES)
    assert len(WEB_POSTS) >= 80


def _form_for(world: Everyone, path: str, step: str | None) -> tuple[str, dict[str, Any], str]:
    """Where to post, a complete form, and who may post it (the form's own rules)."""
    if path == "/sign-in":
        return path, {"token": world.tokens["ben"], "next": "/circle"}, "anyone"
    if path == "/sign-out":
        return path, {}, "ben"
    if path == "/sign-in/link/{token}":  # a link as an admission mail carries (Gus's)
        links = world.node.links.links()
        token = links.issue(world.ids["gus"], world.node.records.now())
        world.node.save(links)
        return f"/sign-in/link/{token}", {}, "anyone"
    if path == "/account/mail":
        return path, {"email": "ben@example.org", "notices": "each"}, "ben"
    if ("POST", path) in WEB_ONLY:
        rule = WEB_ONLY[("POST", path)]
        fields = body_of(rule, world)
        return fill_path(path, rule.setup(world)), fields, sorted(rule.allowed)[0]
    if path == "/circles/{other}/seats/{proposal}":  # no seat here: Cleo holds none
        return fill_path(path, seat(world)), {"answer": "consent"}, "cleo"
    target_path, fields, rule = web_form(world, "POST", path, step)
    who = POSTED_BY.get(path, {}).get(step or "", min(rule.allowed, default="cleo"))
    return target_path, fields, who


@pytest.mark.parametrize(
    ("path", "step"), WEB_POSTS, ids=[f"POST {p} {s or ''}".strip() for p, s in WEB_POSTS]
)
def test_every_form_refuses_a_post_without_its_csrf_token(path: str, step: str | None) -> None:
    world = everyone()
    app = node_app(world)
    target_path, fields, who = _form_for(world, path, step)
    client = web_client(app)
    if who == "anyone":
        page = client.get("/sign-in")  # a session for the sign-in form, with its token
        found = re.search(r'name="csrf" value="([^"]+)"', page.text)
        assert found is not None
        csrf = found.group(1)
    else:
        csrf = signed_in(client, world.tokens[who])
    other = web_client(app)
    other_csrf = signed_in(other, world.tokens["cleo"])  # another session's token
    before = world.node.store.recorder.max_notification_id()
    forged: dict[str, Any] = {
        "no token": {"data": fields},
        "an empty token": {"data": {**fields, "csrf": ""}},
        "a wrong token": {"data": {**fields, "csrf": csrf[:-2] + "xx"}},
        "another session's token": {"data": {**fields, "csrf": other_csrf}},
        "the token in JSON, not a form": {"json": {**fields, "csrf": csrf}},
        "the token in the query string": {"data": fields, "params": {"csrf": csrf}},
    }
    for case, request in forged.items():
        response = client.post(target_path, **request)
        assert response.status_code == 403, (case, response.status_code, response.text[:300])
        assert "This form cannot be accepted" in response.text, case
        assert world.node.store.recorder.max_notification_id() == before, case
    # Without a session at all (a cross-site post from a page that never saw this node).
    response = web_client(app).post(target_path, data={**fields, "csrf": csrf})
    assert response.status_code in (403, 303), response.status_code
    if response.status_code == 303:  # a member's form: sent to sign in, nothing done
        assert response.headers["location"].startswith("/sign-in")
    else:
        assert "This form cannot be accepted" in response.text
    assert world.node.store.recorder.max_notification_id() == before
    # The same form with its token goes through (so the refusals above were the token's), or
    # reaches the circle's rules where the world cannot take the step: a step this world has
    # no case for, a node to join that cannot be reached, a seat nobody holds here, support not
    # yet accepted or delivered, a circle active already, a circle that is not linked.
    response = client.post(target_path, data={**fields, "csrf": csrf})
    expected = REFUSED_IN_THE_WORLD.get(path, {}).get(step or "")
    if expected is not None:
        assert response.status_code == expected, (response.status_code, response.text[:300])
        assert 'class="refusal"' in response.text
    else:
        through = REFUSED_BY_THE_RULES.get(path, (200, 303))
        assert response.status_code in through, (response.status_code, response.text[:300])
    assert "This form cannot be accepted" not in response.text
