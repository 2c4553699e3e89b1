"""The consent round, for proposals and hat selections alike: answers in advance, consent,
objections, changes of answer, integration, closing the round, escalating and withdrawing."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import TypeVar

from domain.circle import Circle
from domain.consent import ConsentProcess
from domain.records import Answer
from node.app.outcomes import Outcomes
from node.app.work import UnitOfWork, Work
from node.store.retry import retry_on_conflict as command

R = TypeVar("R")


class ConsentRounds:
    """Commands of a consent process, which read the circle and change the process."""

    def __init__(self, work: Work, outcomes: Outcomes) -> None:
        self._work = work
        self._outcomes = outcomes

    def _change_process(self, process_id: str, change: Callable[[Circle, ConsentProcess], R]) -> R:
        """A change of a consent process, which reads the circle (the shared copy: changes of
        the circle are for `Outcomes.carry_out`, saved with it)."""
        with UnitOfWork(self._work) as uow:
            circle = uow.shared_circle()
            process = uow.process(process_id)
            # Done with once saved: the next use starts from it.
            uow.after_commit(lambda: self._work.kept.adopt(process))
            return change(circle, process)

    @command
    def open_consent_round(self, by: str, process_id: str) -> None:
        self._change_process(process_id, lambda c, p: p.open_consent_round(c, by, self._work.now()))

    @command
    def answer_in_advance(self, by: str, process_id: str, consents: bool, text: str = "") -> None:
        self._change_process(
            process_id,
            lambda c, p: p.answer_in_advance(c, by, consents, text),
        )

    @command
    def consent(self, by: str, process_id: str, concern: str = "") -> Answer:
        """Consent; returns the answer as recorded."""

        def change(circle: Circle, process: ConsentProcess) -> Answer:
            process.consent(circle, by, self._work.now(), concern)
            return process.answers[by]

        return self._change_process(process_id, change)

    @command
    def raise_objection(self, by: str, process_id: str, argument: str) -> int:
        return self._change_process(
            process_id, lambda c, p: p.raise_objection(c, by, argument, self._work.now())
        )

    @command
    def change_answer(
        self, by: str, process_id: str, consents: bool, text: str = ""
    ) -> tuple[Answer, int | None]:
        """Change one's own answer in the open round; returns the answer as recorded, and the
        number of the objection a change to an objection raised."""

        def change(circle: Circle, process: ConsentProcess) -> tuple[Answer, int | None]:
            raised = process.change_answer(circle, by, consents, text, self._work.now())
            return process.answers[by], raised

        return self._change_process(process_id, change)

    @command
    def withdraw_objection(self, by: str, process_id: str, number: int) -> None:
        self._change_process(process_id, lambda c, p: p.withdraw_objection(c, by, number))

    @command
    def integrate(
        self,
        by: str,
        process_id: str,
        how: str,
        text: str,
        objections: list[int],
        review_date: date | None = None,
    ) -> None:
        self._change_process(
            process_id, lambda c, p: p.integrate(c, by, how, text, objections, review_date)
        )

    @command
    def close_consent_round(self, by: str, process_id: str) -> str:
        """Close the round; once consented, what it decides is carried out in the same save."""
        with UnitOfWork(self._work) as uow:
            circle = self._work.get_circle()
            process = uow.process(process_id)
            outcome = process.close_consent_round(circle, by, uow.now)
            uow.add(*self._outcomes.carry_out(circle, process, outcome))
            return outcome

    @command
    def close_at_deadline(self, process_id: str) -> str:
        """The calendar closes an asynchronous round whose deadline has come, with no one
        asking; what a consented round decides is carried out in the same save."""
        with UnitOfWork(self._work) as uow:
            circle = self._work.get_circle()
            process = uow.process(process_id)
            outcome = process.close_at_deadline(circle, uow.now)
            uow.add(*self._outcomes.carry_out(circle, process, outcome))
            return outcome

    @command
    def escalate(self, by: str, process_id: str, reason: str) -> None:
        self._change_process(process_id, lambda c, p: p.escalate(c, by, reason))

    @command
    def withdraw(self, by: str, process_id: str) -> None:
        self._change_process(process_id, lambda c, p: p.withdraw(c, by))
