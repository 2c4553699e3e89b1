"""How a circle decides: its governing rules, and the consent decisions that bind it."""

from __future__ import annotations

from typing import Any, Protocol
from uuid import UUID

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


def rules_from_subject(current: GoverningRules, subject: dict[str, Any]) -> GoverningRules:
    """The governing rules a change-rules proposal would give the circle."""
    methods = subject.get("methods_by_topic", current.methods_by_topic)
    if not isinstance(methods, dict):
        raise InvalidRequest("methods_by_topic maps a topic to a decision method")
    rules = GoverningRules(
        decision_method=str(subject.get("decision_method", current.decision_method)),
        absentee_policy=str(subject.get("absentee_policy", current.absentee_policy)),
        methods_by_topic={str(k): str(v) for k, v in methods.items()},
    )
    check_rules(rules)
    return rules
