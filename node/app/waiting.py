"""What waits for one person: the rounds, questions, minutes, terms, reviews, appeals, requests
and trial sessions that need them now, read from the records' listings (never the history).

Each item says what waits, on which record, its title, its deadline or due date, and why it is
this person's. The home page lists them, and email notices are built from them. Who answers
for the circle follows the domain's rules: the facilitator runs the process (closes rounds,
consents to minutes, records the circle's answer to an appeal, brings a linked circle's request
to the circle) and the secretary keeps the records (review dates, trial sessions); while nobody
wears one of those hats, any full participant does what it would.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum

from domain.appeal import Appeal, AppealStatus, Hearing, Role
from domain.circle import Circle
from domain.hats import FACILITATOR, LINK_HATS, SECRETARY
from domain.membership import check_can_act
from domain.records import HatTerm, Participant
from domain.relationships import Relationship
from domain.trials import sessions_agreed
from domain.values import ACTING, DecisionMethod, Level, MeetingStage, Membership, Stage
from node.app.records import CircleRecords

# How far ahead hat terms and reviews of decisions are listed before they fall due.
COMING_DUE_DAYS = 30


class Waiting(StrEnum):
    """What kind of thing waits."""

    CONSENT_ROUND = "consent_round"  # a round that needs their answer
    QUESTION = "question"  # questions asked of their proposal, unanswered
    MINUTES = "minutes"  # minutes recorded, waiting for the circle's consent
    HAT_TERM = "hat_term"  # a term of theirs whose review comes due
    REVIEW = "review"  # a decision whose review is due or comes due
    APPEAL = "appeal"  # an appeal waiting for the circle's answer
    CONSENT_REQUEST = "consent_request"  # a linked circle asks for the circle's consent
    SEAT_REQUEST = "seat_request"  # the co-op asks the seat they hold
    TRIAL_SESSION = "trial_session"  # someone on trial whose sessions are to be counted


@dataclass(frozen=True)
class WaitingItem:
    """One thing waiting for a person. `record` is the kind of record it is about (proposal,
    selection, meeting, hat, decision, appeal, circle, person) and `record_id` its id (a hat's
    id, a linked circle's reference, a person's id for those). A round has a `deadline` (a
    moment, None for one held in a meeting); terms and reviews a `due_on` date, in the circle's
    time zone."""

    what: Waiting
    record: str
    record_id: str
    title: str
    why: str
    deadline: datetime | None = None
    due_on: date | None = None

    @property
    def key(self) -> str:
        """What tells this item from the others waiting for the same person, and from the same
        item listed again later (a notice sent for it need not be sent twice): a new round of a
        process, or a new request of a linked circle, is a new item."""
        return f"{self.what}:{self.record}:{self.record_id}:{self.title}:{self.why}"


def waiting_for(records: CircleRecords, person_id: str) -> list[WaitingItem]:
    """Everything waiting for `person_id`, soonest first (those without a date last); nothing
    for someone who does not act in the circle."""
    if not records.is_founded:
        return []
    circle = records.peek_circle()
    participant = circle.participants.get(person_id)
    if participant is None or participant.status not in ACTING:
        return []
    today = records.today()
    horizon = today + timedelta(days=COMING_DUE_DAYS)
    runs_process = _acts_for(circle, person_id, FACILITATOR)
    keeps_records = _acts_for(circle, person_id, SECRETARY)
    items = [
        *_rounds(records, circle, participant),
        *_questions(records, person_id),
        *(_minutes(records) if runs_process else []),
        *_terms(records, circle, person_id, horizon),
        *_reviews(records, person_id, keeps_records, horizon),
        *(_appeals(records) if runs_process else []),
        *_requests(records, circle, person_id, runs_process),
        *(_trials(records, circle) if keeps_records else []),
    ]
    zone = records.time_zone()

    def when(item: WaitingItem) -> tuple[int, date]:
        if item.deadline is not None:
            return 0, item.deadline.astimezone(zone).date()
        if item.due_on is not None:
            return 0, item.due_on
        return 1, date.max

    return sorted(items, key=when)


def my_waiting(records: CircleRecords, by: str) -> list[WaitingItem]:
    """What waits for `by`, asked by themselves: refused to anyone who does not act in the
    circle (an applicant, someone who stepped back), with the domain's sentence."""
    check_can_act(records.peek_circle(), by)
    return waiting_for(records, by)


def unanswered_rounds(records: CircleRecords, person_id: str) -> set[str]:
    """The ids of the proposals and selections whose open round waits for `person_id`'s
    answer (the lists mark them)."""
    if not records.is_founded:
        return set()
    circle = records.peek_circle()
    participant = circle.participants.get(person_id)
    if participant is None or participant.status not in ACTING:
        return set()
    return {item.record_id for item in _rounds(records, circle, participant)}


def _acts_for(circle: Circle, person_id: str, hat_id: str) -> bool:
    """Whether the person does what `hat_id`'s wearer does: they wear it, or nobody does and
    they are a full participant (as domain/membership.py checks it)."""
    if circle.wearers(hat_id):
        return circle.wears(person_id, hat_id)
    return person_id in circle.full_participants()


