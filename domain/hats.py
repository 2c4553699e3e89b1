"""Hats: the four every circle starts with, and what a circle reads of a hat selection."""

from __future__ import annotations

from datetime import date
from typing import Protocol
from uuid import UUID

from domain.records import HatDefinition
from domain.values import HatKind

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
