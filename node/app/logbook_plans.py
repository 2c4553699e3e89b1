"""What the circle's logbook says of its budget and plans: made (by consent or by a hat),
revised, and their reviews coming due."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from node.app.event_classes import Plan


def _amount(e: Any) -> str:
    return f", {e.amount} {e.currency}" if e.amount is not None else ""


def _made(e: Any, c: Any) -> str:
    c.titles[str(e.originator_id)] = e.title
    how = "by consent" if e.proposal_id else f"by {c.name(e.made_by)} as {c.hat(e.hat_id)}"
    return (
        f"The {e.kind} {e.title!r} was made {how}, for {e.period_start} to {e.period_end}"
        f"{_amount(e)} (review by {e.review_date})"
    )


def _revised(e: Any, c: Any) -> str:
    how = "by consent" if e.proposal_id else f"by {c.name(e.by)} as {c.hat(e.hat_id)}"
    return (
        f"{c.title(e.originator_id)!r} was revised {how}: {e.period_start} to {e.period_end}"
        f"{_amount(e)} (review by {e.review_date})"
    )


# Each takes the event and the logbook's context (names, hats and titles).
PLAN_EVENTS: dict[type[Any], Callable[[Any, Any], str]] = {
    Plan.Made: _made,
    Plan.Revised: _revised,
    Plan.ReviewCameDue: lambda e, c: f"Review due: {c.title(e.originator_id)!r}",
}
