"""Decisions: everyday decisions taken within a hat's domain, challenges, and the calendar
(reviews coming due, terms ending, late processes lapsing, late consent rounds closing)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Protocol

from domain.consent import ConsentProcess
from domain.decision import Decision
from domain.errors import DomainError
from domain.values import DecisionMethod, Mode, Purpose, Stage
from node.app.plans import mark_plan_reviews_due
from node.app.proposals import DraftRelations, draft
from node.app.work import UnitOfWork, Work
from node.store.retry import retry_on_conflict as command


class LateRounds(Protocol):
    """What the calendar asks of the consent rounds (node/app/consent.py `ConsentRounds`)."""

    def close_at_deadline(self, process_id: str) -> str: ...


class Decisions:
    """The circle's decisions once taken, and what comes due."""

    def __init__(self, work: Work, rounds: LateRounds, relations: DraftRelations) -> None:
        self._work = work
        self._rounds = rounds
        self._relations = relations

    @command
    def take_everyday_decision(
        self,
        by: str,
        hat_id: str,
        area: str,
        title: str,
        text: str,
        review_date: date | None = None,
        term_end: date | None = None,
    ) -> str:
        with UnitOfWork(self._work) as uow:
            decision = Decision.take_everyday(
                uow.shared_circle(),  # read, not changed
                by,
                hat_id,
                area,
                title,
                text,
                uow.today,
                review_date=review_date,
                term_end=term_end,
            )
            uow.file("decision", decision)
            return str(decision.id)

    @command
    def challenge_decision(
        self, by: str, decision_id: str, text: str, *, revoke: bool = False
    ) -> str:
        """Challenge an everyday decision: it opens a proposal to amend (or revoke) it."""
        with UnitOfWork(self._work) as uow:
            circle = self._work.get_circle()
            decision = uow.decision(decision_id)
            proposal = draft(
                uow,
                self._relations,
                circle,
                by,
                f"Challenge: {decision.title}",
                text,
                purpose=Purpose.REVOKE_DECISION if revoke else Purpose.AMEND_DECISION,
                subject={"decision_id": str(decision.id)},
            )
            decision.challenge(circle, by, proposal)
            uow.file("proposal", proposal)
            return str(proposal.id)

    def update_due_dates(self) -> dict[str, list[str]]:
        """What the calendar does, without anyone asking (also each hour, node/http/server.py):
        each step saves what it changes and says what it did, by the summary's keys."""
        summary: dict[str, list[str]] = {}
        for step in (self._decisions_due, self._late_processes, self._late_rounds):
            summary.update(step())
        summary.update(mark_plan_reviews_due(self._work))
        return summary

    @command
    def _decisions_due(self) -> dict[str, list[str]]:
        """Mark reviews that came due, and end decisions whose term is over."""
        work = self._work
        due: dict[str, list[str]] = {"review_due": [], "expired": []}
        with UnitOfWork(work) as uow:
            today = uow.today
            # The listings are shared: what changes is a copy of its own.
            for listed in work.list_decisions():
                if listed.in_force and listed.term_end is not None and listed.term_end <= today:
                    decision = uow.decision(listed.id)
                    decision.expire(today)
                    due["expired"].append(str(decision.id))
                elif listed.is_review_due(today) and listed.status != "review_due":
                    decision = uow.decision(listed.id)
                    decision.mark_review_due(today)
                    due["review_due"].append(str(decision.id))
        return due

    @command
    def _late_processes(self) -> dict[str, list[str]]:
        """Lapse asynchronous processes whose deadline passed outside a consent round."""
        lapsed: list[str] = []
        with UnitOfWork(self._work) as uow:
            for shared in self._late(uow.now):
                if shared.stage != Stage.CONSENT_ROUND:
                    process = uow.process(shared.id)
                    process.lapse(uow.now)
                    lapsed.append(str(process.id))
        return {"lapsed": lapsed}

    def _late_rounds(self) -> dict[str, list[str]]:
        """Close asynchronous consent rounds whose deadline passed, as the rules say (quorum,
        objections, absentee policy), each in its own save with what a consented one decides:
        a round whose decision cannot be carried out now is left open for the facilitator,
        who hears why on closing it, and does not hold up the others."""
        closed: list[str] = []
        for shared in self._late(self._work.now()):
            if shared.stage == Stage.CONSENT_ROUND and shared.method == DecisionMethod.CONSENT:
                try:
                    self._rounds.close_at_deadline(str(shared.id))
                except DomainError:
                    continue
                closed.append(str(shared.id))
        return {"closed": closed}

    def _late(self, now: datetime) -> list[ConsentProcess]:
        """Asynchronous processes still open whose deadline has passed (the shared copies)."""
        return [
            shared
            for shared in [*self._work.list_proposals(), *self._work.list_selections()]
            if not shared.is_final
            and shared.mode == Mode.ASYNC
            and shared.deadline is not None
            and shared.deadline < now
        ]

    def reviews_due(self) -> list[Decision]:
        today = self._work.today()
        return [d for d in self._work.list_decisions() if d.is_review_due(today)]
