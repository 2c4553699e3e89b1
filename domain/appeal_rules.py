"""The rules of appeals (domain/appeal.py): the steps an appeal goes through, who took part in
making a decision (and so may not appeal it), who may appeal, who records the circle's answer,
and which circles may take an appeal to a circle. Other circles are referred to by reference
(their node id)."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from enum import StrEnum
from uuid import NAMESPACE_URL, UUID, uuid5

from domain.circle import Circle
from domain.decision import Decision
from domain.errors import InvalidRequest, NotPermitted, WrongStage
from domain.hats import FACILITATOR, SECRETARY, wearers
from domain.membership import (
    check_can_act,
    check_facilitator,
    check_full_participant,
    check_open,
    check_records_keeper,
)
from domain.proposal import Proposal
from domain.rules import ConsentDecision
from domain.values import CoopLink, DecisionKind, Level, Peering, Purpose, Stage

APPELLANTS_NEEDED = 3


class Role(StrEnum):
    AGAINST_US = "against_us"  # against a decision of this circle
    REFERRED = "referred_to_us"  # another circle took it to this one to hear
    SENT = "sent"  # someone of this circle appealed another circle's decision


class Hearing(StrEnum):
    """Who hears an appeal, in the order it goes."""

    CIRCLE = "circle"
    CARE_AND_COUNSEL = "care_and_counsel"
    BROADER_CIRCLE = "broader_circle"


NEXT_HEARING = {
    Hearing.CIRCLE: Hearing.CARE_AND_COUNSEL,
    Hearing.CARE_AND_COUNSEL: Hearing.BROADER_CIRCLE,
}
HEARD_BY = {
    Hearing.CIRCLE: "the circle",
    Hearing.CARE_AND_COUNSEL: "the care and counsel group",
    Hearing.BROADER_CIRCLE: "the broader circle",
}


class AppealStatus(StrEnum):
    GATHERING = "gathering"  # fewer than three appellants
    BEING_HEARD = "being_heard"
    UPHELD = "upheld"
    NOT_UPHELD = "not_upheld"
    SENT = "sent"
    WITHDRAWN = "withdrawn"  # an appellant withdrew it before a final answer


def referred_appeal_id(circle_id: UUID, origin: str, origin_id: str, hearing: str) -> UUID:
    return uuid5(NAMESPACE_URL, f"circle-node:appeal:{circle_id}:{origin}:{origin_id}:{hearing}")


def is_linked(peering: str, coop: str) -> bool:
    """Whether two circles are linked: they peer, or one is part of the other."""
    return peering == Peering.PEERS or coop in (CoopLink.MEMBER_OF, CoopLink.HAS_MEMBER)


# A relationship as the other side records it: "we are part of them" there is "they are part
# of us" here.
_SEEN_FROM_THE_OTHER_SIDE = {
    CoopLink.MEMBER_OF: CoopLink.HAS_MEMBER,
    CoopLink.HAS_MEMBER: CoopLink.MEMBER_OF,
}


def may_hear(hearing: str, peering: str, coop: str) -> bool:
    """The one rule of who hears an appeal taken further, from the side of the circle that takes
    it (its relationship with the other): a broader circle is a co-op the circle is part of; a
    care and counsel group, any circle linked to it."""
    if hearing == Hearing.BROADER_CIRCLE:
        return coop == CoopLink.MEMBER_OF
    return hearing == Hearing.CARE_AND_COUNSEL and is_linked(peering, coop)


def check_may_refer(peering: str, coop: str, hearing: str) -> None:
    """Refuse a referral from a circle that may not take an appeal to this one (`may_hear`, with
    this circle's relationship with the sender)."""
    if hearing not in (Hearing.CARE_AND_COUNSEL, Hearing.BROADER_CIRCLE):
        raise InvalidRequest("An appeal is taken to a care and counsel group or a broader circle")
    if may_hear(hearing, peering, _SEEN_FROM_THE_OTHER_SIDE.get(CoopLink(coop), coop)):
        return
    if hearing == Hearing.BROADER_CIRCLE:
        raise NotPermitted("Only a circle that is part of this one takes an appeal to it")
    raise NotPermitted("Only a linked circle takes an appeal to this one")


def check_records_circle_answer(circle: Circle, by: str, appellants: Collection[str]) -> None:
    """Refuse anyone but who records the circle's answer to an appeal: the facilitator; an
    appellant never records the answer to their own appeal, so while every facilitator appeals
    it the secretary records it, and while every secretary appeals it too, any full participant
    who does not."""
    doing = "record the circle's answer to an appeal"
    own = NotPermitted(
        "An appellant does not record the circle's answer to their own appeal: when the "
        "facilitator appeals, the secretary records it"
    )
    keepers = wearers(circle.terms, FACILITATOR) + wearers(circle.terms, SECRETARY)
    if by in appellants and by in keepers:
        raise own
    if _not_all_appeal(circle, FACILITATOR, appellants):
        check_facilitator(circle, by, doing)
    elif _not_all_appeal(circle, SECRETARY, appellants):
        check_records_keeper(circle, by, doing)
    else:
        check_full_participant(circle, by, doing)
    if by in appellants:
        raise own


def _not_all_appeal(circle: Circle, hat: str, appellants: Collection[str]) -> bool:
    """Whether some wearer of `hat` does not appeal (or nobody wears it)."""
    worn = wearers(circle.terms, hat)
    return not worn or any(person not in appellants for person in worn)


def took_part(
    decision: Decision, proposal: Proposal | None, seat_holders: Mapping[str, str] | None = None
) -> dict[str, str]:
    """Who took part in making a decision, each with the sentence that refuses their appeal:
    its proposer, the hat wearer who took it, and those who consented to it in the round that
    decided it (a seat of a linked circle as its holder, "<node id>/<person id>")."""
    holders = seat_holders or {}
    parts: dict[str, str] = {}
    if proposal is not None:
        for person in proposal.rounds[-1].consents if proposal.rounds else []:
            parts[holders.get(person, person)] = (
                "Someone who consented to a decision cannot appeal it"
            )
        parts[proposal.proposer] = "The proposer of a decision cannot appeal it"
    if decision.kind == DecisionKind.OPERATIONAL:
        parts[decision.taken_by] = "The hat wearer who took a decision cannot appeal it"
    else:
        parts.setdefault(decision.taken_by, "The proposer of a decision cannot appeal it")
    return parts


def check_appellant(
    circle: Circle, person: str, parties: Mapping[str, str], linked: Collection[str]
) -> None:
    """Refuse someone who may not appeal this circle's decision: who took part in making it, or
    who is neither a full or learning participant here nor of a circle linked to this one."""
    if "/" in person:
        if person.rsplit("/", 1)[0] not in linked:
            raise NotPermitted(
                "Only participants of this circle or of a circle linked to it appeal its decisions"
            )
    else:
        check_guest(check_can_act(circle, person).level)
    if person in parties:
        raise NotPermitted(parties[person])


def check_guest(level: str) -> None:
    if level == Level.GUEST:
        raise NotPermitted("Guests take part in rounds; full and learning participants appeal")


def check_appealable(circle: Circle, decision: Decision) -> None:
    check_open(circle)
    if decision.circle_id != circle.id:
        raise InvalidRequest("That decision belongs to another circle")
    if not decision.in_force:
        raise WrongStage(f"This decision is {decision.status.replace('_', ' ')}; it stands no more")


def check_amendment(circle: Circle, decision_id: str, proposal: ConsentDecision | None) -> None:
    """Refuse anything but a proposal of this circle to amend or revoke the decision appealed,
    still open: what an upheld appeal opens."""
    if proposal is None:
        raise InvalidRequest("An upheld appeal opens a proposal to amend or revoke the decision")
    if proposal.circle_id != circle.id:
        raise InvalidRequest("That proposal belongs to another circle")
    if proposal.purpose not in (Purpose.AMEND_DECISION, Purpose.REVOKE_DECISION) or (
        proposal.subject.get("decision_id") != decision_id
    ):
        raise InvalidRequest("An upheld appeal opens a proposal to amend or revoke the decision")
    if proposal.stage in (Stage.WITHDRAWN, Stage.LAPSED, Stage.NOT_CARRIED):
        raise WrongStage("That proposal has ended")


def next_hearing(
    circle: Circle, status: str, hearing: str, appellants: int, links: Mapping[str, tuple[str, str]]
) -> tuple[Hearing, str]:
    """Where an appeal at `status` before `hearing` goes next, and which circle hears it there:
    only once the step before did not uphold it; the care and counsel group the circle's rules
    name (a circle linked to it), then the broader circle (a co-op it is part of). `links` holds
    the circle's relationship with each other circle, as (peering, coop)."""
    if status == AppealStatus.GATHERING:
        raise WrongStage(
            f"An appeal is heard once {APPELLANTS_NEEDED} people appeal; this one has {appellants}"
        )
    if status == AppealStatus.UPHELD:
        raise WrongStage("This appeal was upheld; there is nothing to take further")
    if hearing == Hearing.BROADER_CIRCLE:
        raise WrongStage("The broader circle hears an appeal last; its answer is final")
    if status == AppealStatus.BEING_HEARD:
        raise WrongStage(
            f"This appeal is before {HEARD_BY[Hearing(hearing)]}; it goes further "
            "once that answers it and does not uphold it"
        )
    step = NEXT_HEARING[Hearing(hearing)]
    to = circle.rules.care_and_counsel if step == Hearing.CARE_AND_COUNSEL else circle.parent
    if to is None and step == Hearing.CARE_AND_COUNSEL:
        raise WrongStage(
            "The circle's rules name no care and counsel group (a change of rules names one)"
        )
    if to is None:
        raise WrongStage("This circle is part of no broader circle to take the appeal to")
    if not may_hear(step, *links.get(to, (Peering.NONE, CoopLink.NONE))):
        raise WrongStage(
            f"{HEARD_BY[step].capitalize()} ({to}) is not "
            + (
                "a co-op this circle is part of"
                if step == Hearing.BROADER_CIRCLE
                else "linked to this circle"
            )
        )
    return step, to
