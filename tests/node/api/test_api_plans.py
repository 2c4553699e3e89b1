"""The budget and plans through the member API: made and revised by the treasurer (Ben, whose
hat's domain is the budget) or by consent, listed current and past by kind, their reviews
coming due, told in the logbook and carried in the export. The clock starts on 1 March 2026."""

from __future__ import annotations

import json
from pathlib import Path

import msgspec
import pytest

from domain.values import Purpose
from node.app.archive import export_archive
from node.demo.scripted import consent_to, select
from tests.conftest import Clock
from tests.node.api.world import Circle, assert_problem

SPRING = {"period_start": "2026-03-01", "period_end": "2026-05-31"}


@pytest.fixture
def treasurer(circle: Circle) -> str:
    """Ben wears the treasurer hat, whose domain is the budget."""
    node, ids = circle.node, circle.ids
    hat = node.hats.define_hat(ids["ada"], "Treasurer", "Keeps the accounts", [], ["budget"])
    select(node, hat, ids["ben"])
    return hat


def budget(hat: str, **more: object) -> dict[str, object]:
    return {"hat_id": hat, "kind": "budget", "title": "Spring", "text": "Food 800", **SPRING} | more


def test_the_treasurer_makes_and_revises_the_budget(circle: Circle, treasurer: str) -> None:
    c = circle

    # Ben, as treasurer, sets the spring budget.
    made = c.ok("ben", "/plans", budget(treasurer, amount="800", currency="GBP"), 201)
    assert made["kind"] == "budget" and made["title"] == "Spring"
    assert (made["amount"], made["currency"]) == ("800", "GBP")
    assert made["review_date"] == "2026-05-31" and made["current"] and not made["review_due"]
    assert made["made_by"] == c.ids["ben"] and made["hat_id"] == treasurer
    assert made["proposal_id"] is None

    # Everyone reads it, guests included.
    assert c.get("gus", f"/plans/{made['id']}").json() == made

    # He revises it: new text and amount, the period as it was.
    revised = c.ok(
        "ben",
        f"/plans/{made['id']}/revise",
        {"hat_id": treasurer, "text": "Food 900", "amount": "900"},
    )
    assert revised["text"] == "Food 900" and revised["amount"] == "900"
    assert revised["period_end"] == "2026-05-31" and revised["revisions"] == 1


def test_only_the_hat_whose_domain_it_is_makes_or_revises_it(
    circle: Circle, treasurer: str
) -> None:
    c = circle
    # Cleo wears no treasurer hat.
    assert_problem(c.post("cleo", "/plans", budget(treasurer)), 403, "not_permitted")
    # The facilitator's hat does not cover the budget.
    assert_problem(
        c.post("ben", "/plans", budget("facilitator")),
        403,
        "not_permitted",
        "A budget is outside the domain of the facilitator hat (meetings, process); its "
        "domain must cover 'budget', or bring a proposal to the circle instead",
    )
    # Nor plans, for the treasurer.
    assert_problem(
        c.post("ben", "/plans", budget(treasurer, kind="plan")),
        403,
        "not_permitted",
    )
    made = c.ok("ben", "/plans", budget(treasurer), 201)
    assert_problem(
        c.post("cleo", f"/plans/{made['id']}/revise", {"hat_id": treasurer, "text": "Mine"}),
        403,
        "not_permitted",
    )


def test_a_budget_that_does_not_fit_is_refused(circle: Circle, treasurer: str) -> None:
    c = circle
    assert_problem(
        c.post("ben", "/plans", budget(treasurer, period_end="2026-02-01")),
        422,
        "invalid_request",
        "A plan's period ends on or after the day it starts",
    )
    assert_problem(
        c.post("ben", "/plans", budget(treasurer, amount="800")),
        422,
        "invalid_request",
        "Name the amount's currency by its three-letter code, such as GBP",
    )
    assert_problem(
        c.get("ada", "/plans/not-a-plan"), 404, "not_found", "No plan with id not-a-plan"
    )


