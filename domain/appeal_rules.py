"""The rules of appeals (domain/appeal.py): the steps an appeal goes through, who took part in
making a decision (and so may not appeal it), who may appeal, and which circles may take an
appeal to a circle. Other circles are referred to by reference (their node id)."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from enum import StrEnum
from uuid import NAMESPACE_URL, UUID, uuid5

from domain.circle import Circle
from domain.decision import Decision
from domain.errors import InvalidRequest, NotPermitted, WrongStage
from domain.membership import check_can_act, check_open
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


def referred_appeal_id(circle_id: UUID, origin: str, origin_id: str, hearing: str) -> UUID:
    return uuid5(NAMESPACE_URL, f"circle-node:appeal:{circle_id}:{origin}:{origin_id}:{hearing}")


def is_linked(peering: str, coop: str) -> bool:
    """Whether two circles are linked: they peer, or one is part of the other."""
    return peering == Peering.PEERS or coop in (CoopLink.MEMBER_OF, CoopLink.HAS_MEMBER)


def check_may_refer(peering: str, coop: str, hearing: str) -> None:
    """Refuse a referral from a circle that may not take an appeal to this one: a broader
    circle hears the circles that are part of it; a care and counsel group, linked circles."""
    if hearing == Hearing.BROADER_CIRCLE and coop != CoopLink.HAS_MEMBER:
        raise NotPermitted("Only a circle that is part of this one takes an appeal to it")
    if hearing == Hearing.CARE_AND_COUNSEL and not is_linked(peering, coop):
        raise NotPermitted("Only a linked circle takes an appeal to this one")
    if hearing not in (Hearing.CARE_AND_COUNSEL, Hearing.BROADER_CIRCLE):
        raise InvalidRequest("An appeal is taken to a care and counsel group or a broader circle")


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
