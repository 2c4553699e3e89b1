"""What the circle's logbook says of appeals: lodged and joined, heard by the circle, taken to
its care and counsel group or its broader circle, answered, withdrawn; and appeals other
circles took to this one. Each takes the event and the logbook's context (`name`, `circle`,
`titles`, `node`). Once an appellant's personal data is erased, the logbook says that someone
appealed, not who or what they wrote (the appeal as it stands now tells who is erased)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from domain.appeal import HEARD_BY, Hearing, Role
from node.app.event_classes import Appeal


def _appellant(c: Any, person: str, e: Any) -> str:
    """A person of this circle by name; someone of a linked circle, by their circle; someone
    whose personal data was erased, as someone."""
    if _erased(c, e, person):
        return "Someone whose personal data was erased"
    if "/" in person:
        return f"someone of {c.circle(person.rsplit('/', 1)[0])}"
    return str(c.name(person))


def _erased(c: Any, e: Any, person: str) -> bool:
    """Whether `person` is no longer an appellant of the appeal: their data was erased."""
    appeal = c.node.appeals.get_appeal(str(e.originator_id))
    return person not in appeal.appellants


def _grounds(c: Any, e: Any, person: str, grounds: str) -> str:
    return "" if not grounds or _erased(c, e, person) else f": {grounds}"


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
            f"{_appellant(c, e.appellant, e)} appealed a decision of {c.circle(e.origin)}"
            + _grounds(c, e, e.appellant, e.grounds)
        )
    return f"{_appellant(c, e.appellant, e)} appealed {e.title!r}" + _grounds(
        c, e, e.appellant, e.grounds
    )


def _answer(upheld: bool) -> str:
    return "upheld" if upheld else "did not uphold"


# Who did it: an appellant who lodged or joined (a person of a linked circle by their
# reference); an answer that came from another circle names no one (its `by` is that circle).
APPEAL_ACTORS: dict[type[Any], Callable[[Any], str | None]] = {
    Appeal.Lodged: lambda e: e.appellant,
    Appeal.Joined: lambda e: e.person,
    Appeal.AnswerReceived: lambda e: None,
    Appeal.AppellantErased: lambda e: None,
}

APPEAL_EVENTS: dict[type[Any], Callable[[Any, Any], str]] = {
    Appeal.Lodged: _lodged,
    Appeal.Joined: lambda e, c: (
        f"{_appellant(c, e.person, e)} joined the appeal against {_about(c, e)}"
        + _grounds(c, e, e.person, e.grounds)
    ),
    Appeal.CircleAnswered: lambda e, c: (
        f"The circle {_answer(e.upheld)} the appeal against {_about(c, e)}: {e.reason}"
        + (" (a proposal to change it was opened)" if e.proposal_id else "")
    ),
    Appeal.TakenFurther: lambda e, c: (
        f"{_appellant(c, e.by, e)} took the appeal against {_about(c, e)} to {c.circle(e.to)}, "
        f"{HEARD_BY[Hearing(e.hearing)]}"
    ),
    Appeal.AnswerReceived: lambda e, c: (
        f"{c.circle(e.by)}, {HEARD_BY[Hearing(e.hearing)]}, {_answer(e.upheld)} the appeal "
        f"against {_about(c, e)}: {e.reason}"
    ),
    Appeal.ReferralAnswered: lambda e, c: (
        f"This circle {_answer(e.upheld)} the appeal against {_about(c, e)}: {e.reason}"
    ),
    Appeal.Withdrawn: lambda e, c: (
        f"{_appellant(c, e.by, e)} withdrew the appeal against {_about(c, e)}: {e.reason}"
    ),
    Appeal.AppellantErased: lambda e, c: (
        f"An appellant's personal data was erased: the appeal against {_about(c, e)} keeps "
        "that they appealed, not what they wrote"
    ),
    Appeal.AmendmentOpened: lambda e, c: (
        f"The upheld appeal against {_about(c, e)} opened a proposal to change it"
    ),
}
