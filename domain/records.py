"""Small records held inside aggregates: participants, hats, answers, objections.

Plain dataclasses of plain values, so that snapshots can store them. People are referred to
by their person id (a string); names live in `PersonalDetails`, apart from the record.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import Enum
from typing import Any
from uuid import UUID

from domain.values import AbsenteePolicy, DecisionMethod

# Half the full participants, unless the circle's rules say otherwise.
DEFAULT_QUORUM_PERCENT = 50

# Values copied as they are: immutable. Subclasses of the immutable kinds (the domain's
# StrEnums) join the set when first met.
_PLAIN: set[type] = {str, int, float, bool, type(None), date, datetime, UUID, bytes}


def _copied(value: Any, memo: dict[int, Any]) -> Any:
    kind = type(value)
    if kind in _PLAIN:
        return value
    if kind is list:
        return [_copied(item, memo) for item in value]
    if kind is dict:
        return {key: _copied(item, memo) for key, item in value.items()}
    if issubclass(kind, _IMMUTABLE):
        _PLAIN.add(kind)
        return value
    return copy.deepcopy(value, memo)


class Copied:
    """A deep copy, attribute by attribute: the generic one goes through `__reduce_ex__` and
    the memo for every object, and commands copy aggregates holding hundreds of records.

    Lists and dicts are copied afresh wherever they are held: an object holding the same
    list or dict in two places would get two (the domain never does; every other object is
    copied through the memo, shared where it was shared)."""

    def __deepcopy__(self, memo: dict[int, Any]) -> Any:
        new = object.__new__(type(self))
        memo[id(self)] = new
        new.__dict__.update({name: _copied(v, memo) for name, v in self.__dict__.items()})
        return new


class Record(Copied):
    """A small record held inside an aggregate."""


class Unchanging(Record):
    """A record never changed once made (a frozen dataclass of immutable values): a copy of
    the aggregate holding it shares it. A consent round's answers are copied with their
    process at every answer; shared, a copy costs nothing per answer already given."""

    def __deepcopy__(self, memo: dict[int, Any]) -> Any:
        return self


_IMMUTABLE = (str, int, float, bytes, date, UUID, Enum, Unchanging)


@dataclass
class GoverningRules(Record):
    """How the circle decides: consent by default, another method for named topics; how many
    must take part for a round to count; its time zone; and the circles it turns to for what
    is not its own to decide alone (long-term decisions, appeals).

    Fields added since the first version have defaults: rules stored before them read as
    the defaults (a circle founded before the quorum rule has the default quorum)."""

    decision_method: str = DecisionMethod.CONSENT
    absentee_policy: str = AbsenteePolicy.CANNOT_OBJECT
    methods_by_topic: dict[str, str] = field(default_factory=dict)
    # The share of full participants (in per cent) who must answer an asynchronous round, or
    # be present at a meeting's, for it to close as consented: at least one, rounded up.
    quorum_percent: int = DEFAULT_QUORUM_PERCENT
    # The IANA time zone in which its dates fall due (review dates, term ends).
    time_zone: str = "UTC"
    # The circle (by reference, possibly on another node) whose consent long-term decisions
    # need: the co-op's members' meeting or purpose circle. None: the circle decides them.
    long_term_circle: str | None = None
    # Topics the rules name as long-term, whatever their term.
    long_term_topics: list[str] = field(default_factory=list)
    # The helping circle (by reference) that hears appeals the circle could not resolve.
    care_and_counsel: str | None = None

    def method_for(self, topic: str | None) -> str:
        if topic is not None and topic in self.methods_by_topic:
            return self.methods_by_topic[topic]
        return self.decision_method

    def quorum(self, full_participants: int) -> int:
        """How many full participants make the quorum: the rule's share, rounded up, at
        least one."""
        return max(1, -(-full_participants * self.quorum_percent // 100))


@dataclass
class Participant(Record):
    person_id: str
    level: str
    status: str
    since: date
    note_of_appreciation: str | None = None
    # A trial's sessions: how many were agreed (None: no trial, or one started before
    # sessions were counted) and how many were held.
    trial_sessions: int | None = None
    sessions_held: int = 0


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

    @classmethod
    def named_in(cls, subject: Mapping[str, Any]) -> LegalEntity:
        """The legal entity a proposal to incorporate names (its subject's fields)."""
        return cls(
            str(subject["registered_name"]), str(subject["number"]), str(subject["registry"])
        )


@dataclass
class Question(Record):
    number: int
    person_id: str
    text: str
    answer: str | None = None


@dataclass(frozen=True)
class Reaction(Unchanging):
    person_id: str
    text: str


@dataclass(frozen=True)
class Answer(Unchanging):
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
    # Why it lapsed (below quorum, or absentees who must consent later); empty otherwise, and
    # for rounds closed before reasons were recorded.
    reason: str = ""
    # Who gave each concern, in the order of `concerns`; empty for rounds closed before it
    # was recorded.
    concerns_by: list[str] = field(default_factory=list)


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
    # A confidential item: guests leave for it, and it and its outcome are read by full and
    # learning participants only; it never leaves the node.
    confidential: bool = False
    # The guests present who left for a confidential item when the facilitator asked them to
    # (None: not asked yet; an empty list: no guest was there).
    guests_left: list[str] | None = None


@dataclass(frozen=True)
class AbsenceNotice(Unchanging):
    """A full participant told the secretary, before a meeting, that they will be absent
    (themselves, or recorded for them by the records keeper: `told_by`)."""

    person_id: str
    told_by: str
    note: str | None = None


@dataclass(frozen=True)
class AppealAnswer(Unchanging):
    """A hearing's answer to an appeal: the circle's (recorded by its facilitator), or that of
    the circle it was taken to (its care and counsel group, its broader circle)."""

    hearing: str  # circle, care_and_counsel or broader_circle
    upheld: bool
    reason: str
    by: str  # the facilitator who recorded it, or the answering circle's reference
