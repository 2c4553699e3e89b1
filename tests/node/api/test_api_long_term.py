"""Long-term decisions through the member API: the kitchen circle is part of the co-op, whose
circle its rules name for long-term decisions. A proposal shows the circle it belongs to; the
round waits for that circle's answer; a circle the rules name but nobody knows is refused."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from domain.values import Purpose
from node.app.node import CircleNode
from node.app.persistence import open_node
from node.demo.scripted import select
from node.settings import Settings
from tests.conftest import Clock
from tests.node.api.world import Circle, assert_problem
from tests.node.circles import consent_to, make_active, make_member, sync


@pytest.fixture
def coop(tmp_path: Path, clock: Clock, circle: Circle) -> Iterator[CircleNode]:
    """The co-op's node; the kitchen (served) is part of it, and names it in its rules."""
    node = open_node(Settings(data_dir=tmp_path / "coop"), clock)
    node.circle.found_circle(name="Co-op", aim="Care", domain="Care", founder_name="Olu")
    make_active(node)
    make_member({"coop": node, "kitchen": circle.node}, "coop", "kitchen")
    consent_to(circle.node, Purpose.CHANGE_RULES, {"long_term_circle": node.feed.node_id})
    yield node
    node.close()


def to_round(c: Circle, body: dict[str, object]) -> str:
    pid = str(c.ok("cleo", "/proposals", body, 201)["id"])
    c.ok("cleo", f"/proposals/{pid}/present")
    c.ok("ben", f"/proposals/{pid}/reaction-round")
    c.ok("ben", f"/processes/{pid}/consent-round")
    for who in ("ada", "ben", "cleo"):
        c.ok(who, f"/processes/{pid}/consents", {}, 201)
    return pid


def test_a_long_term_proposal_waits_for_the_co_ops_consent(
    circle: Circle, coop: CircleNode
) -> None:
    c, ref = circle, coop.feed.node_id

    # Cleo's year-long policy names no other circle: it belongs to the co-op all the same.
    pid = to_round(c, {"title": "Lease the hall", "text": "For a year"})
    shown = c.get("eli", f"/proposals/{pid}").json()
    assert shown["long_term_circle"] == ref and shown["asked_circles"] == [ref]

    # Everyone here consented; the round waits for the co-op's answer.
    assert_problem(
        c.post("ben", f"/processes/{pid}/close"),
        409,
        "wrong_stage",
        f"This is a long-term decision: it belongs to the circle {ref}, whose consent it "
        "needs; wait for its answer (its own consent process) before closing",
    )

    # The co-op consents by its own process; the answer comes back; the round closes.
    sync({"coop": coop, "kitchen": c.node})
    consent_to(
        coop,
        Purpose.ANSWER_CONSENT_REQUEST,
        {"circle": c.node.feed.node_id, "request": pid, "round": 1, "consents": True},
    )
    sync({"coop": coop, "kitchen": c.node})
    assert c.ok("ben", f"/processes/{pid}/close")["outcome"] == "consented"


def test_a_short_proposal_is_the_circles_own(circle: Circle, coop: CircleNode) -> None:
    c = circle
    shown = c.ok(
        "cleo", "/proposals", {"title": "Try", "text": "A month", "review_date": "2026-04-01"}, 201
    )
    assert shown["long_term_circle"] is None and shown["asked_circles"] == []


def test_a_long_term_circle_nobody_knows_is_refused(circle: Circle) -> None:
    c = circle
    consent_to(c.node, Purpose.CHANGE_RULES, {"long_term_circle": "cn1nobody"})
    assert_problem(
        c.post("cleo", "/proposals", {"title": "Lease the hall", "text": "For a year"}),
        409,
        "wrong_stage",
        "This is a long-term decision, which belongs to the circle cn1nobody (named by the "
        "rules); this circle has no relationship with it to ask for its consent",
    )


# Every way of drafting reads the same: a member's proposal, a challenge, an upheld appeal.

ORGANISER = "care-commons-organiser"


def everyday_decision(c: Circle) -> str:
    """Cleo's everyday decision about the rota, with the care commons organiser's hat."""
    c.node.hats.define_hat(
        c.ids["ada"], "Care commons organiser", "Keeps the rota", [], ["rota", "supplies"], 6
    )
    select(c.node, ORGANISER, c.ids["cleo"])
    body = {"hat_id": ORGANISER, "area": "rota", "title": "Sunday pairs", "text": "Two a visit"}
    return str(c.ok("cleo", "/decisions", body, 201)["id"])


def upheld_appeal(c: Circle, decision: str) -> dict[str, object]:
    """Eli, Ada and Ben appeal the decision; the circle upholds it: the amendment it opens.
    The facilitator (Ben) and the secretary (Ada) both appeal, so Cleo, a full participant who
    does not, records the circle's answer."""
    appeal = c.ok("eli", "/appeals", {"decision_id": decision, "grounds": "Late"}, 201)
    for who in ("ada", "ben"):
        c.ok(who, f"/appeals/{appeal['id']}/join", {})
    answer = {"upheld": True, "reason": "Families come first"}
    upheld = c.ok("cleo", f"/appeals/{appeal['id']}/circle-answer", answer)
    return dict(c.get("ada", f"/proposals/{upheld['proposal_id']}").json())


