"""Hats: the four every circle starts with, and the rules for defining and wearing one.

Rules over hat records and terms; the circle applies them to its own hats.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping, Sequence
from datetime import date, timedelta
from typing import Protocol
from uuid import UUID

from domain.errors import InvalidRequest, NotFound, NotPermitted, WrongStage
from domain.inputs import choice, required_text
from domain.records import HatDefinition, HatTerm, Participant
from domain.values import HatKind, Level, Stage

FACILITATOR, SECRETARY, LEADER, DELEGATE = "facilitator", "secretary", "leader", "delegate"
LINK_HATS = frozenset({LEADER, DELEGATE})

STANDARD_HATS = (
    HatDefinition(
        FACILITATOR,
        "Facilitator",
        "Hosts meetings and the consent process",
        ["Plan and host meetings", "Run rounds", "Escalate a deadlock"],
        ["meetings", "process"],
        12,
        HatKind.PROCESS,
    ),
    HatDefinition(
        SECRETARY,
        "Secretary",
        "Keeps the logbook: the circle's records",
        [
            "Record agreements, selections and minutes",
            "Keep review dates",
            "Record who joins and leaves",
        ],
        ["logbook", "records", "membership"],
        12,
        HatKind.PROCESS,
    ),
    HatDefinition(
        LEADER,
        "Leader",
        "Links the broader circle to this one",
        ["Carry the broader circle's view", "Keep priorities in view"],
        ["priorities"],
        12,
        HatKind.PROCESS,
    ),
    HatDefinition(
        DELEGATE,
        "Delegate",
        "Carries this circle's voice to the broader circle",
        ["Take part in the broader circle's decisions", "Report back"],
        ["representation"],
        12,
        HatKind.PROCESS,
    ),
)


class HatChoice(Protocol):
    """What a circle reads of a selection for one of its hats (a `HatSelection`). The circle
    takes any object that has these, so that it need not know the selection process (which
    knows the circle)."""

    @property
    def id(self) -> UUID: ...

    @property
    def circle_id(self) -> UUID: ...

    @property
    def hat_id(self) -> str: ...

    @property
    def stage(self) -> str: ...

    @property
    def candidate(self) -> str | None: ...

    @property
    def review_date(self) -> date | None: ...


def find_hat(hats: Mapping[str, HatDefinition], hat_id: str) -> HatDefinition:
    try:
        return hats[hat_id]
    except KeyError:
        raise NotFound(f"The circle has no hat {hat_id!r}") from None


def find_term(
    hats: Mapping[str, HatDefinition], terms: Sequence[HatTerm], hat_id: str, person_id: str
) -> HatTerm:
    for term in terms:
        if term.hat_id == hat_id and term.person_id == person_id:
            return term
    raise NotFound(f"This person does not wear the {find_hat(hats, hat_id).name.lower()} hat")


def wearers(terms: Sequence[HatTerm], hat_id: str) -> list[str]:
    return [term.person_id for term in terms if term.hat_id == hat_id]


def wears(terms: Sequence[HatTerm], person_id: str, hat_id: str) -> bool:
    return any(t.hat_id == hat_id and t.person_id == person_id for t in terms)


def worn_by(terms: Sequence[HatTerm], person_id: str) -> list[str]:
    return [term.hat_id for term in terms if term.person_id == person_id]


def terms_ending(terms: Sequence[HatTerm], today: date, within_days: int) -> list[HatTerm]:
    """The terms whose review date has come or comes within `within_days`, soonest first."""
    if not 0 <= within_days <= 3660:
        raise InvalidRequest("Look ahead between 0 and 3660 days")
    horizon = today + timedelta(days=within_days)
    return sorted((t for t in terms if t.review_date <= horizon), key=lambda t: t.review_date)


def slug(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", name.casefold()).strip("-")


def new_hat(
    hats: Mapping[str, HatDefinition],
    name: str,
    purpose: str,
    accountabilities: list[str],
    domain: list[str],
    default_term_months: int,
    kind: str,
) -> HatDefinition:
    """A hat for a circle that has `hats`, or a refusal saying what it lacks."""
    name = required_text(name, "A hat needs a name")
    hat_id = slug(name)
    if not hat_id:
        raise InvalidRequest("A hat's name needs letters or digits")
    if hat_id in hats:
        raise InvalidRequest(f"The circle already has a hat called {hats[hat_id].name}")
    kind = choice(HatKind, kind, "hat kind")
    areas = [area.strip() for area in domain if area.strip()]
    if kind == HatKind.OPERATIONAL and not areas:
        raise InvalidRequest(
            "An operational hat needs a domain: the areas its wearer may decide in"
        )
    if not 1 <= default_term_months <= 60:
        raise InvalidRequest("A hat's term is between 1 and 60 months")
    return HatDefinition(
        hat_id=hat_id,
        name=name,
        purpose=required_text(purpose, "A hat needs a purpose"),
        accountabilities=[item.strip() for item in accountabilities if item.strip()],
        domain=areas,
        default_term_months=default_term_months,
        kind=kind,
    )


def check_wearer(
    hat: HatDefinition, participant: Participant, worn: Collection[str], *, again: bool
) -> None:
    """Refuse a participant who may not wear `hat`, given the hats they wear; `again` allows
    its current wearer."""
    if participant.level == Level.GUEST:
        raise NotPermitted("Guests do not wear hats")
    if hat.hat_id in LINK_HATS and participant.level != Level.FULL:
        raise NotPermitted(f"The {hat.name.lower()} must be a full participant")
    if hat.hat_id in worn and not again:
        raise InvalidRequest(f"This person already wears the {hat.name.lower()} hat")
    other = (LINK_HATS - {hat.hat_id}) if hat.hat_id in LINK_HATS else set()
    if any(other_hat in worn for other_hat in other):
        raise NotPermitted("The leader and the delegate of a circle are never the same person")


def check_level_for(worn: Collection[str], level: str) -> None:
    """Refuse a participation level that the hats someone wears do not allow."""
    if level == Level.GUEST and worn:
        raise NotPermitted("Guests do not wear hats; take off this person's hats first")
    if level != Level.FULL:
        for hat_id in LINK_HATS:
            if hat_id in worn:
                raise NotPermitted(
                    f"The {hat_id} must be a full participant; take off that hat first"
                )


def chosen(selection: HatChoice, circle_id: UUID) -> tuple[str, date]:
    """The candidate a consented selection chose for the circle, and their review date."""
    if selection.circle_id != circle_id:
        raise InvalidRequest("That selection belongs to another circle")
    if selection.stage != Stage.CONSENTED or selection.candidate is None:
        raise WrongStage("Only a consented selection gives a hat")
    assert selection.review_date is not None
    return selection.candidate, selection.review_date
