"""How a consent round ends: its quorum, its blocking objections and the absentee policy, read
together when the facilitator closes the round or its deadline passes.

A round counts only when enough full participants took part: the quorum in the circle's rules
(by default half the full participants, rounded up). Asynchronously, taking part is answering;
in a meeting it is being there, so an answer given in advance by someone absent does not make
them present. Linked circles asked for their consent are not participants of this circle and
do not count; the seats of a double link are full participants, and do. A round below quorum
never closes as consented: it stays open, or at its deadline lapses with the reason recorded.
An objection still blocks, whoever else answered: it goes to integration either way.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from domain.circle import Circle
from domain.errors import WrongStage
from domain.records import Answer, Objection, RoundRecord
from domain.values import AbsenteePolicy, Mode, Stage


class OpenRound(Protocol):
    """What closing reads of a consent process (`ConsentProcess`) in its consent round."""

    mode: str
    deadline: datetime | None
    round_number: int
    answers: dict[str, Answer]
    objections: list[Objection]
    asked_circles: list[str]


@dataclass(frozen=True)
class Quorum:
    """Where a round stands against its quorum: how many full participants took part (answered,
    or are present in a meeting), how many are needed, and of how many."""

    taking_part: int
    needed: int
    full_participants: int

    @property
    def is_met(self) -> bool:
        return self.taking_part >= self.needed


def taking_part(circle: Circle, answers: Mapping[str, Answer], mode: str) -> list[str]:
    """The full participants who count towards the quorum: those who answered (in a meeting,
    in the round itself rather than in advance)."""
    present = mode != Mode.ASYNC
    return [
        person
        for person in circle.full_participants()
        if person in answers and not (present and answers[person].in_advance)
    ]


def quorum_of(circle: Circle, process: OpenRound) -> Quorum:
    full = len(circle.full_participants())
    return Quorum(
        len(taking_part(circle, process.answers, process.mode)), circle.rules.quorum(full), full
    )


def circle_seat(other: str) -> str:
    """How a linked circle's answer is keyed among a round's answers."""
    return f"circle:{other}"


def closing_record(circle: Circle, process: OpenRound, now: datetime) -> RoundRecord:
    """The record of the round as it closes now, with the stage it leads to (consented,
    integrating, lapsed) and, for a lapse, why; WrongStage (and nothing recorded) while the
    rules keep it open."""
    deadline = process.deadline
    past_deadline = process.mode == Mode.ASYNC and deadline is not None and now >= deadline
    unanswered = [c for c in process.asked_circles if circle_seat(c) not in process.answers]
    if unanswered and not past_deadline:
        raise WrongStage(
            f"Waiting for {len(unanswered)} linked circle(s) to answer by their own consent process"
        )
    full = [*circle.full_participants(), *map(circle_seat, process.asked_circles)]
    missing = sorted(set(full) - set(process.answers))
    blocking = [
        o.number for o in process.objections if o.round == process.round_number and o.is_open
    ]
    outcome, reason = _outcome(circle, process, missing, blocking, past_deadline)
    concerned = [a for a in process.answers.values() if a.consents and a.text]
    return RoundRecord(
        number=process.round_number,
        consents=sorted(p for p, a in process.answers.items() if a.consents),
        objections=blocking,
        concerns=[a.text for a in concerned],
        concerns_by=[a.person_id for a in concerned],
        missing=missing,
        outcome=outcome,
        reason=reason,
    )


def _outcome(
    circle: Circle,
    process: OpenRound,
    missing: list[str],
    blocking: list[int],
    past_deadline: bool,
) -> tuple[str, str]:
    """Where the round leads and why, in the order the rules are read: an objection blocks;
    below quorum nothing is consented; then the absentee policy says what silence means."""
    if blocking:
        return Stage.INTEGRATING, ""
    quorum = quorum_of(circle, process)
    if not quorum.is_met:
        if past_deadline:
            return Stage.LAPSED, below_quorum(quorum, process.mode)
        still = "until its deadline" if process.mode == Mode.ASYNC else "until the quorum is met"
        raise WrongStage(f"{below_quorum(quorum, process.mode)}; the round stays open {still}")
    if not missing:
        return Stage.CONSENTED, ""
    if process.mode == Mode.ASYNC and not past_deadline:
        raise WrongStage(
            f"The round is open until its deadline; {len(missing)} full participant(s) "
            "have not answered yet"
        )
    if circle.rules.absentee_policy == AbsenteePolicy.CONSENT_LATER:
        if process.mode == Mode.ASYNC:
            return Stage.LAPSED, (
                f"{len(missing)} full participant(s) did not answer by the deadline, and the "
                "absentee policy asks absentees to consent later"
            )
        raise WrongStage(
            f"{len(missing)} absent full participant(s) must consent afterwards before "
            "this is consented (absentee policy: consent later)"
        )
    return Stage.CONSENTED, ""


def below_quorum(quorum: Quorum, mode: str) -> str:
    """The sentence that says a round is below its quorum."""
    did = "answered" if mode == Mode.ASYNC else "took part in the meeting's round"
    return (
        f"Below quorum: {quorum.taking_part} of {quorum.full_participants} full participant(s) "
        f"{did}, and {quorum.needed} are needed"
    )
