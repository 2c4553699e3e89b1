"""Decisions over HTTP: an everyday decision by a hat wearer, a challenge that turns it into a
proposal, reviews coming due, and who may update the due dates."""

from __future__ import annotations

from domain.values import Purpose
from node.demo.scripted import consent_to, select
from tests.conftest import Clock
from tests.node.api.world import Circle, assert_problem

ORGANISER = "care-commons-organiser"


def organiser(c: Circle) -> None:
    """Cleo wears the care commons organiser hat (rota, supplies)."""
    c.node.hats.define_hat(
        c.ids["ada"], "Care commons organiser", "Keeps the rota", [], ["rota", "supplies"], 6
    )
    select(c.node, ORGANISER, c.ids["cleo"])


def test_an_everyday_decision_is_taken_and_challenged(circle: Circle) -> None:
    c, ids = circle, circle.ids
    organiser(c)
    everyday = {"hat_id": ORGANISER, "area": "Rota", "title": "Sunday pairs", "text": "Two a visit"}
    assert_problem(
        c.post("ben", "/decisions", everyday),
        403,
        "not_permitted",
        "Only the care commons organiser can take everyday decisions with this hat",
    )
    assert_problem(
        c.post("cleo", "/decisions", {**everyday, "area": "budget"}),
        403,
        "not_permitted",
        "'budget' is outside the domain of the care commons organiser hat (rota, supplies); "
        "bring a proposal to the circle instead",
    )
    assert_problem(
        c.post("cleo", "/decisions", {**everyday, "review_date": "2026-02-01"}),
        422,
        "invalid_request",
        "The review date must be in the future",
    )
    decision = c.ok("cleo", "/decisions", everyday, status=201)
    did = decision["id"]
    assert decision == {
        "id": did,
        "kind": "operational",
        "title": "Sunday pairs",
        "text": "Two a visit",
        "area": "Rota",
        "hat_id": ORGANISER,
        "taken_by": ids["cleo"],
        "proposal_id": None,
        "effective": "2026-03-01",
        "review_date": "2026-08-31",
        "term_end": None,
        "measures": [],
        "binding": False,
        "status": "in_force",
        "review_due": False,
        "challenges": [],
        "superseded_by": None,
    }

    # Anyone who proposes may challenge it; a guest may not.
    assert_problem(
        c.post("gus", f"/decisions/{did}/challenge", {"text": "One is enough"}),
        403,
        "not_permitted",
        "Guests take part in rounds; full and learning participants propose",
    )
    challenge = c.ok("eli", f"/decisions/{did}/challenge", {"text": "One is enough"}, 201)
    assert challenge["decision_id"] == did
    proposal = c.get("eli", f"/proposals/{challenge['proposal_id']}").json()
    assert proposal["title"] == "Challenge: Sunday pairs" and proposal["stage"] == "draft"
    assert proposal["purpose"] == "amend_decision" and proposal["subject"] == {"decision_id": did}
    assert proposal["proposer"] == ids["eli"] and proposal["text"] == "One is enough"
    assert c.get("ada", f"/decisions/{did}").json()["challenges"] == [challenge["proposal_id"]]
    revoking = c.ok("ada", f"/decisions/{did}/challenge", {"text": "Drop it", "revoke": True}, 201)
    assert c.get("ada", f"/proposals/{revoking['proposal_id']}").json()["purpose"] == (
        "revoke_decision"
    )

    # A policy is changed by a proposal, not challenged.
    consent_to(c.node, Purpose.ADOPT_POLICY, {}, text="Visits are paid", by=ids["ada"])
    (policy,) = [d for d in c.get("ada", "/decisions").json()["items"] if d["kind"] == "policy"]
    assert_problem(
        c.post("cleo", f"/decisions/{policy['id']}/challenge", {"text": "No"}),
        409,
        "wrong_stage",
        "A policy is changed by a proposal to amend it, not a challenge",
    )
    assert_problem(
        c.post("cleo", "/decisions/3f1f1f1f-1111-4111-8111-111111111111/challenge", {"text": "x"}),
        404,
        "not_found",
        "No decision with id 3f1f1f1f-1111-4111-8111-111111111111",
    )


def test_reviews_come_due_and_terms_end(circle: Circle, clock: Clock) -> None:
    c, ids = circle, circle.ids
    organiser(c)
    base = {"hat_id": ORGANISER, "area": "supplies", "text": "From the co-op shop"}
    soon = c.ok("cleo", "/decisions", {**base, "title": "Soap", "review_date": "2026-04-01"}, 201)
    ending = c.ok(
        "cleo",
        "/decisions",
        {**base, "title": "Trial brand", "term_end": "2026-03-20", "review_date": "2026-06-01"},
        201,
    )
    later = c.ok("cleo", "/decisions", {**base, "title": "Gloves"}, 201)
    assert c.get("ada", "/decisions/reviews-due").json()["total"] == 0

    clock.advance(days=35)  # 2026-04-05
    due = c.get("gus", "/decisions/reviews-due").json()
    assert [d["id"] for d in due["items"]] == [soon["id"]] and due["items"][0]["review_due"]
    only_due = c.get("gus", "/decisions", params={"review_due": "true"}).json()
    assert [d["id"] for d in only_due["items"]] == [soon["id"]]
    not_due = c.get("gus", "/decisions", params={"review_due": "false"}).json()
    assert [d["id"] for d in not_due["items"]] == [ending["id"], later["id"]]
    assert_problem(c.get("gus", "/decisions", params={"review_due": "maybe"}), 400, "malformed")

    # Any full participant may update the due dates; learning participants and guests may not.
    for who in ("gus", "eli"):
        assert_problem(
            c.post(who, "/decisions/update-due-dates"),
            403,
            "not_permitted",
            "Only full participants can update the circle's due dates",
        )
    assert c.ok("ben", "/decisions/update-due-dates") == {
        "review_due": [soon["id"]],
        "expired": [ending["id"]],
        "lapsed": [],
        "closed": [],
        "plans_review_due": [],
    }
    assert c.get("ada", f"/decisions/{soon['id']}").json()["status"] == "review_due"
    assert c.get("ada", f"/decisions/{ending['id']}").json()["status"] == "expired"
    assert c.ok("ben", "/decisions/update-due-dates") == {
        "review_due": [],
        "expired": [],
        "lapsed": [],
        "closed": [],
        "plans_review_due": [],
    }
    assert ids["cleo"] == c.get("ada", f"/decisions/{later['id']}").json()["taken_by"]
