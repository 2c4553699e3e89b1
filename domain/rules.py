"""How a circle decides: its governing rules, and the consent decisions that bind it."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Protocol
from uuid import UUID
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from domain.errors import InvalidRequest, WrongStage
from domain.inputs import choice, required_text
from domain.membership import CircleRecords, check_open
from domain.records import GoverningRules
from domain.values import AbsenteePolicy, DecisionMethod, Stage


class ConsentDecision(Protocol):
    """What a circle reads of one of its consent decisions (a `Proposal`): whose it is, what
    it is for, how far it has come and what it names. The circle and `check_consented` take
    any object that has these, so that they need not know the consent process (which knows
    the circle)."""

    @property
    def id(self) -> UUID: ...

    @property
    def circle_id(self) -> UUID: ...

    @property
    def purpose(self) -> str: ...

    @property
    def stage(self) -> str: ...

    @property
    def subject(self) -> dict[str, Any]: ...


def check_consented(
    circle: CircleRecords,
    proposal: ConsentDecision,
    purpose: str,
    effect: str = "binds the circle",
) -> None:
    """Refuse anything but this circle's consented proposal of `purpose`: every step that
    binds a circle is one of its consent decisions."""
    check_open(circle)
    if proposal.circle_id != circle.id:
        raise InvalidRequest("That proposal belongs to another circle")
    if proposal.purpose != purpose:
        raise InvalidRequest(f"That proposal is to {proposal.purpose.replace('_', ' ')}")
    if proposal.stage != Stage.CONSENTED:
        raise WrongStage(f"Only a consented proposal {effect}")


def check_rules(rules: GoverningRules) -> None:
    choice(DecisionMethod, rules.decision_method, "decision method")
    choice(AbsenteePolicy, rules.absentee_policy, "absentee policy")
    for topic, method in rules.methods_by_topic.items():
        required_text(topic, "A topic with its own decision method needs a name")
        choice(DecisionMethod, method, "decision method")
    if isinstance(rules.quorum_percent, bool) or not isinstance(rules.quorum_percent, int):
        raise InvalidRequest("The quorum is a share of the full participants, in per cent")
    if not 1 <= rules.quorum_percent <= 100:
        raise InvalidRequest("The quorum is between 1 and 100 per cent of the full participants")
    check_time_zone(rules.time_zone)
    for topic in rules.long_term_topics:
        required_text(topic, "A long-term topic needs a name")
    for ref in (rules.long_term_circle, rules.care_and_counsel):
        if ref is not None:
            required_text(ref, "Name the circle, or leave it out")


def check_time_zone(name: str) -> str:
    """Refuse a name that is not an IANA time zone (such as "Europe/London")."""
    try:
        ZoneInfo(required_text(name, "Name the circle's time zone, such as Europe/London"))
    except (ZoneInfoNotFoundError, ValueError):
        raise InvalidRequest(
            f"Unknown time zone {name!r}; name one such as Europe/London or UTC"
        ) from None
    return name


def local_date(rules: GoverningRules, moment: datetime) -> date:
    """The date of an aware `moment` in the circle's time zone: what falls due on a date (a
    review, the end of a term) does so at the circle's own midnight, not at UTC's."""
    return moment.astimezone(ZoneInfo(rules.time_zone)).date()


def rules_from_subject(current: GoverningRules, subject: dict[str, Any]) -> GoverningRules:
    """The governing rules a change-rules proposal would give the circle: each rule the
    subject names, the current one for the rest."""
    methods = subject.get("methods_by_topic", current.methods_by_topic)
    if not isinstance(methods, dict):
        raise InvalidRequest("methods_by_topic maps a topic to a decision method")
    topics = subject.get("long_term_topics", current.long_term_topics)
    if not isinstance(topics, list):
        raise InvalidRequest("long_term_topics is a list of topics")
    rules = GoverningRules(
        decision_method=str(subject.get("decision_method", current.decision_method)),
        absentee_policy=str(subject.get("absentee_policy", current.absentee_policy)),
        methods_by_topic={str(k): str(v) for k, v in methods.items()},
        quorum_percent=subject.get("quorum_percent", current.quorum_percent),
        time_zone=str(subject.get("time_zone", current.time_zone)),
        long_term_circle=_reference(subject, "long_term_circle", current.long_term_circle),
        long_term_topics=[str(topic).strip() for topic in topics],
        care_and_counsel=_reference(subject, "care_and_counsel", current.care_and_counsel),
    )
    check_rules(rules)
    return rules


def _reference(subject: dict[str, Any], key: str, current: str | None) -> str | None:
    """A circle the rules name: the subject's (empty or null: none), or the current one."""
    if key not in subject:
        return current
    value = subject[key]
    return str(value).strip() or None if value is not None else None
