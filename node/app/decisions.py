"""Decisions: everyday decisions taken within a hat's domain, challenges, and the calendar
(reviews coming due, terms ending, late processes lapsing)."""

from __future__ import annotations

from datetime import date

from eventsourcing.domain import Aggregate

from domain.decision import Decision
from domain.proposal import Proposal
from domain.values import Mode, Purpose, Stage
from node.app.work import Work, check_unchanged
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
        work = self._work
        circle = work.peek_circle()  # read, not changed: the shared copy
        decision = Decision.take_everyday(
            circle,
            by,
            hat_id,
            area,
            title,
            text,
            work.today(),
            review_date=review_date,
            term_end=term_end,
        )
        check_unchanged(work, circle)
        work.save(decision, *work.filed("decision", decision.id))
        return str(decision.id)

    @command
    def challenge_decision(
        self, by: str, decision_id: str, text: str, *, revoke: bool = False
    ) -> str:
        """Challenge an everyday decision: it opens a proposal to amend (or revoke) it."""
        work = self._work
        circle = work.get_circle()
        decision = work.get_decision(decision_id)
        proposal = Proposal.draft(
            circle,
            by,
            f"Challenge: {decision.title}",
            text,
            work.now(),
            purpose=Purpose.REVOKE_DECISION if revoke else Purpose.AMEND_DECISION,
            subject={"decision_id": str(decision.id)},
        )
        decision.challenge(circle, by, proposal)
        work.save(decision, proposal, *work.filed("proposal", proposal.id))
        return str(proposal.id)

    @command
    def update_due_dates(self) -> dict[str, list[str]]:
        """Mark reviews that came due, end decisions whose term is over, lapse late processes."""
        work = self._work
        now = work.now()
        today = now.date()
        changed: list[Aggregate] = []
        summary: dict[str, list[str]] = {"review_due": [], "expired": [], "lapsed": []}
        # The listings are shared: what changes is a copy of its own.
        for listed in work.list_decisions():
            if listed.in_force and listed.term_end is not None and listed.term_end <= today:
                decision = work.get_decision(listed.id)
                decision.expire(today)
                summary["expired"].append(str(decision.id))
                changed.append(decision)
            elif listed.is_review_due(today) and listed.status != "review_due":
                decision = work.get_decision(listed.id)
                decision.mark_review_due(today)
                summary["review_due"].append(str(decision.id))
                changed.append(decision)
        for shared in [*work.list_proposals(), *work.list_selections()]:
            if (
                not shared.is_final
                and shared.mode == Mode.ASYNC
                and shared.deadline is not None
                and shared.deadline < now
                and shared.stage != Stage.CONSENT_ROUND
            ):
                process = work.get_process(shared.id)
                process.lapse(now)
                summary["lapsed"].append(str(process.id))
                changed.append(process)
        if changed:
            work.save(*changed)
        return summary

    def reviews_due(self) -> list[Decision]:
        today = self._work.today()
        return [d for d in self._work.list_decisions() if d.is_review_due(today)]