def test_an_upheld_appeal_and_a_challenge_of_an_everyday_decision_stay_everyday(
    circle: Circle, coop: CircleNode
) -> None:
    # Given: Cleo's everyday decision, in a circle whose rules name the co-op.
    c = circle
    decision = everyday_decision(c)

    # When: Ada challenges it, and three people's appeal against it is upheld.
    challenge = c.ok("ada", f"/decisions/{decision}/challenge", {"text": "One is enough"}, 201)
    challenged = c.get("ada", f"/proposals/{challenge['proposal_id']}").json()
    amendment = upheld_appeal(c, decision)

    # Then: both proposals to amend a hat's decision are the circle's own; neither asks the co-op.
    for proposal in (challenged, amendment):
        assert proposal["purpose"] == "amend_decision"
        assert proposal["long_term_circle"] is None and proposal["asked_circles"] == []


def test_a_top_circle_naming_itself_does_not_ask_itself_for_an_upheld_appeal(
    circle: Circle,
) -> None:
    # Given: the circle is the co-op's top circle, and its rules name itself.
    c = circle
    consent_to(c.node, Purpose.CHANGE_RULES, {"long_term_circle": c.node.feed.node_id})
    decision = everyday_decision(c)

    # When: an appeal against a decision of its own is upheld.
    amendment = upheld_appeal(c, decision)

    # Then: the amendment is the circle's own to decide (its round can close).
    assert amendment["long_term_circle"] is None and amendment["asked_circles"] == []


# Budgets and plans: long-lasting ones are long-term decisions.

YEAR = {"period_start": "2026-03-01", "period_end": "2027-02-28"}
QUARTER = {"period_start": "2026-03-01", "period_end": "2026-05-31"}


def treasurer(c: Circle) -> str:
    """Ben wears the treasurer hat, whose domain is the budget."""
    hat = c.node.hats.define_hat(c.ids["ada"], "Treasurer", "Keeps the accounts", [], ["budget"])
    select(c.node, hat, c.ids["ben"])
    return hat


def test_a_budget_by_consent_for_six_months_or_more_asks_the_co_op(
    circle: Circle, coop: CircleNode
) -> None:
    c, ref = circle, coop.feed.node_id
    hat = treasurer(c)
    spring = c.ok(
        "ben",
        "/plans",
        {"hat_id": hat, "kind": "budget", "title": "Spring", "text": "Food", **QUARTER},
        201,
    )

    def draft(purpose: str, subject: dict[str, object]) -> dict[str, object]:
        body = {"title": "Budget", "text": "Food", "purpose": purpose, "subject": subject}
        return dict(c.ok("cleo", "/proposals", body, 201))

    # A year's budget adopted by consent belongs to the co-op; a quarter's is the circle's.
    year = draft(Purpose.ADOPT_PLAN, {"kind": "budget", **YEAR})
    assert year["long_term_circle"] == ref and year["asked_circles"] == [ref]
    assert draft(Purpose.ADOPT_PLAN, {"kind": "budget", **QUARTER})["long_term_circle"] is None

    # Revising the spring budget to run to September is long-term; keeping its period is not.
    longer = draft(Purpose.REVISE_PLAN, {"plan_id": spring["id"], "period_end": "2026-09-01"})
    assert longer["long_term_circle"] == ref
    same = draft(Purpose.REVISE_PLAN, {"plan_id": spring["id"], "amount": "900", "currency": "GBP"})
    assert same["long_term_circle"] is None


def test_the_treasurer_makes_a_long_lasting_budget_only_through_the_circle(
    circle: Circle, coop: CircleNode
) -> None:
    c, ref = circle, coop.feed.node_id
    hat = treasurer(c)
    body = {"hat_id": hat, "kind": "budget", "title": "Budget", "text": "Food"}
    refusal = (
        "A budget whose period ends six months or more from today is a long-term decision, "
        f"which belongs to the circle {ref}: bring a proposal to the circle, which asks it"
    )

    # A year's budget by the hat alone is refused, with what to do instead.
    assert_problem(c.post("ben", "/plans", {**body, **YEAR}), 403, "not_permitted", refusal)

    # A quarter's stays with the hat; revising it to last into September is refused.
    spring = c.ok("ben", "/plans", {**body, **QUARTER}, 201)
    assert_problem(
        c.post(
            "ben",
            f"/plans/{spring['id']}/revise",
            {"hat_id": hat, "text": "Longer", "period_end": "2026-09-01"},
        ),
        403,
        "not_permitted",
        refusal,
    )
    assert c.get("ada", f"/plans/{spring['id']}").json()["period_end"] == "2026-05-31"


def test_a_circle_naming_no_other_long_term_circle_lets_the_hat_plan_a_year(
    circle: Circle,
) -> None:
    # The co-op's top circle names itself: its treasurer's year budget is the hat's.
    c = circle
    consent_to(c.node, Purpose.CHANGE_RULES, {"long_term_circle": c.node.feed.node_id})
    hat = treasurer(c)
    body = {"hat_id": hat, "kind": "budget", "title": "Budget", "text": "Food", **YEAR}
    assert c.ok("ben", "/plans", body, 201)["period_end"] == YEAR["period_end"]
