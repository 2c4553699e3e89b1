"""Proposals: drafting one (of any purpose), presenting it, clarifying questions, reactions,
amending, and a formal vote where the circle's rules require one."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from typing import Any, Protocol, TypeVar

from domain.circle import Circle
from domain.errors import NotFound, WrongStage
from domain.proposal import Proposal
from domain.relationships import Relationship
from domain.values import Mode, Purpose
from node.app.outcomes import Outcomes, RelationOutcomes
from node.app.plans import check_plan_draft
from node.app.work import UnitOfWork, Work
from node.store.retry import retry_on_conflict as command

R = TypeVar("R")


class Proposals:
    """A proposal's path up to its consent round (node/app/consent.py holds the round)."""

    def __init__(self, work: Work, relations: RelationOutcomes, outcomes: Outcomes) -> None:
        self._work = work
        self._relations = relations
        self._outcomes = outcomes

    @command
    def draft_proposal(
        self,
        by: str,
        title: str,
        text: str,
        *,
        purpose: str = Purpose.ADOPT_POLICY,
        subject: dict[str, Any] | None = None,
        mode: str = Mode.MEETING,
        deadline: datetime | None = None,
        review_date: date | None = None,
        topic: str | None = None,
        ask_circles: list[str] | None = None,
    ) -> str:
        with UnitOfWork(self._work) as uow:
            proposal = draft(
                uow,
                self._relations,
                self._work.get_circle(),
                by,
                title,
                text,
                purpose=purpose,
                subject=subject,
                mode=mode,
                deadline=deadline,
                review_date=review_date,
                topic=topic,
                ask_circles=ask_circles,
            )
            uow.file("proposal", proposal)
            return str(proposal.id)

    def _change_proposal(self, proposal_id: str, change: Callable[[Circle, Proposal], R]) -> R:
        with UnitOfWork(self._work) as uow:
            circle = self._work.get_circle()
            return change(circle, uow.proposal(proposal_id))

    @command
    def present(self, by: str, proposal_id: str) -> None:
        self._change_proposal(proposal_id, lambda c, p: p.present(c, by))

    @command
    def ask_question(self, by: str, proposal_id: str, question: str) -> int:
        return self._change_proposal(proposal_id, lambda c, p: p.ask_question(c, by, question))

    @command
    def answer_question(self, by: str, proposal_id: str, number: int, answer: str) -> None:
        self._change_proposal(proposal_id, lambda c, p: p.answer_question(c, by, number, answer))

    @command
    def open_reactions(self, by: str, proposal_id: str) -> None:
        self._change_proposal(proposal_id, lambda c, p: p.open_reactions(c, by))

    @command
    def react(self, by: str, proposal_id: str, reaction: str) -> None:
        self._change_proposal(proposal_id, lambda c, p: p.react(c, by, reaction))

    @command
    def amend(self, by: str, proposal_id: str, text: str) -> None:
        self._change_proposal(proposal_id, lambda c, p: p.amend(c, by, text))

    @command
    def record_vote(
        self, by: str, proposal_id: str, in_favour: int, against: int, abstentions: int = 0
    ) -> str:
        with UnitOfWork(self._work) as uow:
            circle = self._work.get_circle()
            proposal = uow.proposal(proposal_id)
            outcome = proposal.record_vote(circle, by, in_favour, against, abstentions)
            uow.add(*self._outcomes.carry_out(circle, proposal, outcome))
            return outcome


class DraftRelations(Protocol):
    """What drafting asks of the circle's relations (node/app/relations.py)."""

    def relationship(self, other: str) -> Relationship: ...

    def own_reference(self) -> str | None: ...

    def check_relation_draft(self, purpose: str, subject: dict[str, Any]) -> None: ...


def draft(
    uow: UnitOfWork,
    relations: DraftRelations,
    circle: Circle,
    by: str,
    title: str,
    text: str,
    *,
    purpose: str = Purpose.ADOPT_POLICY,
    subject: dict[str, Any] | None = None,
    mode: str = Mode.MEETING,
    deadline: datetime | None = None,
    review_date: date | None = None,
    topic: str | None = None,
    ask_circles: list[str] | None = None,
) -> Proposal:
    """Draft a proposal in `uow` (not filed) with what the domain reads from the node: the
    kind of the decision it amends, renews or revokes, the period a plan's revision gives it,
    and this circle's own reference, and check the circles it asks are known. Every proposal
    is drafted here: a member's, a challenge of an everyday decision, and the amendment an
    upheld appeal opens, so each is as long-term as the others."""
    work = uow.work
    subject = dict(subject or {})
    decision_kind = None
    for key in ("decision_id", "supersedes"):
        if subject.get(key):
            decision_kind = work.get_decision(str(subject[key])).kind
    relations.check_relation_draft(purpose, subject)
    plan_period_end = check_plan_draft(work, purpose, subject, review_date)
    for ref in ask_circles or []:
        relations.relationship(ref)
    proposal = Proposal.draft(
        circle,
        by,
        title,
        text,
        uow.now,
        purpose=purpose,
        subject=subject,
        mode=mode,
        deadline=deadline,
        review_date=review_date,
        topic=topic,
        ask_circles=ask_circles,
        decision_kind=decision_kind,
        this_circle=relations.own_reference(),
        plan_period_end=plan_period_end,
    )
    if proposal.long_term_circle is not None:
        _check_long_term_circle_known(relations, proposal.long_term_circle)
    return proposal


def _check_long_term_circle_known(relations: DraftRelations, ref: str) -> None:
    """A long-term decision asks the circle the rules name for it: this circle must know it
    (a relationship, as every circle asked for its consent)."""
    try:
        relations.relationship(ref)
    except NotFound:
        raise WrongStage(
            f"This is a long-term decision, which belongs to the circle {ref} (named by the "
            "rules); this circle has no relationship with it to ask for its consent"
        ) from None
