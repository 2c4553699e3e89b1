"""The circle's time zone: dates fall due at the circle's own midnight, not at UTC's.

Cast: the kitchen circle of tests/node/test_application.py (Ada secretary, Ben facilitator,
Cleo full, Eli learning), whose rules name Pacific/Auckland (UTC+13 in March) or
America/Los_Angeles (UTC-8 in early March) as its time zone. The clock starts at
2026-03-01 09:00 UTC.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from domain.errors import InvalidRequest
from domain.values import Purpose
from node.app.node import CircleNode
from tests.conftest import Clock
from tests.node.circles import consent_to
from tests.node.test_application import found

pytestmark = pytest.mark.parametrize("open_store", ["memory"], indirect=True)


def _in_zone(node: CircleNode, zone: str) -> dict[str, str]:
    p = found(node)
    consent_to(node, Purpose.CHANGE_RULES, {"time_zone": zone}, by=p["ada"])
    return p


def _policy(node: CircleNode, p: dict[str, str], review_date: date) -> str:
    """A policy in force, with its review date; returns the decision's id."""
    proposal = node.proposals.draft_proposal(
        p["ada"], "Sunday cover", "Two on Sundays", review_date=review_date
    )
    node.proposals.present(p["ada"], proposal)
    node.proposals.open_reactions(p["ben"], proposal)
    node.consent.open_consent_round(p["ben"], proposal)
    for person in ("ada", "ben", "cleo"):
        node.consent.consent(p[person], proposal)
    node.consent.close_consent_round(p["ben"], proposal)
    (decision,) = [d for d in node.records.list_decisions() if d.title == "Sunday cover"]
    return str(decision.id)


def test_a_review_falls_due_at_midnight_in_auckland(node: CircleNode, clock: Clock) -> None:
    # Given: a circle in Auckland and a policy to review on 3 March.
    p = _in_zone(node, "Pacific/Auckland")
    decision = _policy(node, p, date(2026, 3, 3))
    # When: it is 23:30 on 2 March in Auckland (10:30 UTC): nothing is due yet.
    clock.now = datetime(2026, 3, 2, 10, 30, tzinfo=UTC)
    assert node.records.today() == date(2026, 3, 2)
    assert node.decisions.update_due_dates()["review_due"] == []
    # When: it is 00:30 on 3 March in Auckland, though still 2 March (11:30) in UTC.
    clock.now = datetime(2026, 3, 2, 11, 30, tzinfo=UTC)
    # Then: the review has come due, on the circle's date.
    assert node.records.today() == date(2026, 3, 3)
    assert node.decisions.update_due_dates()["review_due"] == [decision]
    assert node.records.get_decision(decision).status == "review_due"


def test_a_review_waits_for_midnight_in_los_angeles(node: CircleNode, clock: Clock) -> None:
    # Given: a circle in Los Angeles and a policy to review on 3 March.
    p = _in_zone(node, "America/Los_Angeles")
    decision = _policy(node, p, date(2026, 3, 3))
    # When: it is past midnight UTC on 3 March (07:30), but 23:30 on 2 March in Los Angeles.
    clock.now = datetime(2026, 3, 3, 7, 30, tzinfo=UTC)
    # Then: nothing is due yet.
    assert node.decisions.update_due_dates()["review_due"] == []
    # And: at 00:30 in Los Angeles (08:30 UTC), the review comes due.
    clock.now = datetime(2026, 3, 3, 8, 30, tzinfo=UTC)
    assert node.decisions.update_due_dates()["review_due"] == [decision]


def test_a_review_date_must_be_after_the_circle_s_today(node: CircleNode, clock: Clock) -> None:
    # Given: a circle in Auckland, at 22:00 UTC on 1 March: 2 March, 11:00, in Auckland.
    p = _in_zone(node, "Pacific/Auckland")
    clock.now = datetime(2026, 3, 1, 22, 0, tzinfo=UTC)
    # When / Then: a review date of 2 March is today there, not in the future: refused.
    with pytest.raises(InvalidRequest, match="must be in the future"):
        node.proposals.draft_proposal(p["ada"], "Rota", "Weekly", review_date=date(2026, 3, 2))


def test_a_term_ends_at_the_circle_s_midnight(node: CircleNode, clock: Clock) -> None:
    # Given: a circle in Auckland whose facilitator's term is reviewed on a date.
    _in_zone(node, "Pacific/Auckland")
    (term,) = [t for t in node.records.get_circle().terms if t.hat_id == "facilitator"]
    # When: it is 23:00 UTC the day before the review date: the review date in Auckland.
    day = term.review_date
    clock.now = datetime(day.year, day.month, day.day, tzinfo=UTC) - timedelta(hours=1)
    # Then: the term shows as ending today (the hats' calendar reads the circle's date).
    assert node.records.today() == term.review_date
    assert term in node.hats.hat_terms_ending(within_days=0)
