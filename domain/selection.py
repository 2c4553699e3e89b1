"""Selecting someone for a hat: nominations with reasons, a change round, a candidate, consent."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from uuid import UUID

from eventsourcing.domain import event

from domain.circle import Circle
from domain.consent import ConsentProcess, check_deadline
from domain.errors import InvalidRequest, NotPermitted
from domain.inputs import required_text
from domain.membership import check_can_act, check_can_wear, check_facilitator
from domain.records import IntegrationRecord, Nomination
from domain.rules import local_date
from domain.values import Integration, Level, Mode, Stage


class HatSelection(ConsentProcess):
    """The selection process for one hat: the facilitator runs it, the circle consents."""

    @classmethod
    def open(
        cls,
        circle: Circle,
        by: str,
        hat_id: str,
        now: datetime,
        *,
        review_date: date | None = None,
        mode: str = Mode.MEETING,
        deadline: datetime | None = None,
    ) -> HatSelection:
        hat = circle.hat(hat_id)
        check_facilitator(circle, by, "open a selection")
        check_deadline(mode, deadline, now)
        today = local_date(circle.rules, now)
        if review_date is None:
            review_date = today + timedelta(days=round(30.44 * hat.default_term_months))
        if review_date <= today:
            raise InvalidRequest("The term's review date must be in the future")
        return cls(
            circle_id=circle.id,
            hat_id=hat_id,
            opened_by=by,
            review_date=review_date,
            mode=mode,
            deadline=deadline,
        )

    @event("SelectionOpened")
    def __init__(
        self,
        circle_id: UUID,
        hat_id: str,
        opened_by: str,
        review_date: date,
        mode: str,
        deadline: datetime | None,
    ) -> None:
        self.circle_id = circle_id
        self.hat_id = hat_id
        self.stage = Stage.NOMINATING
        self.nominations: dict[str, Nomination] = {}
        self.candidate: str | None = None
        self.candidate_reason = ""
        self._init_consent(opened_by, mode, deadline, review_date)

    def nominate(self, circle: Circle, by: str, nominee: str, reason: str) -> None:
        """Everyone nominates in writing, with a reason."""
        self.check_circle(circle)
        self._check_nominator(circle, by)
        self.check_stage(Stage.NOMINATING, doing="nominate")
        if by in self.nominations:
            raise InvalidRequest(
                "You have nominated already; you can change it in the change round"
            )
        check_can_wear(circle, self.hat_id, nominee, again=True)
        self._nominated(
            Nomination(by, nominee, required_text(reason, "Give a reason for your nomination"))
        )

    def change_nomination(self, circle: Circle, by: str, nominee: str, reason: str) -> None:
        """The change round: having heard the reasons, anyone may change their nomination."""
        self.check_circle(circle)
        self._check_nominator(circle, by)
        self.check_stage(Stage.CHANGE_ROUND, doing="change a nomination")
        check_can_wear(circle, self.hat_id, nominee, again=True)
        reason = required_text(reason, "Give a reason for the change")
        self._nominated(Nomination(by, nominee, reason, changed=True))

    @event("Nominated")
    def _nominated(self, nomination: Nomination) -> None:
        self.nominations[nomination.nominator] = nomination

    def open_change_round(self, circle: Circle, by: str) -> None:
        self.check_circle(circle)
        check_facilitator(circle, by, "open the change round")
        self.check_stage(Stage.NOMINATING, doing="open the change round")
        if not self.nominations:
            raise InvalidRequest("Nobody has been nominated yet")
        self._change_round_opened()

    @event("ChangeRoundOpened")
    def _change_round_opened(self) -> None:
        self.stage = Stage.CHANGE_ROUND

    def propose_candidate(self, circle: Circle, by: str, candidate: str, reason: str) -> None:
        """The facilitator proposes a nominee; the consent round opens on them.

        After objections, proposing another nominee integrates every open objection.
        """
        self.check_circle(circle)
        check_facilitator(circle, by, "propose a candidate")
        self.check_stage(Stage.CHANGE_ROUND, Stage.INTEGRATING, doing="propose a candidate")
        if candidate not in {n.nominee for n in self.nominations.values()}:
            raise InvalidRequest("The candidate must be someone the circle nominated")
        if candidate == self.candidate:
            raise InvalidRequest("That is the current candidate")
        check_can_wear(circle, self.hat_id, candidate, again=True)
        reason = required_text(reason, "Say why you propose this candidate")
        open_numbers = [o.number for o in self.open_objections()]
        if open_numbers:
            self._integrated(
                IntegrationRecord(
                    len(self.integrations) + 1,
                    Integration.AMEND,
                    f"Another candidate proposed: {reason}",
                    open_numbers,
                    by,
                ),
                None,
            )
        self._candidate_proposed(candidate, reason)

    @event("CandidateProposed")
    def _candidate_proposed(self, candidate: str, reason: str) -> None:
        self.candidate = candidate
        self.candidate_reason = reason
        self.stage = Stage.CONSENT_ROUND
        self.round_number += 1
        self.answers = {}

    def _check_nominator(self, circle: Circle, by: str) -> None:
        if check_can_act(circle, by).level == Level.GUEST:
            raise NotPermitted("Guests do not nominate; full and learning participants do")
