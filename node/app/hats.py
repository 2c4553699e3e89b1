"""Hats: defining them, the selection process (nominations, change round, candidate, consent),
renewing a term and taking a hat off."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from typing import Any

from eventsourcing.application import AggregateNotFoundError

from domain.backstops import BackStops, back_stops_id
from domain.circle import Circle
from domain.errors import NotFound
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

    @command
    def name_back_stop(self, by: str, hat_id: str, person_id: str) -> None:
        """Record the back-stop the circle named for a hat (who steps in for its wearer)."""
        with UnitOfWork(self._work) as uow:
            circle = uow.shared_circle()
            self._back_stops(uow, circle).name_back_stop(circle, by, hat_id, person_id)

    @command
    def clear_back_stop(self, by: str, hat_id: str) -> None:
        with UnitOfWork(self._work) as uow:
            circle = uow.shared_circle()
            self._back_stops(uow, circle).clear_back_stop(circle, by, hat_id)

    def _back_stops(self, uow: UnitOfWork, circle: Circle) -> BackStops:
        """The circle's back-stops, a copy of their own (opened at the first naming)."""
        try:
            stops: BackStops = uow.record(BackStops, back_stops_id(circle.id), "back-stops")
        except NotFound:
            stops = BackStops.open(circle)
            uow.add(stops)
        return stops

    def back_stops(self) -> BackStops | None:
        """The circle's back-stops as stored (shared: read only), or None if none was named."""
        if not self._work.is_founded:
            return None
        try:
            stops: BackStops = self._work.kept.peek(back_stops_id(self._work.circle_id))
        except AggregateNotFoundError:
            return None
        return stops

    def hat_terms_ending(self, within_days: int = 30) -> list[HatTerm]:
        return self._work.get_circle().terms_ending(self._work.today(), within_days)
