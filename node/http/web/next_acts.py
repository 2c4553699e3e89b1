"""What a circle can do next about another circle, or about support: each act is a proposal
of a purpose, so each is a link to the proposal form with the subject's fields filled in
(`/proposals/new?purpose=...&circle=...`, the field names of node/http/api/subjects.py).

The links are offered to those the circle's rules let draft a proposal; which acts a
relationship allows follows its state as the domain keeps it (domain/relationships.py), and
the domain still decides when the proposal is drafted and when it is carried out.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlencode

from domain.circle import Circle
from domain.errors import DomainError
from domain.relationships import APPLIED, Relationship
from domain.support import SupportRequest
from domain.values import ACTING, CircleStatus, CoopLink, Level, Peering, Purpose, SupportStatus


@dataclass(frozen=True)
class Act:
    """A next step: what it is called, where its form is, and a line saying what it does."""

    label: str
    href: str
    hint: str = ""


def propose(purpose: Purpose, **subject: str) -> str:
    """The proposal form for `purpose`, its subject's fields filled in."""
    return "/proposals/new?" + urlencode({"purpose": purpose.value, **subject})


def allowed(check: Callable[[], object]) -> bool:
    """Whether a rule of the domain lets this be done (the rule itself decides)."""
    try:
        check()
    except DomainError:
        return False
    return True


def may_propose(circle: Circle, person: str) -> bool:
    """Whether the circle's rules let this person draft a proposal: full and learning
    participants acting in the circle (as domain/proposal.py decides)."""
    participant = circle.participants.get(person)
    return (
        participant is not None
        and participant.status in ACTING
        and participant.level != Level.GUEST
    )


def relationship_acts(circle: Circle, rel: Relationship) -> list[Act]:
    """The proposals the relationship's state allows now, about the other circle."""
    other = rel.other
    acts: list[Act] = []
    if rel.how == APPLIED and not rel.admitted_to_network:
        acts.append(
            Act(
                "Admit it to the network",
                propose(Purpose.ADMIT_TO_NETWORK, circle=other),
                "It asked to join the network through this circle.",
            )
        )
    if rel.peering == Peering.ASKED:
        acts.append(
            Act(
                "Accept its request to peer",
                propose(Purpose.ACCEPT_PEERING, circle=other),
                "It asked to peer with this circle.",
            )
        )
    elif rel.peering in (Peering.NONE, Peering.ENDED):
        acts.append(Act("Ask to peer", propose(Purpose.REQUEST_PEERING, circle=other)))
    elif rel.peering == Peering.PEERS:
        acts.append(Act("End peering", propose(Purpose.END_PEERING, circle=other)))
    incorporated = circle.status == CircleStatus.INCORPORATED
    if rel.coop in (CoopLink.NONE, CoopLink.WITHDRAWN):
        acts.append(
            Act(
                "Apply to be part of it",
                propose(Purpose.APPLY_TO_COOP, circle=other),
                "as a corporate member, this circle being incorporated"
                if incorporated
                else "as a member circle of the co-op",
            )
        )
    if rel.coop == CoopLink.APPLIED or (rel.coop == CoopLink.HAS_MEMBER and rel.corporate_pending):
        acts.append(
            Act(
                "Admit it as a corporate member" if rel.corporate_pending else "Admit it",
                propose(Purpose.ADMIT_MEMBER, circle=other),
                "It applied to be part of this circle.",
            )
        )
    if rel.coop == CoopLink.HAS_MEMBER:
        acts.append(
            Act(
                "Propose its leader",
                propose(Purpose.PROPOSE_LEADER, circle=other),
                "Name the person by their id in that circle; the circle agrees to them.",
            )
        )
    if rel.coop == CoopLink.MEMBER_OF:
        if rel.proposed_leader:
            acts.append(
                Act(
                    "Agree to the leader it proposed",
                    propose(Purpose.AGREE_LEADER, circle=other, person=rel.proposed_leader),
                )
            )
        if incorporated and not rel.corporate and not rel.corporate_pending:
            acts.append(
                Act(
                    "Apply to stay as a corporate member",
                    propose(Purpose.APPLY_TO_COOP, circle=other),
                    "This circle is incorporated now.",
                )
            )
        acts.append(
            Act(
                "Go independent",
                propose(Purpose.GO_INDEPENDENT, circle=other),
                "This circle goes its own way and leaves the co-op.",
            )
        )
    acts.append(
        Act("Ask it for support", propose(Purpose.REQUEST_SUPPORT, circles=other)),
    )
    for key, request in rel.consent_requests.items():
        proposal = key.rsplit(":", 1)[0]
        acts.append(
            Act(
                f"Answer its request: {request['title']}",
                propose(
                    Purpose.ANSWER_CONSENT_REQUEST,
                    circle=other,
                    request=proposal,
                    round=str(request["round"]),
                ),
                "This circle answers by its own consent decision.",
            )
        )
    return acts


def support_acts(request: SupportRequest, name: Callable[[str], str]) -> list[Act]:
    """What this circle can propose about a request for support now: accepting an offer
    (its own request), or offering (another circle's)."""
    if request.status != SupportStatus.OPEN:
        return []
    if request.is_ours:
        return [
            Act(
                f"Accept the offer of {name(helper)}",
                propose(Purpose.ACCEPT_OFFER, request=str(request.id), offer=helper),
            )
            for helper in request.offers
        ]
    if request.our_offer is None and request.origin:
        return [
            Act(
                "Offer support",
                propose(Purpose.OFFER_SUPPORT, circle=request.origin, request=str(request.id)),
                "The proposal's text is the offer.",
            )
        ]
    return []


def circle_acts(circle: Circle) -> list[Act]:
    """What the circle can propose about itself among others (the network page)."""
    acts = [
        Act(
            "Ask for support",
            propose(Purpose.REQUEST_SUPPORT),
            "Of chosen circles, or of the whole network.",
        )
    ]
    if circle.status == CircleStatus.ACTIVE:
        acts.append(
            Act(
                "Incorporate",
                propose(Purpose.INCORPORATE),
                "Register the circle as a legal entity of its own.",
            )
        )
    if circle.status in (CircleStatus.ACTIVE, CircleStatus.INCORPORATED):
        acts.append(
            Act(
                "Go independent",
                propose(Purpose.GO_INDEPENDENT),
                "The circle goes its own way (to leave a co-op, start from its page).",
            )
        )
    return acts
