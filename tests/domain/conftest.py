"""Builders for the domain tests: a kitchen circle with its people and hats, and helpers.

The cast (person ids are plain strings, as in the record):

    ada   full participant, founder, wears the secretary hat (the logbook keeper)
    ben   full participant, wears the facilitator hat
    cleo  full participant, wears the care commons organiser hat (domain: rota, supplies)
    dan   full participant, no hat
    eli   learning participant
    gus   guest

The clock stands still at NOW (Monday 2 March 2026, 10:00 UTC); commands get it explicitly.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from copy import deepcopy
from datetime import UTC, date, datetime
from typing import Any

import pytest
from eventsourcing.domain import Aggregate

from domain.circle import Circle
from domain.hats import FACILITATOR, SECRETARY
from domain.proposal import Proposal
from domain.records import GoverningRules
from domain.relationships import ADDED, Relationship
from domain.selection import HatSelection
from domain.values import DecisionMethod, Purpose, Stage

NOW = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
FOUNDED = date(2026, 1, 5)
ORGANISER = "care-commons-organiser"

# Review dates of the terms the circle's hats are worn for.
FACILITATOR_REVIEW = date(2026, 4, 1)
SECRETARY_REVIEW = date(2026, 7, 5)
ORGANISER_REVIEW = date(2026, 12, 31)

FULL = ("ada", "ben", "cleo", "dan")


@pytest.fixture
def now() -> datetime:
    return NOW


@pytest.fixture
def today() -> date:
    return NOW.date()


def _found(rules: GoverningRules | None, parent: str | None) -> Circle:
    circle = Circle.found(
        name="Kitchen circle",
        aim="Feed the neighbourhood",
        domain="The community kitchen",
        founder_id="ada",
        today=FOUNDED,
        parent=parent,
        rules=rules,
    )
    for person_id in ("ben", "cleo", "dan"):
        circle.welcome_founder("ada", person_id, "full", FOUNDED)
    circle.welcome_founder("ada", "eli", "learning", FOUNDED)
    circle.welcome_founder("ada", "gus", "guest", FOUNDED)
    return circle


CircleBuilder = Callable[..., Circle]


@pytest.fixture
def found_circle(form_aim: Callable[[Circle], Proposal]) -> CircleBuilder:
    """Build the kitchen circle: `active=False` leaves it forming, without hats worn and its
    aim not yet formed."""

    def build(
        *,
        rules: GoverningRules | None = None,
        parent: str | None = "neighbourhood-co-op",
        active: bool = True,
    ) -> Circle:
        circle = _found(rules, parent)
        if active:
            form_aim(circle)
            circle.put_on_hat(SECRETARY, "ada", FOUNDED, SECRETARY_REVIEW)
            circle.put_on_hat(FACILITATOR, "ben", FOUNDED, FACILITATOR_REVIEW)
            circle.define_hat(
                "ada",
                "Care commons organiser",
                "Keeps the care rota and the supplies going",
                ["Keep the rota", "Order supplies"],
                ["rota", "supplies"],
                12,
            )
            circle.put_on_hat(ORGANISER, "cleo", FOUNDED, ORGANISER_REVIEW)
            circle.activate("ada", FOUNDED)
        circle.collect_events()
        return circle

    return build


@pytest.fixture
def circle(found_circle: CircleBuilder) -> Circle:
    """The active kitchen circle, hats worn, consent by default, absentees cannot object."""
    return found_circle()


@pytest.fixture
def forming_circle(found_circle: CircleBuilder) -> Circle:
    """The kitchen circle while it is forming: its people are there, no hat is worn yet."""
    return found_circle(active=False)


MISSION_LINK = "Meals are care: the co-op's mission of good care at home, fed"


@pytest.fixture
def form_aim(
    consented: ProposalBuilder, to_consent_round: ProposalBuilder
) -> Callable[..., Proposal]:
    """`form_aim(circle)`: the forming circle forms its aim together, by a consented proposal
    to change its aim (the founder's, kept) and say how it links to the co-op's mission (by
    everyone's vote, where its rules decide by formal vote)."""

    def run(circle: Circle, aim: str = "Feed the neighbourhood", **subject: Any) -> Proposal:
        draft: dict[str, Any] = {
            "title": "Our aim, formed together",
            "text": "We revisited the aim we were founded with.",
            "purpose": Purpose.CHANGE_AIM,
            "subject": {"aim": aim, "mission_link": MISSION_LINK, **subject},
        }
        if circle.rules.method_for(None) == DecisionMethod.FORMAL_VOTE:
            proposal = to_consent_round(circle, **draft)
            proposal.record_vote(circle, "ada", len(circle.full_participants()), 0, 0)
        else:
            proposal = consented(circle, **draft)
        circle.revise_aim(proposal)
        return proposal

    return run


def facilitator_of(circle: Circle) -> str:
    """Who runs the process: the facilitator, or the founder while nobody wears that hat."""
    wearers = circle.wearers(FACILITATOR)
    return wearers[0] if wearers else "ada"


ProposalBuilder = Callable[..., Proposal]


@pytest.fixture
def to_consent_round() -> ProposalBuilder:
    """Draft a proposal (by Cleo unless told) and take it, unquestioned, to its consent round."""

    def run(
        circle: Circle,
        *,
        by: str = "cleo",
        title: str = "Share the kitchen on Sundays",
        text: str = "Open the kitchen to the youth club on Sunday afternoons.",
        now: datetime = NOW,
        **draft_args: Any,
    ) -> Proposal:
        proposal = Proposal.draft(circle, by, title, text, now, **draft_args)
        proposal.present(circle, by)
        proposal.open_reactions(circle, facilitator_of(circle))
        proposal.open_consent_round(circle, facilitator_of(circle), now)
        return proposal

    return run


@pytest.fixture
def consented(to_consent_round: ProposalBuilder) -> ProposalBuilder:
    """A proposal every full participant consented to, its round closed."""

    def run(circle: Circle, *, now: datetime = NOW, **args: Any) -> Proposal:
        proposal = to_consent_round(circle, now=now, **args)
        for person_id in circle.full_participants():
            proposal.consent(circle, person_id, now)
        assert proposal.close_consent_round(circle, facilitator_of(circle), now) == Stage.CONSENTED
        return proposal

    return run


@pytest.fixture
def selection_in_round() -> Callable[..., HatSelection]:
    """A selection for `hat_id` with `nominees` nominated by Ada, Ben, Cleo in turn, and the
    first nominee proposed as candidate by the facilitator."""

    def run(circle: Circle, hat_id: str, nominees: list[str], now: datetime = NOW) -> HatSelection:
        host = facilitator_of(circle)
        selection = HatSelection.open(circle, host, hat_id, now)
        for nominator, nominee in zip(("ada", "ben", "cleo", "dan"), nominees, strict=False):
            selection.nominate(circle, nominator, nominee, f"{nominee} would do it well")
        selection.open_change_round(circle, host)
        selection.propose_candidate(circle, host, nominees[0], "Most nominated")
        return selection

    return run


def _state(aggregate: Aggregate) -> dict[str, Any]:
    return deepcopy({k: v for k, v in vars(aggregate).items() if k != "_pending_events"})


@pytest.fixture
def unchanged() -> Callable[..., AbstractContextManager[None]]:
    """`with unchanged(a, b), pytest.raises(...)`: the refused command changed nothing.

    Pending events are collected first, so afterwards there must be none, the versions must be
    the same and every attribute must be equal to what it was.
    """

    @contextmanager
    def check(*aggregates: Aggregate) -> Iterator[None]:
        for aggregate in aggregates:
            aggregate.collect_events()
        before = [(aggregate.version, _state(aggregate)) for aggregate in aggregates]
        yield
        for aggregate, (version, state) in zip(aggregates, before, strict=True):
            name = type(aggregate).__name__
            assert aggregate.collect_events() == [], f"the refused command changed the {name}"
            assert aggregate.version == version
            assert _state(aggregate) == state

    return check


# Relationships between circles: the kitchen circle and the circles it knows, each referred to
# by an opaque reference (their node id). Every step that binds a circle is a consent decision.


@pytest.fixture
def other_circle(found_circle: CircleBuilder) -> Circle:
    """A second circle with the same cast, on another node: the co-op's own circle, say.

    Only its identity differs from the kitchen circle's, which is all a relationship needs.
    """
    return found_circle(parent=None)


@pytest.fixture
def decide(consented: ProposalBuilder) -> Callable[..., Proposal]:
    """`decide(circle, purpose, **subject)`: a consented proposal of `purpose` whose subject is
    the keyword arguments; `text` is the proposal's text (an offer's words, say)."""

    def run(
        circle: Circle,
        purpose: str,
        /,
        *,
        text: str = "As the circle agreed in its meeting.",
        **subject: Any,
    ) -> Proposal:
        title = f"We {purpose.replace('_', ' ')}"
        return consented(circle, title=title, text=text, purpose=purpose, subject=subject)

    return run


@pytest.fixture
def meet() -> Callable[..., Relationship]:
    """`meet(circle, other)`: the circle's new relationship with the circle `other`, its
    events collected."""

    def run(circle: Circle, other: str, name: str = "", how: str = ADDED) -> Relationship:
        relationship = Relationship.meet(circle, other, name or f"The {other} circle", how)
        relationship.collect_events()
        return relationship

    return run


@pytest.fixture
def dissolve(decide: Callable[..., Proposal]) -> Callable[[Circle], None]:
    """Dissolve a circle by consent (take any proposal it needs first: none can follow)."""

    def run(circle: Circle) -> None:
        circle.dissolve(decide(circle, Purpose.DISSOLVE))
        circle.collect_events()

    return run


@pytest.fixture
def event_names() -> Callable[[Aggregate], list[str]]:
    """`event_names(aggregate)`: the names of its pending events, which are collected."""

    def run(aggregate: Aggregate) -> list[str]:
        return [type(event).__name__ for event in aggregate.collect_events()]

    return run
