"""What the circle's logbook says of appeals: lodged and joined, heard by the circle, taken to
its care and counsel group or its broader circle, answered; and appeals other circles took to
this one. Each takes the event and the logbook's context (`name`, `circle`, `titles`)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from domain.appeal import HEARD_BY, Hearing, Role
from node.app.event_classes import Appeal


def _appellant(c: Any, person: str) -> str:
    """A person of this circle by name; someone of a linked circle, by their circle."""
    if "/" in person:
        return f"someone of {c.circle(person.rsplit('/', 1)[0])}"
    return str(c.name(person))


def _about(c: Any, e: Any) -> str:
    return str(c.titles.get(str(e.originator_id), "a decision"))


def _lodged(e: Any, c: Any) -> str:
    c.titles[str(e.originator_id)] = repr(e.title) if e.title else "a decision"
    if e.role == Role.REFERRED:
        return (
            f"{c.circle(e.origin)} took its appeal against {e.title!r} to this circle, as "
            f"{HEARD_BY[Hearing(e.hearing)]} ({e.appellant_count} appellants): {e.grounds}"
        )
    if e.role == Role.SENT:
        return (
            f"{_appellant(c, e.appellant)} appealed a decision of {c.circle(e.origin)}: {e.grounds}"
        )
    return f"{_appellant(c, e.appellant)} appealed {e.title!r}: {e.grounds}"


def _answer(upheld: bool) -> str:
    return "upheld" if upheld else "did not uphold"


# Who did it: an appellant who lodged or joined (a person of a linked circle by their
# reference); an answer that came from another circle names no one (its `by` is that circle).
APPEAL_ACTORS: dict[type[Any], Callable[[Any], str | None]] = {
    Appeal.Lodged: lambda e: e.appellant,
    Appeal.Joined: lambda e: e.person,
    Appeal.AnswerReceived: lambda e: None,
}

APPEAL_EVENTS: dict[type[Any], Callable[[Any, Any], str]] = {
    Appeal.Lodged: _lodged,
    Appeal.Joined: lambda e, c: (
        f"{_appellant(c, e.person)} joined the appeal against {_about(c, e)}"
        + (f": {e.grounds}" if e.grounds else "")
    ),
    Appeal.CircleAnswered: lambda e, c: (
        f"The circle {_answer(e.upheld)} the appeal against {_about(c, e)}: {e.reason}"
        + (" (a proposal to change it was opened)" if e.proposal_id else "")
    ),
    Appeal.TakenFurther: lambda e, c: (
        f"{_appellant(c, e.by)} took the appeal against {_about(c, e)} to {c.circle(e.to)}, "
        f"{HEARD_BY[Hearing(e.hearing)]}"
    ),
    Appeal.AnswerReceived: lambda e, c: (
        f"{c.circle(e.by)}, {HEARD_BY[Hearing(e.hearing)]}, {_answer(e.upheld)} the appeal "
        f"against {_about(c, e)}: {e.reason}"
    ),
    Appeal.ReferralAnswered: lambda e, c: (
        f"This circle {_answer(e.upheld)} the appeal against {_about(c, e)}: {e.reason}"
    ),
    Appeal.AmendmentOpened: lambda e, c: (
        f"The upheld appeal against {_about(c, e)} opened a proposal to change it"
    ),
}
