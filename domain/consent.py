"""The consent process shared by proposals and hat selections: rounds, objections, integration.

A proposal passes when no full participant holds a paramount, reasoned objection. Only full
participants consent or object; objections carry their argument and are integrated (amend,
shorten the term, add a measure) by a full or learning participant (guests take part in the
rounds, not in changing what is decided) before the round repeats. The circle's absentee
policy says what the silence of an absent full participant means, and its quorum how many
must take part for the round to count (domain/round_end.py).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING, ClassVar
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from domain.circle import Circle
from domain.errors import InvalidRequest, NotPermitted, WrongStage
from domain.hats import FACILITATOR
from domain.inputs import choice, required_text
from domain.membership import (
    check_can_act,
    check_facilitator,
    check_full_participant,
    check_open,
    check_wears,
)
from domain.records import Answer, Copied, IntegrationRecord, Objection, RoundRecord
from domain.round_end import circle_seat, closing_record
from domain.values import (
    FINAL_STAGES,
    AbsenteePolicy,
    DecisionMethod,
    Integration,
    Level,
    Mode,
    Stage,
)


class ConsentProcess(Copied, Aggregate):
    """Base of aggregates decided by consent rounds. Subclasses set up the fields below."""

    # Subclasses set circle_id and stage in their __init__; _init_consent sets the rest.
    # Declared for type checkers only: eventsourcing takes class annotations as event fields.
    if TYPE_CHECKING:
        circle_id: UUID
        stage: str

    # Stages from which a consent round may open (besides integrating); set by subclasses.
    ROUND_OPENS_FROM: ClassVar[frozenset[str]] = frozenset()
    # Stages in which answers may be given in advance (absentee policy "reacted in advance").
    ADVANCE_STAGES: ClassVar[frozenset[str]] = frozenset()

    def _init_consent(
        self,
        opened_by: str,
        mode: str,
        deadline: datetime | None,
        review_date: date | None,
        method: str = DecisionMethod.CONSENT,
    ) -> None:
        self.opened_by = opened_by
        self.method = method
        self.mode = mode
        self.deadline: datetime | None = deadline
        self.review_date: date | None = review_date
        self.round_number = 0
        self.answers: dict[str, Answer] = {}
        self.advance_answers: dict[str, Answer] = {}
        self.objections: list[Objection] = []
        self.integrations: list[IntegrationRecord] = []
        self.rounds: list[RoundRecord] = []
        self.measures: list[str] = []
        # Linked circles whose consent this also needs, by reference (federated consent).
        self.asked_circles: list[str] = []

    # Guards.

    @property
    def is_final(self) -> bool:
        return self.stage in FINAL_STAGES

    def open_objections(self) -> list[Objection]:
        return [o for o in self.objections if o.is_open]

    def check_circle(self, circle: Circle) -> None:
        if circle.id != self.circle_id:
            raise InvalidRequest("That belongs to another circle")
        check_open(circle)

    def check_stage(self, *stages: str, doing: str) -> None:
        if self.stage not in stages:
            raise WrongStage(f"Cannot {doing} while it is {self.stage.replace('_', ' ')}")

    def check_not_final(self, doing: str) -> None:
        if self.is_final:
            raise WrongStage(f"Cannot {doing}: it is already {self.stage.replace('_', ' ')}")

    def _check_before_deadline(self, now: datetime) -> None:
        if self.mode == Mode.ASYNC and self.deadline is not None and now > self.deadline:
            raise WrongStage("The deadline for this round has passed")

    def _check_by_consent(self) -> None:
        if self.method != DecisionMethod.CONSENT:
            raise WrongStage(
                "The circle's rules decide this by formal vote; record the vote's result instead"
            )

    def _check_may_answer(
        self, circle: Circle, by: str, now: datetime, *, changing: bool = False
    ) -> None:
        """Refuse an answer (or, `changing`, a change of answer) that the round cannot take."""
        self.check_circle(circle)
        doing = "change an answer" if changing else "answer the consent round"
        self.check_stage(Stage.CONSENT_ROUND, doing=doing)
        self._check_by_consent()
        self._check_before_deadline(now)
        check_full_participant(
            circle, by, "consent or object; learning participants and guests speak, not block"
        )
        if changing and by not in self.answers:
            raise WrongStage("You have not answered in this round yet; consent or object instead")
        if not changing and by in self.answers:
            raise WrongStage("You have already answered in this round; change your answer instead")

    # The consent round.

    def open_consent_round(self, circle: Circle, by: str, now: datetime) -> None:
        self.check_circle(circle)
        check_facilitator(circle, by, "open the consent round")
        self.check_stage(*self.ROUND_OPENS_FROM, Stage.INTEGRATING, doing="open a consent round")
        self._check_before_deadline(now)
        unresolved = self.open_objections()
        if unresolved:
            numbers = ", ".join(str(o.number) for o in unresolved)
            raise WrongStage(f"Integrate objection {numbers} before the consent round repeats")
        self._round_opened()

    @event("ConsentRoundOpened")
    def _round_opened(self) -> None:
        self.stage = Stage.CONSENT_ROUND
        self.round_number += 1
        self.answers = {}
        if self.round_number == 1:
            # Answers given in advance count in the first round, objections included.
            for answer in self.advance_answers.values():
                self.answers[answer.person_id] = answer
                if not answer.consents:
                    self.objections.append(
                        Objection(len(self.objections) + 1, answer.person_id, answer.text, 1)
                    )

    def answer_in_advance(self, circle: Circle, by: str, consents: bool, text: str = "") -> None:
        """Record the answer of someone who will be absent, where the circle's policy allows."""
        self.check_circle(circle)
        self.check_stage(*self.ADVANCE_STAGES, doing="answer in advance")
        if circle.rules.absentee_policy != AbsenteePolicy.REACTED_IN_ADVANCE:
            raise NotPermitted("This circle's absentee policy does not take answers in advance")
        check_full_participant(circle, by, "consent or object")
        if not consents:
            required_text(text, "An objection needs its argument")
        self._answered_in_advance(by, consents, text.strip())

    @event("AnsweredInAdvance")
    def _answered_in_advance(self, person_id: str, consents: bool, text: str) -> None:
        self.advance_answers[person_id] = Answer(person_id, consents, text, in_advance=True)

    def consent(self, circle: Circle, by: str, now: datetime, concern: str = "") -> None:
        """Consent: "I can live with it". A concern may be recorded; it does not block."""
        self._check_may_answer(circle, by, now)
        self._consented(by, concern.strip())

    @event("ConsentGiven")
    def _consented(self, person_id: str, concern: str) -> None:
        self.answers[person_id] = Answer(person_id, True, concern)

    def raise_objection(self, circle: Circle, by: str, argument: str, now: datetime) -> int:
        self._check_may_answer(circle, by, now)
        argument = required_text(
            argument,
            "An objection needs its argument: how would this harm the circle's ability "
            "to reach its aim?",
        )
        self._objection_raised(by, argument)
        return self.objections[-1].number

    @event("ObjectionRaised")
    def _objection_raised(self, person_id: str, argument: str) -> None:
        self.answers[person_id] = Answer(person_id, False, argument)
        number = len(self.objections) + 1
        self.objections.append(Objection(number, person_id, argument, self.round_number))

    def record_circle_answer(
        self, circle: Circle, other: str, round_number: int, consents: bool, argument: str = ""
    ) -> None:
        """A linked circle answers this round, by its own consent process (signed by its node).

        Its objection blocks like a full participant's and is integrated the same way.
        """
        self.check_circle(circle)
        if other not in self.asked_circles:
            raise NotPermitted("That circle was not asked to consent to this")
        self.check_stage(Stage.CONSENT_ROUND, doing="take a circle's answer")
        if round_number != self.round_number:
            raise WrongStage(
                f"That answer is for consent round {round_number}; round {self.round_number} "
                "is open"
            )
        seat = circle_seat(other)
        if seat in self.answers:
            raise WrongStage("That circle has already answered in this round")
        if consents:
            self._consented(seat, argument.strip())
        else:
            self._objection_raised(
                seat, required_text(argument, "A circle's objection needs its argument")
            )

    def withdraw_objection(self, circle: Circle, by: str, number: int) -> None:
        self.check_circle(circle)
        check_can_act(circle, by)
        self.check_not_final("withdraw an objection")
        objection = self._objection(number)
        if objection.person_id != by:
            raise NotPermitted("Only the person who raised an objection can withdraw it")
        if not objection.is_open:
            raise WrongStage(f"Objection {number} is already resolved")
        self._objection_withdrawn(number)

    @event("ObjectionWithdrawn")
    def _objection_withdrawn(self, number: int) -> None:
        self.objections[number - 1].withdrawn = True

    def change_answer(
        self, circle: Circle, by: str, consents: bool, text: str, now: datetime
    ) -> int | None:
        """Change one's own answer before the round closes. To consent withdraws one's open
        objection of this round; to object raises a new objection, with its argument (returns
        its number). Someone who has not answered yet answers instead."""
        self._check_may_answer(circle, by, now, changing=True)
        if consents == self.answers[by].consents and (consents or self._objecting(by)):
            raise InvalidRequest(
                "That is your answer already" if consents else "Your objection already stands"
            )
        if not consents:
            text = required_text(text, "An objection needs its argument")
        self._answer_changed(by, consents, text.strip())
        return None if consents else self.objections[-1].number

    @event("AnswerChanged")
    def _answer_changed(self, person_id: str, consents: bool, text: str) -> None:
        # Answered in the round itself now, even if first given in advance.
        self.answers[person_id] = Answer(person_id, consents, text)
        if consents:
            for objection in self._objecting(person_id):
                objection.withdrawn = True
        else:
            number = len(self.objections) + 1
            self.objections.append(Objection(number, person_id, text, self.round_number))

    def _objecting(self, person_id: str) -> list[Objection]:
        """The person's objections of the current round that still stand."""
        return [
            o
            for o in self.objections
            if o.person_id == person_id and o.round == self.round_number and o.is_open
        ]

    def close_consent_round(self, circle: Circle, by: str, now: datetime) -> str:
        """Close the round; returns the stage it leads to (consented, integrating, lapsed)."""
        self.check_circle(circle)
        self.check_stage(Stage.CONSENT_ROUND, doing="close the consent round")
        self._check_by_consent()
        check_facilitator(circle, by, "close the consent round")
        return self._close(circle, now)

    def close_at_deadline(self, circle: Circle, now: datetime) -> str:
        """The calendar closes an asynchronous round whose deadline has come, as the rules say,
        without anyone asking; returns the stage it leads to."""
        self.check_circle(circle)
        self.check_stage(Stage.CONSENT_ROUND, doing="close the consent round")
        self._check_by_consent()
        if self.mode != Mode.ASYNC or self.deadline is None or now < self.deadline:
            raise WrongStage("Only an asynchronous round whose deadline has come closes by itself")
        return self._close(circle, now)

    def _close(self, circle: Circle, now: datetime) -> str:
        record = closing_record(circle, self, now)  # WrongStage while the rules keep it open
        self._round_closed(record)
        return record.outcome

    @event("ConsentRoundClosed")
    def _round_closed(self, record: RoundRecord) -> None:
        self.rounds.append(record)
        self.stage = record.outcome

    # Integration of objections.

    def integrate(
        self,
        circle: Circle,
        by: str,
        how: str,
        text: str,
        objections: list[int],
        review_date: date | None = None,
    ) -> None:
        """Integrate objections by amending, shortening the term or adding a measure."""
        self.check_circle(circle)
        self.check_stage(Stage.INTEGRATING, doing="integrate objections")
        if check_can_act(circle, by).level == Level.GUEST:
            # Integrating changes what is decided (the text, its term, its measures): guests
            # take part in the rounds but do not propose, amend or nominate.
            raise NotPermitted(
                "Guests take part in the rounds; full and learning participants integrate "
                "objections"
            )
        how = choice(Integration, how, "way to integrate an objection")
        if not objections:
            raise InvalidRequest("Name the objection(s) this integrates")
        for number in objections:
            if not self._objection(number).is_open:
                raise WrongStage(f"Objection {number} is already resolved")
        text = required_text(text, "Say how the objection is integrated")
        if how == Integration.SHORTEN_TERM:
            if review_date is None:
                raise InvalidRequest("Shortening the term needs the new, earlier review date")
            if self.review_date is not None and review_date >= self.review_date:
                raise InvalidRequest("A shortened term must end before the current review date")
        record = IntegrationRecord(len(self.integrations) + 1, how, text, sorted(objections), by)
        self._integrated(record, review_date)

    @event("ObjectionsIntegrated")
    def _integrated(self, record: IntegrationRecord, review_date: date | None) -> None:
        self.integrations.append(record)
        for number in record.objections:
            self.objections[number - 1].resolved_by = record.number
        if record.how == Integration.AMEND:
            self._amend(record.text)
        elif record.how == Integration.SHORTEN_TERM:
            self.review_date = review_date
        else:
            self.measures.append(record.text)

    def _amend(self, text: str) -> None:
        """Apply an amendment; subclasses decide what it changes."""

    # Ways a process ends without consent.

    def escalate(self, circle: Circle, by: str, reason: str) -> None:
        """Deadlock: the facilitator passes the decision to the broader circle."""
        self.check_circle(circle)
        self.check_stage(Stage.CONSENT_ROUND, Stage.INTEGRATING, doing="escalate")
        check_wears(circle, by, FACILITATOR, "pass a decision to the broader circle")
        if not circle.parent:
            raise WrongStage("This circle has no broader circle to pass the decision to")
        self._escalated(circle.parent, required_text(reason, "Say why the circle is stuck"))

    @event("Escalated")
    def _escalated(self, to: str, reason: str) -> None:
        self.stage = Stage.ESCALATED

    def withdraw(self, circle: Circle, by: str) -> None:
        self.check_circle(circle)
        check_can_act(circle, by)
        self.check_not_final("withdraw it")
        if by != self.opened_by:
            check_facilitator(circle, by, "withdraw someone else's proposal")
        self._withdrawn(by)

    @event("Withdrawn")
    def _withdrawn(self, by: str) -> None:
        self.stage = Stage.WITHDRAWN

    def lapse(self, now: datetime) -> None:
        """An asynchronous process whose deadline passed without a decision lapses."""
        self.check_not_final("let it lapse")
        if self.mode != Mode.ASYNC or self.deadline is None or now <= self.deadline:
            raise WrongStage("Only an asynchronous process past its deadline lapses")
        if self.stage == Stage.CONSENT_ROUND:
            raise WrongStage(
                "A consent round past its deadline is closed as the rules say (quorum, "
                "objections, absentee policy); it does not simply lapse"
            )
        self._lapsed()

    @event("Lapsed")
    def _lapsed(self) -> None:
        self.stage = Stage.LAPSED

    def _objection(self, number: int) -> Objection:
        if not 1 <= number <= len(self.objections):
            raise InvalidRequest(f"There is no objection {number}")
        return self.objections[number - 1]


def check_deadline(mode: str, deadline: datetime | None, now: datetime) -> None:
    mode = choice(Mode, mode, "mode")
    if mode == Mode.ASYNC and deadline is None:
        raise InvalidRequest("An asynchronous decision needs a deadline")
    if deadline is not None and deadline <= now:
        raise InvalidRequest("The deadline must be in the future")
