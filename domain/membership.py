"""Taking part in a circle: who may act in it, decide in it, wear its hats, keep its records or
run its process. These are the guards that the circle's commands, and those of the processes it
decides by, check before anything changes.

They read a circle as `CircleRecords`, defined here, so that this module sits below the
aggregates that use it (`Circle` among them) and imports none of them.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from typing import Protocol
from uuid import UUID

from domain.errors import InvalidRequest, NotFound, NotPermitted, WrongStage
from domain.hats import FACILITATOR, SECRETARY, check_wearer, find_hat, wearers, wears, worn_by
from domain.records import HatDefinition, HatTerm, Participant
from domain.values import ACTING, GONE, CircleStatus, Level, Membership


class CircleRecords(Protocol):
    """What the guards read of a circle (a `Circle`): its id, status, participants, hats, and
    who wears which hat for which term."""

    @property
    def id(self) -> UUID: ...

    @property
    def status(self) -> str: ...

    @property
    def participants(self) -> Mapping[str, Participant]: ...

    @property
    def hats(self) -> Mapping[str, HatDefinition]: ...

    @property
    def terms(self) -> Sequence[HatTerm]: ...


def find_participant(participants: Mapping[str, Participant], person_id: str) -> Participant:
    try:
        return participants[person_id]
    except KeyError:
        raise NotFound("This person is not a participant of the circle") from None


def acting(participants: Mapping[str, Participant], *, full: bool = False) -> list[str]:
    """Who acts in the circle (only its full participants, with `full`)."""
    return [
        p.person_id
        for p in participants.values()
        if p.status in ACTING and (not full or p.level == Level.FULL)
    ]


def check_open(circle: CircleRecords) -> None:
    if circle.status == CircleStatus.DISSOLVED:
        raise WrongStage("This circle is dissolved; its records are kept but nothing new happens")


def check_can_act(circle: CircleRecords, person_id: str) -> Participant:
    check_open(circle)
    participant = find_participant(circle.participants, person_id)
    if participant.status in ACTING:
        return participant
    if participant.status in GONE:
        raise NotPermitted("This person has left the circle and can no longer act in it")
    if participant.status == Membership.STEPPED_BACK:
        raise NotPermitted("This person has stepped back; they can act again once they return")
    raise NotPermitted("This person is not yet an active participant of the circle")


def check_full_participant(circle: CircleRecords, person_id: str, doing: str) -> Participant:
    participant = check_can_act(circle, person_id)
    if participant.level != Level.FULL:
        raise NotPermitted(f"Only full participants can {doing}")
    return participant


def check_wears(circle: CircleRecords, person_id: str, hat_id: str, doing: str) -> None:
    check_can_act(circle, person_id)
    if not wears(circle.terms, person_id, hat_id):
        raise NotPermitted(f"Only the {find_hat(circle.hats, hat_id).name.lower()} can {doing}")


def check_facilitator(circle: CircleRecords, person_id: str, doing: str) -> None:
    """The facilitator runs the process; while nobody wears that hat, any full participant."""
    if wearers(circle.terms, FACILITATOR):
        check_wears(circle, person_id, FACILITATOR, doing)
    else:
        check_full_participant(circle, person_id, doing)


def check_records_keeper(circle: CircleRecords, person_id: str, doing: str) -> None:
    """The secretary keeps the records; while nobody wears that hat, any full participant."""
    if wearers(circle.terms, SECRETARY):
        check_wears(circle, person_id, SECRETARY, doing)
    else:
        check_full_participant(circle, person_id, doing)


def check_self_or_records_keeper(
    circle: CircleRecords, by: str, person_id: str, doing: str
) -> None:
    """Someone does this for themselves; for someone else, the records keeper records it."""
    if by != person_id:
        check_records_keeper(circle, by, doing)


def check_gone(circle: CircleRecords, person_id: str, refusal: str) -> None:
    """Refuse, with `refusal`, unless this person has left the circle (or was removed, or
    declined)."""
    if find_participant(circle.participants, person_id).status not in GONE:
        raise WrongStage(refusal)


def check_can_erase(circle: CircleRecords, by: str, person_id: str) -> None:
    """The records keeper erases the personal data of someone who has left."""
    check_records_keeper(circle, by, "erase someone's personal data")
    check_gone(circle, person_id, "Personal data is erased once someone has left the circle")


def check_can_wear(
    circle: CircleRecords, hat_id: str, person_id: str, *, again: bool = False
) -> None:
    """Refuse someone who may not wear the hat; `again` allows its current wearer
    (re-selected for a new term)."""
    hat = find_hat(circle.hats, hat_id)
    participant = check_can_act(circle, person_id)
    check_wearer(hat, participant, worn_by(circle.terms, person_id), again=again)


def check_newcomer(circle: CircleRecords, person_id: str) -> None:
    """Refuse to take in someone who is part of the circle already (not someone who left)."""
    existing = circle.participants.get(person_id)
    if existing is not None and existing.status not in GONE:
        raise InvalidRequest("This person is already part of the circle")


def check_membership(
    circle: CircleRecords, person_id: str, allowed: Collection[str], doing: str
) -> None:
    """Refuse someone whose membership is not in one of the `allowed` stages."""
    check_open(circle)
    participant = find_participant(circle.participants, person_id)
    if participant.status not in allowed:
        status = participant.status.replace("_", " ")
        raise WrongStage(f"Someone who is {status} cannot {doing}")