def test_the_circle_adopts_and_revises_a_plan_by_consent(circle: Circle) -> None:
    c, node = circle, circle.node

    # The circle consents to a plan for the year, reviewed in the autumn.
    subject = {"kind": "plan", "period_start": "2026-04-01", "period_end": "2027-03-31"}
    drafted = c.ok(
        "cleo",
        "/proposals",
        {
            "title": "The year's plan",
            "text": "Open a second kitchen",
            "purpose": "adopt_plan",
            "subject": subject,
            "review_date": "2026-10-01",
        },
        201,
    )
    node.proposals.present(c.ids["cleo"], drafted["id"])
    node.proposals.open_reactions(c.ids["ben"], drafted["id"])
    node.consent.open_consent_round(c.ids["ben"], drafted["id"])
    for who in ("ada", "ben", "cleo"):
        node.consent.consent(c.ids[who], drafted["id"])
    assert c.ok("ben", f"/processes/{drafted['id']}/close")["outcome"] == "consented"
    (plan,) = c.get("eli", "/plans").json()["items"]
    assert plan["proposal_id"] == drafted["id"] and plan["title"] == "The year's plan"
    assert plan["review_date"] == "2026-10-01" and plan["kind"] == "plan"

    # A revision by consent moves its end.
    consent_to(
        node,
        Purpose.REVISE_PLAN,
        {"plan_id": plan["id"], "period_end": "2027-06-30"},
        "Open it in the summer instead",
    )
    revised = c.get("eli", f"/plans/{plan['id']}").json()
    assert (
        revised["period_end"] == "2027-06-30" and revised["text"] == "Open it in the summer instead"
    )


def test_a_revision_proposal_names_a_plan_that_exists(circle: Circle) -> None:
    assert_problem(
        circle.post(
            "cleo",
            "/proposals",
            {
                "title": "Revise",
                "text": "x",
                "purpose": "revise_plan",
                "subject": {"plan_id": "nope"},
            },
        ),
        404,
        "not_found",
        "No plan with id nope",
    )


def test_plans_are_listed_by_kind_current_and_past_and_their_reviews_come_due(
    circle: Circle, treasurer: str, clock: Clock, tmp_path: Path
) -> None:
    c = circle
    spring = c.ok("ben", "/plans", budget(treasurer, review_date="2026-04-15"), 201)
    summer = c.ok(
        "ben",
        "/plans",
        budget(treasurer, title="Summer", period_start="2026-06-01", period_end="2026-08-31"),
        201,
    )

    # In June the spring budget is past, the summer one current; its review came due.
    clock.advance(days=100)
    due = c.ok("cleo", "/decisions/update-due-dates")
    assert due["plans_review_due"] == [spring["id"]]
    assert [p["title"] for p in c.get("gus", "/plans?when=past").json()["items"]] == ["Spring"]
    assert [p["id"] for p in c.get("gus", "/plans?when=current&kind=budget").json()["items"]] == [
        summer["id"]
    ]
    assert c.get("gus", "/plans?kind=plan").json()["items"] == []
    page = c.get("gus", "/plans?limit=1").json()
    assert len(page["items"]) == 1 and page["total"] == 2
    assert c.get("gus", f"/plans/{spring['id']}").json()["review_due"]

    # The logbook tells it.
    total = c.get("eli", "/logbook?limit=1").json()["total"]
    lines = [
        line["text"]
        for offset in range(0, total, 100)
        for line in c.get("eli", f"/logbook?limit=100&offset={offset}").json()["items"]
    ]
    assert (
        "The budget 'Spring' was made by Ben as treasurer, for 2026-03-01 to 2026-05-31 "
        "(review by 2026-04-15)" in lines
    )
    assert "Review due: 'Spring'" in lines

    # The export carries every plan, current and past.
    archive = tmp_path / "kitchen.archive"
    export_archive(c.node, archive)
    members = msgspec.msgpack.decode(archive.read_bytes()[:-32], type=dict[str, bytes])
    exported = json.loads(members["plans.json"])
    assert [p["title"] for p in exported] == ["Spring", "Summer"]
    assert exported[0]["review_due"] is True
