"""Hats: defining them, the selection process (nominations, change round, candidate, consent),
renewing a term and taking a hat off."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from typing import Any

from domain.circle import Circle
from domain.records import HatTerm
from domain.selection import HatSelection
from domain.values import Mode
from node.app.work import UnitOfWork, Work
from node.store.retry import retry_on_conflict as command


class Hats:
    """The circle's hats and who wears them."""

    def __init__(self, work: Work) -> None:
        self._work = work

    @command
    def define_hat(
        self,
        by: str,
        name: str,
        purpose: str,
        accountabilities: list[str],
        domain: list[str],
        default_term_months: int = 12,
        kind: str = "operational",
    ) -> str:
        with UnitOfWork(self._work) as uow:
            return uow.circle().define_hat(
                by, name, purpose, accountabilities, domain, default_term_months, kind
            )

    @command
    def open_selection(
        self,
        by: str,
        hat_id: str,
        review_date: date | None = None,
        mode: str = Mode.MEETING,
        deadline: datetime | None = None,
    ) -> str:
        with UnitOfWork(self._work) as uow:
            selection = HatSelection.open(
                self._work.get_circle(),
                by,
                hat_id,
                uow.now,
                review_date=review_date,
                mode=mode,
                deadline=deadline,
            )
            uow.file("selection", selection)
            return str(selection.id)

    def _change_selection(
        self, selection_id: str, change: Callable[[Circle, HatSelection], Any]
    ) -> Any:
        with UnitOfWork(self._work) as uow:
            circle = self._work.get_circle()
            return change(circle, uow.selection(selection_id))

    @command
    def nominate(self, by: str, selection_id: str, nominee: str, reason: str) -> None:
        self._change_selection(selection_id, lambda c, s: s.nominate(c, by, nominee, reason))

    @command
    def open_change_round(self, by: str, selection_id: str) -> None:
        self._change_selection(selection_id, lambda c, s: s.open_change_round(c, by))

    @command
    def change_nomination(self, by: str, selection_id: str, nominee: str, reason: str) -> None:
        self._change_selection(
            selection_id, lambda c, s: s.change_nomination(c, by, nominee, reason)
        )

    @command
    def propose_candidate(self, by: str, selection_id: str, candidate: str, reason: str) -> None:
        self._change_selection(
            selection_id, lambda c, s: s.propose_candidate(c, by, candidate, reason)
        )

    @command
    def renew_hat(self, by: str, hat_id: str, person_id: str, review_date: date) -> None:
        with UnitOfWork(self._work) as uow:
            uow.circle().renew_hat(by, hat_id, person_id, review_date)

    @command
    def take_off_hat(self, by: str, hat_id: str, person_id: str, reason: str) -> None:
        with UnitOfWork(self._work) as uow:
            uow.circle().take_off_hat(by, hat_id, person_id, reason)

    def hat_terms_ending(self, within_days: int = 30) -> list[HatTerm]:
        return self._work.get_circle().terms_ending(self._work.today(), within_days)
