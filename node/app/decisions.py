"""Decisions: everyday decisions taken within a hat's domain, challenges, and the calendar
(reviews coming due, terms ending, late processes lapsing)."""

from __future__ import annotations

from datetime import date

from domain.decision import Decision
from domain.proposal import Proposal
from domain.values import Mode, Purpose, Stage
from node.app.work import UnitOfWork, Work
from node.store.retry import retry_on_conflict as command


class Decisions:
    """The circle's decisions once taken, and what comes due."""

    def __init__(self, work: Work) -> None:
        self._work = work

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
            proposal = Proposal.draft(
                circle,
                by,
                f"Challenge: {decision.title}",
                text,
                uow.now,
                purpose=Purpose.REVOKE_DECISION if revoke else Purpose.AMEND_DECISION,
                subject={"decision_id": str(decision.id)},
            )
            decision.challenge(circle, by, proposal)
            uow.file("proposal", proposal)
            return str(proposal.id)

    @command
    def update_due_dates(self) -> dict[str, list[str]]:
        """Mark reviews that came due, end decisions whose term is over, lapse late processes."""
        work = self._work
        summary: dict[str, list[str]] = {"review_due": [], "expired": [], "lapsed": []}
        with UnitOfWork(work) as uow:
            now, today = uow.now, uow.today
            # The listings are shared: what changes is a copy of its own.
            for listed in work.list_decisions():
                if listed.in_force and listed.term_end is not None and listed.term_end <= today:
                    decision = uow.decision(listed.id)
                    decision.expire(today)
                    summary["expired"].append(str(decision.id))
                elif listed.is_review_due(today) and listed.status != "review_due":
                    decision = uow.decision(listed.id)
                    decision.mark_review_due(today)
                    summary["review_due"].append(str(decision.id))
            for shared in [*work.list_proposals(), *work.list_selections()]:
                if (
                    not shared.is_final
                    and shared.mode == Mode.ASYNC
                    and shared.deadline is not None
                    and shared.deadline < now
                    and shared.stage != Stage.CONSENT_ROUND
                ):
                    process = uow.process(shared.id)
                    process.lapse(now)
                    summary["lapsed"].append(str(process.id))
        return summary

    def reviews_due(self) -> list[Decision]:
        today = self._work.today()
        return [d for d in self._work.list_decisions() if d.is_review_due(today)]
