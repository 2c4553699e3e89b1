"""Small records held inside aggregates: participants, hats, answers, objections.

Plain dataclasses of plain values, so that snapshots can store them. People are referred to
by their person id (a string); names live in `PersonalDetails`, apart from the record.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from domain.values import AbsenteePolicy, DecisionMethod

_PLAIN = (str, int, float, bool, type(None), date)


def _copied(value: Any, memo: dict[int, Any]) -> Any:
    kind = type(value)
    if kind in _PLAIN:
        return value
    if kind is list:
        return [_copied(item, memo) for item in value]
    if kind is dict:
        return {key: _copied(item, memo) for key, item in value.items()}
    return copy.deepcopy(value, memo)


class Record:
    """A record's deep copy, field by field (the generic one goes through `__reduce_ex__`
    for each record, and commands copy aggregates holding hundreds of them)."""

    def __deepcopy__(self, memo: dict[int, Any]) -> Any:
        new = object.__new__(type(self))
        new.__dict__.update({name: _copied(v, memo) for name, v in self.__dict__.items()})
        return new


@dataclass
class GoverningRules(Record):
    """How the circle decides: consent by default, another method for named topics."""

    decision_method: str = DecisionMethod.CONSENT
    absentee_policy: str = AbsenteePolicy.CANNOT_OBJECT
    methods_by_topic: dict[str, str] = field(default_factory=dict)

    def method_for(self, topic: str | None) -> str:
        if topic is not None and topic in self.methods_by_topic:
            return self.methods_by_topic[topic]
        return self.decision_method


@dataclass
class Participant(Record):
    person_id: str
    level: str
    status: str
    since: date
    note_of_appreciation: str | None = None


@dataclass
class HatDefinition(Record):
    hat_id: str
    name: str
    purpose: str
    accountabilities: list[str]
    domain: list[str]
    default_term_months: int
    kind: str

    def covers(self, area: str) -> bool:
        """Whether an everyday decision about `area` falls inside this hat's domain."""
        wanted = area.strip().casefold()
        return any(wanted == item.strip().casefold() for item in self.domain)


@dataclass
class HatTerm(Record):
    """Someone wearing a hat, from a start date until its review date."""

    hat_id: str
    person_id: str
    started: date
    review_date: date
    selection_id: str | None = None


@dataclass
class LegalEntity(Record):
    registered_name: str
    number: str
    registry: str


@dataclass
class Question(Record):
    number: int
    person_id: str
    text: str
    answer: str | None = None


@dataclass
class Reaction(Record):
    person_id: str
    text: str


@dataclass
class Answer(Record):
    """A full participant's answer in a consent round."""

    person_id: str
    consents: bool
    text: str = ""  # the objection's argument, or a concern that does not block
    in_advance: bool = False


@dataclass
class Objection(Record):
    number: int
    person_id: str
    argument: str
    round: int
    resolved_by: int | None = None  # the integration that resolved it
    withdrawn: bool = False

    @property
    def is_open(self) -> bool:
        return self.resolved_by is None and not self.withdrawn


@dataclass
class IntegrationRecord(Record):
    number: int
    how: str
    text: str
    objections: list[int]
    by: str


@dataclass
class RoundRecord(Record):
    """The outcome of one closed consent round."""

    number: int
    consents: list[str]
    objections: list[int]
    concerns: list[str]
    missing: list[str]
    outcome: str


@dataclass
class Nomination(Record):
    nominator: str
    nominee: str
    reason: str
    changed: bool = False


@dataclass
class VoteResult(Record):
    in_favour: int
    against: int
    abstentions: int


@dataclass
class AgendaItem(Record):
    title: str
    outcome: str | None = None
    reference: str | None = None
