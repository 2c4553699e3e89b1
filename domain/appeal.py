"""Appeals against a circle's decisions: three people who took no part in making a decision
appeal it; the circle hears it first, then its care and counsel group (a helping circle its
rules name, which hears it with the circle's delegates), then its broader circle, whose answer
is final (SOCIOCRACY.md, "Appeal").

One aggregate in one of three roles, as a request for support has two sides:
- `AGAINST_US`: an appeal against a decision of this circle. Appellants gather until there are
  three; the circle hears it and its facilitator records its answer; the appellants may take an
  answer that did not uphold it to the next step, one step at a time. The answers of the
  circles it is taken to arrive by their signed messages.
- `REFERRED`: an appeal another circle took to this one (as its care and counsel group or its
  broader circle), for this circle to hear and answer.
- `SENT`: someone of this circle appealed a linked circle's decision; the appeal is kept there
  (its outcome is read there).

An appellant may withdraw an appeal at any stage before its final answer. Once someone's
personal data is erased, the appeal keeps that they appealed, not what they wrote.

Other circles are referred to by reference (their node id), and their people as
"<node id>/<person id>", as seats are written; the domain knows nothing of nodes. Who may
appeal, and who took part in making a decision, are in domain/appeal_rules.py.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any
from uuid import UUID, uuid4

from eventsourcing.domain import Aggregate, event

from domain.appeal_rules import (
    APPELLANTS_NEEDED,
    HEARD_BY,
    AppealStatus,
    Hearing,
    Role,
    check_amendment,
    check_appealable,
    check_appellant,
    check_guest,
    check_records_circle_answer,
    next_hearing,
    referred_appeal_id,
)
from domain.circle import Circle
from domain.decision import Decision
from domain.errors import InvalidRequest, NotPermitted, WrongStage
from domain.inputs import required_text
from domain.membership import check_can_act, check_facilitator, check_open
from domain.records import AppealAnswer, Copied
from domain.rules import ConsentDecision

# The rules' names, as the node and the tests read them from here too.
__all__ = [
    "APPELLANTS_NEEDED",
    "ERASED_GROUNDS",
    "HEARD_BY",
    "Appeal",
    "AppealStatus",
    "Hearing",
    "Role",
    "referred_appeal_id",
]


# What an appeal says of the grounds of an appellant whose personal data was erased.
ERASED_GROUNDS = "(erased with the appellant's personal data)"


class Appeal(Copied, Aggregate):
    """An appeal, in one of the roles of the module's docstring."""

    # Lodging and joining (an appeal against a decision of this circle).

    @classmethod
    def lodge(
        cls,
        circle: Circle,
        decision: Decision,
        by: str,
        grounds: str,
        parties: Mapping[str, str],
        linked: Collection[str] = (),
    ) -> Appeal:
        """`by` appeals a decision of this circle: the first of the three appellants."""
        check_appealable(circle, decision)
        grounds = required_text(grounds, "An appeal says on what grounds")
        check_appellant(circle, by, parties, linked)
        return cls(
            circle_id=circle.id,
            role=Role.AGAINST_US,
            origin=None,
            origin_id=None,
            decision_id=str(decision.id),
            title=decision.title,
            text=decision.text,
            grounds=grounds,
            appellant=by,
        )

    @classmethod
    def referred(
        cls,
        circle: Circle,
        origin: str,
        origin_id: str,
        hearing: str,
        title: str,
        text: str,
        grounds: str,
        appellants: int,
        delegates: list[str],
    ) -> Appeal:
        """Another circle took one of its appeals to this one, to hear and answer."""
        # Which circle may take it here as `hearing` is checked as the message comes in
        # (appeal_rules.check_may_refer).
        check_open(circle)
        if appellants < APPELLANTS_NEEDED:
            raise InvalidRequest(f"An appeal is heard once {APPELLANTS_NEEDED} people appeal")
        return cls(
            circle_id=circle.id,
            role=Role.REFERRED,
            origin=required_text(origin, "Name the circle whose decision is appealed"),
            origin_id=required_text(origin_id, "Name the appeal"),
            decision_id="",
            title=required_text(title, "An appeal names the decision"),
            text=text,
            grounds=required_text(grounds, "An appeal says on what grounds"),
            appellant=None,
            hearing=hearing,
            appellant_count=appellants,
            delegates=[d for d in delegates if d.strip()],
        )

    @classmethod
    def send(
        cls,
        circle: Circle,
        by: str,
        other: str,
        decision_id: str,
        grounds: str,
        linked: Collection[str],
    ) -> Appeal:
        """`by`, of this circle, appeals a decision of a circle linked to it (kept there)."""
        check_guest(check_can_act(circle, by).level)
        if other not in linked:
            raise WrongStage("Decisions of circles linked to this one can be appealed from here")
        return cls(
            circle_id=circle.id,
            role=Role.SENT,
            origin=other,
            origin_id=None,
            decision_id=required_text(decision_id, "Name the decision appealed"),
            title="",
            text="",
            grounds=required_text(grounds, "An appeal says on what grounds"),
            appellant=by,
        )

    @staticmethod
    def create_id(
        circle_id: UUID,
        role: str,
        origin: str | None,
        origin_id: str | None,
        hearing: str = Hearing.CIRCLE,
        **kwargs: Any,
    ) -> UUID:
        # A referral has an id derived from where it came from and who hears it, so that the
        # same referral arriving twice is the same aggregate.
        if role == Role.REFERRED and origin is not None and origin_id is not None:
            return referred_appeal_id(circle_id, origin, origin_id, hearing)
        return uuid4()

    @event("Lodged")
    def __init__(
        self,
        circle_id: UUID,
        role: str,
        origin: str | None,
        origin_id: str | None,
        decision_id: str,
        title: str,
        text: str,
        grounds: str,
        appellant: str | None,
        hearing: str = Hearing.CIRCLE,
        appellant_count: int = 0,
        delegates: list[str] | None = None,
    ) -> None:
        self.circle_id = circle_id
        self.role = role
        self.origin = origin  # the deciding circle (referred), or the one appealed to (sent)
        self.origin_id = origin_id  # the appeal's id on the deciding circle's node (referred)
        self.decision_id = decision_id
        self.title = title
        self.text = text
        self.grounds = grounds
        # Each appellant with their own grounds (the first lodger's are the appeal's).
        self.appellants: dict[str, str] = {appellant: grounds} if appellant else {}
        self.appellant_count = appellant_count or len(self.appellants)
        self.hearing = hearing
        self.status: str = {
            Role.AGAINST_US: AppealStatus.GATHERING,
            Role.REFERRED: AppealStatus.BEING_HEARD,
            Role.SENT: AppealStatus.SENT,
        }[Role(role)]
        self.delegates = list(delegates or [])  # the deciding circle's delegates (referred)
        self.referred_to: str | None = None  # the circle hearing it now (against us)
        self.answers: list[AppealAnswer] = []
        self.proposal_id: str | None = None  # the proposal an upheld appeal opened

    @property
    def is_final(self) -> bool:
        """Upheld, or answered at its last step (or by the circle it was referred to)."""
        if self.status == AppealStatus.UPHELD:
            return True
        return self.status == AppealStatus.NOT_UPHELD and (
            self.role == Role.REFERRED or self.hearing == Hearing.BROADER_CIRCLE
        )

    def join(
        self,
        circle: Circle,
        decision: Decision,
        by: str,
        grounds: str,
        parties: Mapping[str, str],
        linked: Collection[str] = (),
    ) -> None:
        """`by` joins the appeal; with the third appellant, the circle hears it."""
        self._check_against_us(circle, "be joined")
        self._check_not_withdrawn()
        if decision.id != UUID(self.decision_id):
            raise InvalidRequest("That appeal is against another decision")
        if self.status != AppealStatus.GATHERING:
            raise WrongStage(f"This appeal has its {APPELLANTS_NEEDED} appellants and is heard")
        if by in self.appellants:
            raise WrongStage("This person has appealed this decision already")
        check_appealable(circle, decision)
        check_appellant(circle, by, parties, linked)
        self._joined(by, grounds.strip())

    @event("Joined")
    def _joined(self, person: str, grounds: str) -> None:
        self.appellants[person] = grounds
        self.appellant_count = len(self.appellants)
        if len(self.appellants) >= APPELLANTS_NEEDED:
            self.status = AppealStatus.BEING_HEARD

    # The circle's hearing.

    def answer_as_circle(
        self,
        circle: Circle,
        by: str,
        upheld: bool,
        reason: str,
        proposal: ConsentDecision | None = None,
    ) -> None:
        """The facilitator records the circle's answer; upholding it opens `proposal`, a
        proposal to amend or revoke the decision."""
        reason = self.check_circle_may_answer(circle, by, reason)
        if upheld:
            check_amendment(circle, self.decision_id, proposal)
        proposal_id = str(proposal.id) if upheld and proposal is not None else None
        self._circle_answered(upheld, reason, by, proposal_id)

    def check_circle_may_answer(self, circle: Circle, by: str, reason: str) -> str:
        """Refuse the circle's answer unless the facilitator (or, when the facilitator appeals,
        the secretary: appeal_rules.check_records_circle_answer) records it, with its reason,
        while the circle hears the appeal (checked before the proposal an upheld answer opens
        is drafted). Returns the reason."""
        self._check_against_us(circle, "be answered by the circle")
        check_records_circle_answer(circle, by, self.appellants)
        self._check_heard_by(Hearing.CIRCLE)
        return required_text(reason, "The circle's answer gives its reason")

    @event("CircleAnswered")
    def _circle_answered(self, upheld: bool, reason: str, by: str, proposal_id: str | None) -> None:
        self._answered(Hearing.CIRCLE, upheld, reason, by)
        self.proposal_id = proposal_id

    def take_further(
        self, circle: Circle, by: str, links: Mapping[str, tuple[str, str]]
    ) -> tuple[str, str]:
        """An appellant takes the appeal to its next step, once the step before did not uphold
        it: the care and counsel group the circle's rules name (a circle linked to this one),
        then the broader circle (the co-op this circle is part of). `links` holds this circle's
        relationship with each other circle, as (peering, coop). The appeal goes there by
        signed message. Returns the step and who hears it."""
        self._check_against_us(circle, "be taken further")
        check_can_act(circle, by)
        if by not in self.appellants:
            raise NotPermitted("Only the appellants take an appeal further")
        self._check_not_withdrawn()
        hearing, to = next_hearing(circle, self.status, self.hearing, len(self.appellants), links)
        self._taken_further(hearing, to, by)
        return hearing, to

    @event("TakenFurther")
    def _taken_further(self, hearing: str, to: str, by: str) -> None:
        self.hearing = hearing
        self.referred_to = to
        self.status = AppealStatus.BEING_HEARD

    def answer_received(self, other: str, hearing: str, upheld: bool, reason: str) -> None:
        """The circle the appeal was taken to answered it (its signed message)."""
        if self.role != Role.AGAINST_US:
            raise WrongStage("Only the circle whose decision is appealed hears the answer")
        if other != self.referred_to:
            raise NotPermitted("That circle was not asked to hear this appeal")
        if self.status != AppealStatus.BEING_HEARD or hearing != self.hearing:
            raise WrongStage("This appeal is not before that circle now")
        reason = required_text(reason, "An answer to an appeal gives its reason")
        self._answer_received(hearing, upheld, reason, other)

    @event("AnswerReceived")
    def _answer_received(self, hearing: str, upheld: bool, reason: str, by: str) -> None:
        self._answered(hearing, upheld, reason, by)

    def open_amendment(self, circle: Circle, by: str, proposal: ConsentDecision) -> None:
        """After an upheld answer from the circle it was taken to, the facilitator opens a
        proposal to amend or revoke the decision."""
        self.check_may_open_amendment(circle, by)
        check_amendment(circle, self.decision_id, proposal)
        self._amendment_opened(str(proposal.id))

    def check_may_open_amendment(self, circle: Circle, by: str) -> None:
        """Refuse unless the facilitator opens it, once, after an upheld answer (checked
        before the proposal is drafted)."""
        self._check_against_us(circle, "open a proposal")
        check_facilitator(circle, by, "open the proposal an upheld appeal calls for")
        if self.status != AppealStatus.UPHELD:
            raise WrongStage("A proposal follows an appeal that was upheld")
        if self.proposal_id is not None:
            raise WrongStage("This appeal has opened its proposal already")

    @event("AmendmentOpened")
    def _amendment_opened(self, proposal_id: str) -> None:
        self.proposal_id = proposal_id

    # The side of the circle an appeal was taken to.

    def answer(self, circle: Circle, by: str, upheld: bool, reason: str) -> None:
        """The facilitator records this circle's answer to an appeal taken to it."""
        if circle.id != self.circle_id:
            raise InvalidRequest("That appeal belongs to another circle")
        check_facilitator(circle, by, "record the circle's answer to an appeal")
        if self.role != Role.REFERRED:
            raise WrongStage("Only an appeal taken to this circle is answered here")
        if self.status != AppealStatus.BEING_HEARD:
            raise WrongStage("This circle has answered this appeal already")
        self._referral_answered(upheld, required_text(reason, "An answer gives its reason"), by)

    @event("ReferralAnswered")
    def _referral_answered(self, upheld: bool, reason: str, by: str) -> None:
        self._answered(self.hearing, upheld, reason, by)

    # Withdrawing, and erasing an appellant's personal data.

    def withdraw(self, circle: Circle, by: str, reason: str) -> None:
        """An appellant withdraws the appeal, at any stage before its final answer (also the way
        out of a referral the other circle refused, or a sent appeal whose outcome is read
        there). An answer that comes after it is refused."""
        if circle.id != self.circle_id:
            raise InvalidRequest("That appeal belongs to another circle")
        check_can_act(circle, by)
        if self.role == Role.REFERRED or by not in self.appellants:
            raise NotPermitted("Only an appellant withdraws an appeal")
        self._check_not_withdrawn()
        if self.is_final:
            raise WrongStage("This appeal has its final answer; there is nothing to withdraw")
        self._withdrawn(by, required_text(reason, "Say why the appeal is withdrawn"))

    @event("Withdrawn")
    def _withdrawn(self, by: str, reason: str) -> None:
        self.status = AppealStatus.WITHDRAWN

    def erase_appellant(self, person: str) -> None:
        """An appellant's personal data was erased (here, or by their own circle): the appeal
        keeps that someone appealed, not who or what they wrote. Nothing to do for someone who
        is not an appellant."""
        if person in self.appellants:
            self._appellant_erased(person)

    @event("AppellantErased")
    def _appellant_erased(self, person: str) -> None:
        first = next(iter(self.appellants)) == person
        self.appellants = {
            (f"erased-{place}" if who == person else who): ("" if who == person else grounds)
            for place, (who, grounds) in enumerate(self.appellants.items(), start=1)
        }
        if first:  # the first lodger's grounds are the appeal's
            self.grounds = ERASED_GROUNDS

    # Helpers.

    def _check_not_withdrawn(self) -> None:
        if self.status == AppealStatus.WITHDRAWN:
            raise WrongStage("This appeal was withdrawn")

    def _answered(self, hearing: str, upheld: bool, reason: str, by: str) -> None:
        self.answers.append(AppealAnswer(hearing, upheld, reason, by))
        self.status = AppealStatus.UPHELD if upheld else AppealStatus.NOT_UPHELD

    def _check_against_us(self, circle: Circle, doing: str) -> None:
        if self.role != Role.AGAINST_US:
            raise WrongStage(f"Only an appeal against this circle's decision can {doing}")
        if circle.id != self.circle_id:
            raise InvalidRequest("That appeal belongs to another circle")
        check_open(circle)

    def _check_heard_by(self, hearing: str) -> None:
        if self.status == AppealStatus.GATHERING:
            raise WrongStage(
                f"An appeal is heard once {APPELLANTS_NEEDED} people appeal; "
                f"this one has {len(self.appellants)}"
            )
        if self.status != AppealStatus.BEING_HEARD or self.hearing != hearing:
            raise WrongStage(f"This appeal is not before {HEARD_BY[Hearing(hearing)]}")
