"""What a consented proposal or selection changes, carried out in the save that closes it."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any, Protocol

from domain.circle import Circle
from domain.consent import ConsentProcess
from domain.decision import Decision
from domain.proposal import Proposal
from domain.relationships import Relationship
from domain.selection import HatSelection
from domain.values import Purpose, Stage
from node.app.plans import PLAN_PURPOSES, carry_out_plan
from node.app.work import Work

DECISION_PURPOSES = (Purpose.AMEND_DECISION, Purpose.RENEW_DECISION, Purpose.REVOKE_DECISION)


class RelationOutcomes(Protocol):
    """What a consented proposal about another circle changes (node/app/relations.py)."""

    def is_relation(self, purpose: str) -> bool: ...

    def relationship(self, other: str) -> Relationship: ...

    def own_reference(self) -> str | None: ...

    def check_relation_draft(self, purpose: str, subject: dict[str, Any]) -> None: ...

    def carry_out_relation(self, circle: Circle, proposal: Proposal, today: date) -> list[Any]: ...

    def go_independent_from(self, circle: Circle, proposal: Proposal) -> list[Any]: ...


class Outcomes:
    """The aggregates a consented selection or proposal changes."""

    def __init__(self, work: Work, relations: RelationOutcomes) -> None:
        self._work = work
        self._relations = relations

    def carry_out(self, circle: Circle, process: ConsentProcess, outcome: str) -> list[Any]:
        """What to save with the process: nothing unless it was consented."""
        if outcome != Stage.CONSENTED:
            return []
        today = self._work.today()
        if isinstance(process, HatSelection):
            circle.give_selected_hat(process, today)
            return [circle]
        assert isinstance(process, Proposal)
        purpose, subject = process.purpose, process.subject
        if purpose == Purpose.ADOPT_POLICY:
            decision = Decision.adopt(circle, process, today)
            changed: list[Any] = [decision, *self._work.filed("decision", decision.id)]
            if subject.get("supersedes"):
                old = self._work.get_decision(str(subject["supersedes"]))
                old.supersede(decision)
                changed.append(old)
            return changed
        if purpose in DECISION_PURPOSES:
            decision = self._work.get_decision(str(subject["decision_id"]))
            if purpose == Purpose.AMEND_DECISION:
                decision.amend(circle, process, today)
            elif purpose == Purpose.RENEW_DECISION:
                decision.renew(circle, process, today)
            else:
                decision.revoke(circle, process)
            return [decision]
        if self._relations.is_relation(purpose):
            return self._relations.carry_out_relation(circle, process, today)
        if purpose == Purpose.GO_INDEPENDENT:
            return self._relations.go_independent_from(circle, process)
        if purpose in PLAN_PURPOSES:
            return carry_out_plan(self._work, circle, process, today)
        circle_changes: dict[str, Callable[[], None]] = {
            Purpose.CHANGE_AIM: lambda: circle.revise_aim(process),
            Purpose.CHANGE_DOMAIN: lambda: circle.change_domain(process),
            Purpose.CHANGE_RULES: lambda: circle.change_rules(process),
            Purpose.REMOVE_PARTICIPANT: lambda: circle.remove(process, today),
            Purpose.INCORPORATE: lambda: circle.incorporate(process),
            Purpose.DISSOLVE: lambda: circle.dissolve(process),
        }
        circle_changes[purpose]()
        return [circle]