def _rounds(records: CircleRecords, circle: Circle, participant: Participant) -> list[WaitingItem]:
    # Only full participants consent or object; a round the rules decide by formal vote waits
    # for the facilitator's record of the vote, not for answers.
    if participant.level != Level.FULL:
        return []
    person = participant.person_id
    items: list[WaitingItem] = []
    for proposal in records.list_proposals():
        if _needs_answer(proposal.stage, proposal.method, proposal.answers, person):
            items.append(
                WaitingItem(
                    Waiting.CONSENT_ROUND,
                    "proposal",
                    str(proposal.id),
                    proposal.title,
                    f"Round {proposal.round_number} needs your consent or objection",
                    deadline=proposal.deadline,
                )
            )
    for selection in records.list_selections():
        if _needs_answer(selection.stage, selection.method, selection.answers, person):
            hat = circle.hats.get(selection.hat_id)
            name = hat.name if hat is not None else selection.hat_id
            items.append(
                WaitingItem(
                    Waiting.CONSENT_ROUND,
                    "selection",
                    str(selection.id),
                    f"Selection for the {name.lower()} hat",
                    f"Round {selection.round_number} needs your consent or objection",
                    deadline=selection.deadline,
                )
            )
    return items


def _needs_answer(stage: str, method: str, answers: Collection[str], person: str) -> bool:
    return (
        stage == Stage.CONSENT_ROUND and method == DecisionMethod.CONSENT and person not in answers
    )


def _questions(records: CircleRecords, person_id: str) -> list[WaitingItem]:
    items: list[WaitingItem] = []
    for proposal in records.list_proposals():
        if proposal.proposer != person_id or proposal.stage != Stage.CLARIFYING:
            continue
        open_questions = [q for q in proposal.questions if q.answer is None]
        if open_questions:
            count = len(open_questions)
            items.append(
                WaitingItem(
                    Waiting.QUESTION,
                    "proposal",
                    str(proposal.id),
                    proposal.title,
                    f"{count} question{'s' if count > 1 else ''} asked of your proposal "
                    f"{'wait' if count > 1 else 'waits'} for your answer",
                )
            )
    return items


def _minutes(records: CircleRecords) -> list[WaitingItem]:
    return [
        WaitingItem(
            Waiting.MINUTES,
            "meeting",
            str(meeting.id),
            meeting.title,
            "Its minutes are recorded and wait for the circle's consent, which you record",
            due_on=records.local(meeting.when).date(),
        )
        for meeting in records.list_meetings()
        if meeting.stage == MeetingStage.MINUTES_RECORDED
    ]


def _terms(
    records: CircleRecords, circle: Circle, person_id: str, horizon: date
) -> list[WaitingItem]:
    def title(term: HatTerm) -> str:
        hat = circle.hats.get(term.hat_id)
        return f"Your {(hat.name if hat is not None else term.hat_id).lower()} hat"

    return [
        WaitingItem(
            Waiting.HAT_TERM,
            "hat",
            term.hat_id,
            title(term),
            "Your term comes up for review: the circle selects again, or you take it off",
            due_on=term.review_date,
        )
        for term in circle.terms
        if term.person_id == person_id and term.review_date <= horizon
    ]


def _reviews(
    records: CircleRecords, person_id: str, keeps_records: bool, horizon: date
) -> list[WaitingItem]:
    # The secretary keeps review dates; whoever took the decision (its proposer, or the hat
    # wearer who took an everyday decision) is told too.
    items: list[WaitingItem] = []
    for decision in records.list_decisions():
        if not decision.in_force or decision.review_date > horizon:
            continue
        took_it = decision.taken_by == person_id
        if not (keeps_records or took_it):
            continue
        why = "You took this decision" if took_it else "You keep the circle's review dates"
        items.append(
            WaitingItem(
                Waiting.REVIEW,
                "decision",
                str(decision.id),
                decision.title,
                f"{why}: its review is due, to renew, amend or revoke it",
                due_on=decision.review_date,
            )
        )
    return items


def _appeals(records: CircleRecords) -> list[WaitingItem]:
    items: list[WaitingItem] = []
    for appeal in records.all("appeal", Appeal):
        if not _heard_here(appeal):
            continue
        items.append(
            WaitingItem(
                Waiting.APPEAL,
                "appeal",
                str(appeal.id),
                appeal.title,
                "The circle hears this appeal; you record its answer",
            )
        )
    return items


def _heard_here(appeal: Appeal) -> bool:
    if appeal.status != AppealStatus.BEING_HEARD:
        return False
    return appeal.role == Role.REFERRED or (
        appeal.role == Role.AGAINST_US and appeal.hearing == Hearing.CIRCLE
    )


def _requests(
    records: CircleRecords, circle: Circle, person_id: str, runs_process: bool
) -> list[WaitingItem]:
    items: list[WaitingItem] = []
    seats = [hat for hat in LINK_HATS if circle.wears(person_id, hat)]
    for rel in records.all("relationship", Relationship):
        name = rel.name or rel.other
        if runs_process:
            items.extend(
                WaitingItem(
                    Waiting.CONSENT_REQUEST,
                    "circle",
                    rel.other,
                    str(request["title"]),
                    f"{name} asks for this circle's consent; bring it to the circle",
                )
                for request in rel.consent_requests.values()
            )
        items.extend(
            WaitingItem(
                Waiting.SEAT_REQUEST,
                "circle",
                rel.other,
                str(request["title"]),
                f"{name} asks for the answer of the {request['seat']} seat, which you hold",
            )
            for request in rel.seat_requests.values()
            if request["seat"] in seats
        )
    return items


def _trials(records: CircleRecords, circle: Circle) -> list[WaitingItem]:
    items: list[WaitingItem] = []
    for participant in circle.participants.values():
        if participant.status != Membership.TRIAL:
            continue
        agreed = sessions_agreed(participant)
        if participant.sessions_held >= agreed:
            why = f"All {agreed} sessions of their trial were held: admit them, or end the trial"
        else:
            why = f"{participant.sessions_held} of {agreed} trial sessions counted so far"
        items.append(
            WaitingItem(
                Waiting.TRIAL_SESSION,
                "person",
                participant.person_id,
                f"Trial of {records.person_name(participant.person_id)}",
                why,
            )
        )
    return items
