"""Proposals through the full consent process, from draft to consented (or not)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from uuid import UUID

from eventsourcing.domain import event

from domain.circle import Circle
from domain.consent import ConsentProcess, check_deadline, circle_seat
from domain.errors import InvalidRequest, NotPermitted, WrongStage
from domain.formation import mission_link_of
from domain.inputs import choice, required_text
from domain.long_term import check_long_term_answered, check_long_term_consented, long_term_circle
from domain.membership import check_can_act, check_facilitator, check_records_keeper
from domain.plan import check_plan_subject
from domain.records import Question, Reaction, VoteResult
from domain.rules import local_date, rules_from_subject
from domain.values import DecisionMethod, Level, Mode, Purpose, Stage, SupportKind

# What each kind of proposal must name, besides its title and text.
SUBJECT_KEYS: dict[str, tuple[str, ...]] = {
    Purpose.ADOPT_POLICY: (),
    Purpose.AMEND_DECISION: ("decision_id",),
    Purpose.RENEW_DECISION: ("decision_id",),
    Purpose.REVOKE_DECISION: ("decision_id",),
    Purpose.CHANGE_AIM: ("aim",),
    Purpose.CHANGE_DOMAIN: ("domain",),
    Purpose.CHANGE_RULES: (),
    Purpose.REMOVE_PARTICIPANT: ("person_id",),
    Purpose.INCORPORATE: ("registered_name", "number", "registry"),
    Purpose.GO_INDEPENDENT: (),
    Purpose.DISSOLVE: (),
    Purpose.REQUEST_PEERING: ("circle",),
    Purpose.ACCEPT_PEERING: ("circle",),
    Purpose.END_PEERING: ("circle",),
    Purpose.ADMIT_TO_NETWORK: ("circle",),
    Purpose.APPLY_TO_COOP: ("circle",),
    Purpose.ADMIT_MEMBER: ("circle",),
    Purpose.PROPOSE_LEADER: ("circle", "person"),
    Purpose.AGREE_LEADER: ("circle", "person"),
    Purpose.ANSWER_CONSENT_REQUEST: ("circle", "request"),
    Purpose.REQUEST_SUPPORT: ("kind",),
    Purpose.OFFER_SUPPORT: ("circle", "request"),
    Purpose.ACCEPT_OFFER: ("request", "offer"),
    Purpose.ADOPT_PLAN: ("kind", "period_start", "period_end"),
    Purpose.REVISE_PLAN: ("plan_id",),
}


class Proposal(ConsentProcess):
    """A proposal: presented, questions, reactions, consent rounds, integration."""

    ROUND_OPENS_FROM = frozenset({Stage.REACTIONS})
    # Read by proposals stored (or snapshotted) before long-term decisions: none.
    long_term_circle: str | None = None
    ADVANCE_STAGES = frozenset({Stage.PRESENTED, Stage.CLARIFYING, Stage.REACTIONS})

    @classmethod
    def draft(
        cls,
        circle: Circle,
        by: str,
        title: str,
        text: str,
        now: datetime,
        *,
        purpose: str = Purpose.ADOPT_POLICY,
        subject: dict[str, Any] | None = None,
        mode: str = Mode.MEETING,
        deadline: datetime | None = None,
        review_date: date | None = None,
        topic: str | None = None,
        ask_circles: list[str] | None = None,
        decision_kind: str | None = None,
        this_circle: str | None = None,
        plan_period_end: date | None = None,
    ) -> Proposal:
        """Draft a proposal. `ask_circles` names linked circles whose consent it also needs
        (federated consent): each answers by its own consent process. A long-term decision
        (domain/long_term.py) also asks the circle the rules name for it, whoever drafts it;
        `decision_kind` is the kind of the decision an amendment or renewal is about;
        `this_circle` the circle's own reference (rules naming it mean it decides itself);
        `plan_period_end` the period's end a revision gives the plan it revises. Dates are
        read in the circle's time zone."""
        participant = check_can_act(circle, by)
        if participant.level == Level.GUEST:
            raise NotPermitted("Guests take part in rounds; full and learning participants propose")
        purpose = choice(Purpose, purpose, "proposal purpose")
        subject = dict(subject or {})
        for key in SUBJECT_KEYS[purpose]:
            if not str(subject.get(key) or "").strip():
                raise InvalidRequest(f"A proposal to {purpose.replace('_', ' ')} must name {key}")
        if purpose == Purpose.CHANGE_RULES:
            rules_from_subject(circle.rules, subject)
        if purpose == Purpose.CHANGE_AIM:
            mission_link_of(subject)
        if purpose == Purpose.REMOVE_PARTICIPANT:
            circle.participant(str(subject["person_id"]))
        if purpose == Purpose.ANSWER_CONSENT_REQUEST:
            if not isinstance(subject.get("consents"), bool):
                raise InvalidRequest("An answer to a consent request says whether we consent")
            if not subject["consents"]:
                required_text(
                    str(subject.get("argument") or ""),
                    "An objection to another circle's proposal needs its argument",
                )
        if purpose == Purpose.REQUEST_SUPPORT:
            choice(SupportKind, str(subject["kind"]), "kind of support")
        today = local_date(circle.rules, now)
        terms = check_plan_subject(purpose, subject, review_date, today)
        check_deadline(mode, deadline, now)
        if review_date is not None and review_date <= today:
            raise InvalidRequest("The review date must be in the future")
        long_term = long_term_circle(
            circle.rules,
            purpose,
            today,
            review_date=review_date,
            topic=topic,
            subject=subject,
            decision_kind=decision_kind,
            period_end=terms.period_end if terms is not None else plan_period_end,
            this_circle=this_circle,
        )
        asked = sorted(
            {ref.strip() for ref in [*(ask_circles or []), long_term or ""] if ref.strip()}
        )
        return cls(
            circle_id=circle.id,
            proposer=by,
            title=required_text(title, "A proposal needs a title"),
            text=required_text(text, "A proposal needs its text"),
            purpose=purpose,
            subject=subject,
            mode=mode,
            deadline=deadline,
            review_date=review_date,
            topic=topic,
            method=circle.rules.method_for(topic),
            ask_circles=asked,
            long_term_circle=long_term,
        )

    @event("Drafted")
    def __init__(
        self,
        circle_id: UUID,
        proposer: str,
        title: str,
        text: str,
        purpose: str,
        subject: dict[str, Any],
        mode: str,
        deadline: datetime | None,
        review_date: date | None,
        topic: str | None,
        method: str,
        ask_circles: list[str] | None = None,
        long_term_circle: str | None = None,
    ) -> None:
        self.circle_id = circle_id
        self.title = title
        self.text = text
        self.purpose = purpose
        self.subject = subject
        self.topic = topic
        self.stage = Stage.DRAFT
        self.questions: list[Question] = []
        self.reactions: list[Reaction] = []
        self.amendments: list[str] = []
        self.vote: VoteResult | None = None
        self._init_consent(proposer, mode, deadline, review_date, method)
        self.asked_circles = list(ask_circles or [])
        # The circle this long-term decision belongs to, asked with the others (None: the
        # circle decides it itself). Proposals drafted before it read None.
        self.long_term_circle = long_term_circle

    @property
    def proposer(self) -> str:
        return self.opened_by

    def present(self, circle: Circle, by: str) -> None:
        self.check_circle(circle)
        check_can_act(circle, by)
        if by != self.proposer:
            raise NotPermitted("Only the proposer presents their proposal")
        self.check_stage(Stage.DRAFT, doing="present it")
        self._presented()

    @event("Presented")
    def _presented(self) -> None:
        self.stage = Stage.PRESENTED

    def ask_question(self, circle: Circle, by: str, question: str) -> int:
        """Clarifying questions: anyone in the circle, guests included, may ask."""
        self.check_circle(circle)
        check_can_act(circle, by)
        self.check_stage(Stage.PRESENTED, Stage.CLARIFYING, doing="ask a clarifying question")
        self._question_asked(by, required_text(question, "A question needs its words"))
        return len(self.questions)

    @event("QuestionAsked")
    def _question_asked(self, person_id: str, text: str) -> None:
        self.stage = Stage.CLARIFYING
        self.questions.append(Question(len(self.questions) + 1, person_id, text))

    def answer_question(self, circle: Circle, by: str, number: int, answer: str) -> None:
        self.check_circle(circle)
        if by != self.proposer:
            check_facilitator(circle, by, "answer for the proposer")
        check_can_act(circle, by)
        self.check_stage(Stage.CLARIFYING, doing="answer a question")
        if not 1 <= number <= len(self.questions):
            raise InvalidRequest(f"There is no question {number}")
        self._question_answered(number, required_text(answer, "An answer needs its words"))

    @event("QuestionAnswered")
    def _question_answered(self, number: int, answer: str) -> None:
        self.questions[number - 1].answer = answer

    def open_reactions(self, circle: Circle, by: str) -> None:
        self.check_circle(circle)
        check_facilitator(circle, by, "open the reaction round")
        self.check_stage(Stage.PRESENTED, Stage.CLARIFYING, doing="open the reaction round")
        unanswered = [q.number for q in self.questions if q.answer is None]
        if unanswered:
            raise WrongStage(f"Answer question {unanswered[0]} before the reaction round")
        self._reactions_opened()

    @event("ReactionRoundOpened")
    def _reactions_opened(self) -> None:
        self.stage = Stage.REACTIONS

    def react(self, circle: Circle, by: str, reaction: str) -> None:
        self.check_circle(circle)
        check_can_act(circle, by)
        self.check_stage(Stage.REACTIONS, doing="react")
        self._reacted(by, required_text(reaction, "A reaction needs its words"))

    @event("Reacted")
    def _reacted(self, person_id: str, text: str) -> None:
        self.reactions.append(Reaction(person_id, text))

    def amend(self, circle: Circle, by: str, text: str) -> None:
        """The proposer may amend after questions and reactions, before the consent round."""
        self.check_circle(circle)
        check_can_act(circle, by)
        if by != self.proposer:
            raise NotPermitted("Only the proposer amends a proposal before the consent round")
        self.check_stage(
            Stage.PRESENTED, Stage.CLARIFYING, Stage.REACTIONS, doing="amend it before consent"
        )
        self._amended(required_text(text, "An amended proposal needs its text"))

    @event("Amended")
    def _amended(self, text: str) -> None:
        self._amend(text)

    def _amend(self, text: str) -> None:
        self.amendments.append(self.text)
        self.text = text

    def _close(self, circle: Circle, now: datetime) -> str:
        """Close the round, by the facilitator or at its deadline (see `ConsentProcess`): a
        long-term decision's round closes once the circle it belongs to has answered, unless
        objections already send it back to integration."""
        blocking = [o for o in self.objections if o.round == self.round_number and o.is_open]
        if not blocking:
            check_long_term_answered(self.long_term_circle, self.answers, self._long_term_seat)
        return super()._close(circle, now)

    def record_vote(
        self, circle: Circle, by: str, in_favour: int, against: int, abstentions: int
    ) -> str:
        """Where the circle's rules require a formal vote, the secretary records its result."""
        self.check_circle(circle)
        check_records_keeper(circle, by, "record a vote's result")
        self.check_stage(Stage.CONSENT_ROUND, doing="record a vote")
        if self.method != DecisionMethod.FORMAL_VOTE:
            raise WrongStage("This proposal is decided by consent, not by vote")
        if min(in_favour, against, abstentions) < 0:
            raise InvalidRequest("Vote counts cannot be negative")
        # A vote counts only with its quorum, as a consent round does; those who vote may be
        # more than the circle's full participants (a members' meeting), never fewer.
        needed = circle.rules.quorum(len(circle.full_participants()))
        cast = in_favour + against + abstentions
        if cast < needed:
            raise WrongStage(
                f"Below quorum: {cast} vote(s) cast, and {needed} are needed; the vote stays open"
            )
        outcome = Stage.CONSENTED if in_favour > against else Stage.NOT_CARRIED
        if outcome == Stage.CONSENTED:
            check_long_term_consented(self.long_term_circle, self.answers, self._long_term_seat)
        self._vote_recorded(VoteResult(in_favour, against, abstentions), outcome)
        return outcome

    @property
    def _long_term_seat(self) -> str:
        return circle_seat(self.long_term_circle or "")

    @event("VoteRecorded")
    def _vote_recorded(self, result: VoteResult, outcome: str) -> None:
        self.vote = result
        self.stage = outcome
