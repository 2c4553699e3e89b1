"""Who may call the member API and what bad requests get: 401 without a valid token (on every
route, reads included), 403 and 409 as the circle's rules say, 404 for unknown ids, 400 for
malformed requests, 422 for what the circle refuses; pagination and its bounds; the logbook."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from domain.values import Purpose
from node.app.logbook import read_logbook
from node.demo.scripted import consent_to
from tests.node.api.world import PROBLEM, Circle, assert_problem

UNKNOWN = "3f1f1f1f-1111-4111-8111-111111111111"


def api_routes(c: Circle) -> list[tuple[str, str]]:
    """(method, path) of every documented member API route, path parameters filled in."""
    spec = c.client.get("/openapi.json").json()
    return [
        (method.upper(), re.sub(r"\{[^}]+\}", "1", path))
        for path, operations in spec["paths"].items()
        if path.startswith("/api/")
        for method in operations
    ]


def test_every_route_needs_a_valid_token_of_someone_still_in_the_circle(circle: Circle) -> None:
    c, ids = circle, circle.ids
    routes = api_routes(c)
    assert len(routes) >= 70
    leaver = c.tokens["eli"]
    revoked_id, revoked = c.node.tokens.issue_token(ids["cleo"])
    assert c.client.delete(f"/api/tokens/{revoked_id}", headers=c.as_("cleo")).status_code == 204
    c.ok("eli", f"/people/{ids['eli']}/leave", {"note": "Thank you all"})
    cases = {
        "no token": {},
        "not a bearer token": {"Authorization": f"Basic {c.tokens['ada']}"},
        "an unknown token": {"Authorization": "Bearer cn_not-a-token"},
        "a revoked token": {"Authorization": f"Bearer {revoked}"},
        "the token of someone who left": {"Authorization": f"Bearer {leaver}"},
    }
    for case, headers in cases.items():
        for method, path in routes:
            response = c.client.request(method, path, headers=headers, json={})
            assert response.status_code == 401, (case, method, path, response.text)
            assert response.headers["content-type"] == PROBLEM
            assert response.headers["www-authenticate"] == "Bearer"
            assert response.json()["reason"] == "unauthenticated"
    assert c.client.get("/api/proposals").json()["detail"] == "Sign in with your personal token"
    assert c.client.get("/api/proposals", headers=cases["a revoked token"]).json()["detail"] == (
        "That token is unknown, revoked, or belongs to someone who has left the circle"
    )
    # The same people, with valid tokens, are served.
    assert c.get("cleo", "/proposals").status_code == 200


def test_authorisation_follows_the_circles_rules(circle: Circle) -> None:
    c = circle
    pid = c.ok("cleo", "/proposals", {"title": "Rota", "text": "Weekly"}, 201)["id"]
    c.ok("cleo", f"/proposals/{pid}/present")
    c.ok("ben", f"/proposals/{pid}/reaction-round")
    # A wrong stage: the consent round is not open yet.
    assert_problem(
        c.post("ada", f"/processes/{pid}/objections", {"argument": "Too often"}),
        409,
        "wrong_stage",
        "Cannot answer the consent round while it is reactions",
    )
    assert_problem(
        c.post("cleo", f"/processes/{pid}/consent-round"),
        403,
        "not_permitted",
        "Only the facilitator can open the consent round",
    )
    c.ok("ben", f"/processes/{pid}/consent-round")
    for who in ("eli", "gus"):  # a learning participant and a guest speak, not block
        assert_problem(
            c.post(who, f"/processes/{pid}/objections", {"argument": "Too often"}),
            403,
            "not_permitted",
            "Only full participants can consent or object; learning participants and guests "
            "speak, not block",
        )
    assert_problem(
        c.post("ada", f"/processes/{pid}/objections", {"argument": "  "}),
        422,
        "invalid_request",
        "An objection needs its argument: how would this harm the circle's ability to reach "
        "its aim?",
    )
    assert_problem(
        c.post("ben", f"/proposals/{pid}/reactions", {"reaction": "Late"}),
        409,
        "wrong_stage",
        "Cannot react while it is consent round",
    )

    # Only the secretary admits someone; then they get their token, once.
    applicant = c.ok("ada", "/people", {"name": "Dora"}, 201)["person_id"]
    assert_problem(
        c.post("cleo", f"/people/{applicant}/admit", {"level": "full"}),
        403,
        "not_permitted",
        "Only the secretary can admit someone",
    )
    admitted = c.ok("ada", f"/people/{applicant}/admit", {"level": "full"})
    response = c.client.get("/api/circle", headers={"Authorization": f"Bearer {admitted['token']}"})
    assert response.status_code == 200


def test_unknown_ids_are_not_found(circle: Circle) -> None:
    c = circle
    for path, detail in (
        (f"/proposals/{UNKNOWN}", f"No proposal with id {UNKNOWN}"),
        ("/proposals/not-an-id", "No proposal with id not-an-id"),
        (f"/selections/{UNKNOWN}", f"No selection with id {UNKNOWN}"),
        (f"/processes/{UNKNOWN}", f"No proposal or selection with id {UNKNOWN}"),
        (f"/decisions/{UNKNOWN}", f"No decision with id {UNKNOWN}"),
        (f"/meetings/{UNKNOWN}", f"No meeting with id {UNKNOWN}"),
        (f"/support-requests/{UNKNOWN}", f"No request for support with id {UNKNOWN}"),
        ("/hats/baker", "The circle has no hat 'baker'"),
        ("/relationships/cn1nobody", "This circle does not know the circle cn1nobody"),
    ):
        assert_problem(c.get("ada", path), 404, "not_found", detail)
    # A decision's id is not a process's.
    c.node.hats.define_hat(c.ids["ada"], "Cook", "Cooks", [], ["menu"])
    assert_problem(
        c.post("ben", f"/processes/{UNKNOWN}/consent-round"),
        404,
        "not_found",
        f"No proposal or selection with id {UNKNOWN}",
    )
    assert_problem(
        c.post("ada", f"/people/{UNKNOWN}/trial", {"sessions": 2}),
        404,
        "not_found",
        "This person is not a participant of the circle",
    )
    assert_problem(
        c.post("ada", "/meetings/x/minutes", {"text": "x"}),
        404,
        "not_found",
        "No meeting with id x",
    )
    assert_problem(
        c.post("ada", f"/seats/cn1nobody/{UNKNOWN}", {"consents": True}),
        404,
        "not_found",
        "This circle does not know the circle cn1nobody",
    )
    assert_problem(c.get("ada", "/no-such-thing"), 404, "not_found")


def test_malformed_requests_are_400_and_refusals_422(circle: Circle) -> None:
    c = circle
    headers = {**c.as_("cleo"), "Content-Type": "application/json"}
    response = c.client.post("/api/proposals", content=b'{"title": "x",', headers=headers)
    assert_problem(response, 400, "malformed")
    for body, where in (
        # A draft's fields are read by the schema of its purpose (adopt_policy if it names
        # none): the place of a fault names the purpose.
        ({"text": "no title"}, "body.adopt_policy.title: Field required"),
        ({"title": ["a"], "text": "x"}, "body.adopt_policy.title: Input should be a valid string"),
        (
            {"title": "x", "text": "y", "subject": "z"},
            "body.adopt_policy.subject: Input should be a valid",
        ),
        # What a purpose's subject needs, and the types of its keys, are its schema's.
        (
            {"title": "x", "text": "y", "purpose": "win"},
            "body: Input tag 'win' found using 'purpose' does not match any of the expected",
        ),
        ({"title": "x", "text": "y", "purpose": "change_aim"}, "body.change_aim.subject: Field"),
        (
            {"title": "x", "text": "y", "purpose": "accept_offer", "subject": {"offer": "o"}},
            "body.accept_offer.subject.request: Field required",
        ),
        (
            {"title": "x", "text": "y", "purpose": "request_support", "subject": {"kind": "x"}},
            "body.request_support.subject.kind: Input should be 'resources'",
        ),
        (
            {
                "title": "x",
                "text": "y",
                "purpose": "request_support",
                "subject": {"kind": "people", "circles": 5},
            },
            "body.request_support.subject.circles: Input should be a valid list",
        ),
        (
            {"title": "x", "text": "y", "subject": {"aim": "A"}},
            "body.adopt_policy.subject.aim: Extra inputs are not permitted",
        ),
        (
            {"title": "x", "text": "y", "review_date": "soon"},
            "body.adopt_policy.review_date: Input",
        ),
        ({"title": "x" * 301, "text": "y"}, "body.adopt_policy.title: String should have"),
    ):
        response = c.post("cleo", "/proposals", body)
        assert_problem(response, 400, "malformed")
        assert response.json()["detail"].startswith(where), response.json()
    # A lone surrogate (valid JSON, but no text) cannot be stored.
    response = c.client.post(
        "/api/proposals", content=b'{"title": "\\ud800", "text": "y"}', headers=headers
    )
    assert_problem(response, 400, "malformed")
    assert response.json()["detail"].startswith("body.adopt_policy.title: ")
    assert_problem(c.post("cleo", "/proposals", [1, 2]), 400, "malformed")
    assert_problem(
        c.post("cleo", "/proposals/x/questions/one/answer", {"answer": "x"}), 400, "malformed"
    )

    # Values the circle refuses: with its sentence, as 422.
    for body, detail in (
        ({"title": " ", "text": "y"}, "A proposal needs a title"),
        (
            {"title": "x", "text": "y", "mode": "async"},
            "An asynchronous decision needs a deadline",
        ),
        (
            {"title": "x", "text": "y", "mode": "async", "deadline": "2026-03-09T12:00:00"},
            "The deadline needs a time zone, e.g. 2026-03-01T09:00:00+01:00 or ...Z",
        ),
        (
            {"title": "x", "text": "y", "mode": "async", "deadline": "2026-02-01T12:00:00Z"},
            "The deadline must be in the future",
        ),
        (
            {"title": "x", "text": "y", "deadline": "0001-01-01T00:00:00+01:00"},
            "The deadline is out of range",
        ),
        (
            {"title": "x", "text": "y", "purpose": "change_aim", "subject": {"aim": " "}},
            "A proposal to change aim must name aim",
        ),
    ):
        response = c.post("cleo", "/proposals", body)
        assert_problem(response, 422, "invalid_request")
        assert response.json()["detail"].startswith(detail), response.json()
    # An asynchronous proposal with a deadline that says its time zone is fine; it is shown
    # at the same instant in the circle's time zone (UTC here).
    made = c.ok(
        "cleo",
        "/proposals",
        {"title": "x", "text": "y", "mode": "async", "deadline": "2026-03-09T12:00:00+02:00"},
        201,
    )
    assert made["deadline"] == "2026-03-09T10:00:00Z" and made["mode"] == "async"


def test_lists_are_paginated_within_bounds(circle: Circle) -> None:
    c = circle
    # The proposal by which the circle formed its aim, and four more: five in all.
    formed = [p["id"] for p in c.get("ada", "/proposals").json()["items"]]
    made = formed + [
        c.ok("cleo", "/proposals", {"title": f"Proposal {n}", "text": "x"}, 201)["id"]
        for n in range(5 - len(formed))
    ]
    first = c.get("ada", "/proposals", params={"limit": 2}).json()
    assert [p["id"] for p in first["items"]] == made[:2]
    assert (first["total"], first["offset"], first["limit"]) == (5, 0, 2)
    last = c.get("ada", "/proposals", params={"limit": 2, "offset": 4}).json()
    assert [p["id"] for p in last["items"]] == made[4:]
    assert (last["total"], last["offset"], last["limit"]) == (5, 4, 2)
    beyond = c.get("ada", "/proposals", params={"offset": 10}).json()
    assert beyond == {"items": [], "total": 5, "offset": 10, "limit": 50}
    assert c.get("ada", "/proposals", params={"limit": 100}).status_code == 200
    for params, where in (
        ({"limit": 0}, "query.limit: Input should be greater than or equal to 1"),
        ({"limit": 101}, "query.limit: Input should be less than or equal to 100"),
        ({"offset": -1}, "query.offset: Input should be greater than or equal to 0"),
        (
            {"limit": "ten"},
            "query.limit: Input should be a valid integer, unable to parse string as an integer",
        ),
    ):
        for path in ("/proposals", "/logbook", "/hats", "/decisions", "/peers"):
            response = c.get("ada", path, params=params)
            assert_problem(response, 400, "malformed", where)


def test_the_logbook_tells_the_story_page_by_page(circle: Circle) -> None:
    c = circle
    pid = c.ok("cleo", "/proposals", {"title": "Rota", "text": "Weekly"}, 201)["id"]
    c.ok("cleo", f"/proposals/{pid}/present")
    told = [entry.text for entry in read_logbook(c.node)]
    whole = c.get("gus", "/logbook", params={"limit": 100}).json()
    assert [{**item, "at": datetime.fromisoformat(item["at"])} for item in whole["items"]] == [
        {
            "when": e.when.isoformat(),
            "at": e.at,
            "record_id": e.record_id,
            "actor": e.actor,
            "text": e.text,
            "kind": e.kind,
            "confidential": False,
        }
        for e in read_logbook(c.node)
    ]
    assert whole["total"] == len(told) > 20
    assert whole["items"][0]["text"] == (
        "Ada founded the circle 'Kitchen' with the aim: Feed the neighbourhood"
    )
    assert whole["items"][0]["record_id"] == c.get("ada", "/circle").json()["id"]
    assert [(e["record_id"], e["text"]) for e in whole["items"][-2:]] == [
        (pid, "Cleo drafted the proposal 'Rota'"),
        (pid, "'Rota' was presented"),
    ]
    page = c.get("gus", "/logbook", params={"offset": 3, "limit": 4}).json()
    assert [e["text"] for e in page["items"]] == told[3:7]
    assert (page["total"], page["offset"], page["limit"]) == (len(told), 3, 4)


def test_logbook_lines_carry_their_time_with_the_circle_s_offset_and_who(circle: Circle) -> None:
    c = circle
    # Given: the kitchen's rules put it in Los Angeles' time zone, and Cleo drafts a proposal.
    consent_to(c.node, Purpose.CHANGE_RULES, {"time_zone": "America/Los_Angeles"})
    pid = c.ok("cleo", "/proposals", {"title": "Rota", "text": "Weekly"}, 201)["id"]
    # When: the logbook is read through the API.
    items = c.get("gus", "/logbook", params={"limit": 100}).json()["items"]
    # Then: each line's time says its offset, Los Angeles' (-08:00 or -07:00, by the season).
    zone = ZoneInfo("America/Los_Angeles")
    for item in items:
        at = datetime.fromisoformat(item["at"])
        assert at.utcoffset() == at.astimezone(zone).utcoffset() < timedelta(0)
        assert item["at"].endswith(("-08:00", "-07:00"))
    # And: the draft names Cleo as the one who did it.
    (drafted,) = [item for item in items if item["record_id"] == pid]
    assert drafted["actor"] == c.ids["cleo"]


def test_wrong_tokens_are_rate_limited_per_client_as_sign_ins_are(circle: Circle) -> None:
    from node.http.ratelimit import RateLimiter

    c = circle
    now = [0.0]
    limiter = RateLimiter(per_minute=10.0, burst=10.0, clock=lambda: now[0])
    c.client.app.circle.token_limiter = limiter  # type: ignore[attr-defined]
    wrong = {"Authorization": "Bearer cn_a-guess"}
    # Given ten wrong tokens from one address, each refused as unknown.
    for _ in range(10):
        assert c.client.get("/api/proposals", headers=wrong).status_code == 401
    # When it tries again, with a wrong token or even a right one: 429, and when to retry.
    for headers in (wrong, c.as_("ada")):
        response = c.client.get("/api/proposals", headers=headers)
        assert_problem(
            response,
            429,
            "rate_limited",
            "Too many wrong personal tokens from your address; try again after Retry-After seconds",
        )
        assert response.headers["retry-after"] == "6"
    # Another address is not limited by it, and right tokens never count.
    assert not limiter.refusing("another address")
    now[0] += 6.0  # one guess refilled
    for _ in range(20):
        assert c.get("ada", "/proposals").status_code == 200
    assert c.client.get("/api/proposals", headers=wrong).status_code == 401
    assert c.client.get("/api/proposals", headers=wrong).status_code == 429
    # A request without a token is not a guess.
    now[0] += 60.0
    for _ in range(20):
        assert c.client.get("/api/proposals").status_code == 401
