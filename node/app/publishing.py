"""Which changes of the circle become entries of the node's feed, and what they say.

`outgoing` looks at the events a save is about to store and returns the entries they cause,
which the node appends to its feed in that same save. Public records (the circle's profile and
its decisions, introductions, requests for support to the whole network) go to everyone;
messages between two circles go to the other circle alone.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any, Protocol

import msgspec
from eventsourcing.domain import Aggregate

from domain.circle import Circle
from domain.decision import Decision
from domain.hats import DELEGATE
from domain.proposal import Proposal
from domain.relationships import Relationship
from domain.support import NETWORK, SupportRequest
from domain.values import CoopLink, DecisionKind, Peering, Purpose, Stage
from federation.feed import feed_id_from_node_id
from node.network.batch import Outgoing
from node.network.messages import (
    CIRCLE_PROFILE,
    CIRCLE_SUMMARY,
    CONSENT_ANSWER,
    CONSENT_REQUEST,
    COOP_ADMIT,
    COOP_APPLY,
    COOP_WITHDRAW,
    DECISION_RECORD,
    INTRODUCTION,
    LINK_DELEGATE,
    LINK_LEADER_AGREED,
    LINK_LEADER_PROPOSED,
    PEERING_ACCEPT,
    PEERING_END,
    PEERING_REQUEST,
    PERSON_ERASED,
    SEAT_ANSWER,
    SEAT_REQUEST,
    SUPPORT_DELIVERED,
    SUPPORT_OFFER,
    SUPPORT_OUTCOME,
    SUPPORT_REFLECTION,
    SUPPORT_REQUEST,
    Addressed,
    CircleProfile,
    CircleSummary,
    ConsentAnswer,
    ConsentRequest,
    CoopApplication,
    DecisionRecord,
    HatHolder,
    Introduction,
    LinkPerson,
    PersonErased,
    SupportMessage,
    SupportRequestMessage,
    encode_body,
)


class Publishing(Protocol):
    """What publishing reads of the node: its records, the people's names, the clock."""

    clock: Callable[[], datetime]

    def get_circle(self) -> Circle: ...

    def relationships(self) -> list[Relationship]: ...

    def list_decisions(self) -> list[Decision]: ...

    def person_name(self, person_id: str) -> str: ...

    def introduction_of(self, other: str) -> tuple[bytes, str]: ...


# Circle events that change its public profile.
PROFILE_EVENTS = frozenset(
    {
        "Founded",
        "Activated",
        "AimRevised",
        "DomainChanged",
        "Incorporated",
        "WentIndependent",
        "Dissolved",
    }
)
# Changes a co-op hears about in its member circle's summary.
SUMMARY_EVENTS = PROFILE_EVENTS | {"HatPutOn", "HatTakenOff", "HatRenewed", "MembershipChanged"}


def circle_profile(circle: Circle) -> CircleProfile:
    entity = circle.legal_entity
    return CircleProfile(
        name=circle.name,
        aim=circle.aim,
        domain=circle.domain,
        kind=str(circle.kind),
        parent=circle.parent,
        status=str(circle.status),
        legal_name=entity.registered_name if entity else None,
        legal_number=entity.number if entity else None,
        legal_registry=entity.registry if entity else None,
    )


def decision_record(decision: Decision) -> DecisionRecord:
    return DecisionRecord(
        decision_id=str(decision.id),
        binding=decision.binding,
        kind=str(decision.kind),
        title=decision.title,
        text=decision.text,
        status=str(decision.status),
        effective=decision.effective,
        review_date=decision.review_date,
        area=decision.area,
        hat_id=decision.hat_id,
        term_end=decision.term_end,
        measures=list(decision.measures),
    )


def _to(ref: str, kind: str, body: msgspec.Struct) -> Outgoing:
    return Outgoing(kind, encode_body(body), [feed_id_from_node_id(ref)])


def _public(kind: str, body: msgspec.Struct) -> Outgoing:
    return Outgoing(kind, encode_body(body), [])


def _events(aggregate: Aggregate) -> list[Any]:
    return list(aggregate.pending_events)


def outgoing(node: Publishing, aggregates: Sequence[Aggregate]) -> list[Outgoing]:
    """The entries the pending events of `aggregates` cause, in order."""
    entries: list[Outgoing] = []
    summary_due = False
    for aggregate in aggregates:
        names = {type(event).__name__ for event in aggregate.pending_events}
        if isinstance(aggregate, Circle):
            if names & PROFILE_EVENTS:
                entries.append(_public(CIRCLE_PROFILE, circle_profile(aggregate)))
            entries.extend(_delegates(node, aggregate))
            entries.extend(_erasures(node, aggregate))
            summary_due |= bool(names & SUMMARY_EVENTS)
        elif isinstance(aggregate, Decision) and names:
            entries.append(_public(DECISION_RECORD, decision_record(aggregate)))
            summary_due |= _changes_summary(aggregate, names)
        elif isinstance(aggregate, Relationship):
            entries.extend(_relationship(node, aggregate))
            summary_due |= any(
                type(e).__name__ == "CoopLinkChanged" and e.coop == CoopLink.MEMBER_OF
                for e in _events(aggregate)
            )
        elif isinstance(aggregate, Proposal):
            entries.extend(_proposal(node, aggregate))
        elif isinstance(aggregate, SupportRequest):
            entries.extend(_support(aggregate))
    if summary_due:
        entries.extend(_summaries(node, aggregates))
    return entries


def _relationship(node: Publishing, rel: Relationship) -> list[Outgoing]:
    """Decisions of this circle about another circle, told to it."""
    out: list[Outgoing] = []
    for event in _events(rel):
        name = type(event).__name__
        if name == "PeeringChanged" and event.proposal_id:
            kind = {
                Peering.REQUESTED: PEERING_REQUEST,
                Peering.PEERS: PEERING_ACCEPT,
                Peering.ENDED: PEERING_END,
            }[event.peering]
            out.append(_to(rel.other, kind, Addressed(rel.other)))
        elif name == "AdmittedToNetwork":
            inception, url = node.introduction_of(rel.other)
            out.append(_public(INTRODUCTION, Introduction(rel.other, url, rel.name, inception)))
        elif name == "CoopLinkChanged" and event.proposal_id:
            if event.coop == CoopLink.APPLYING:
                entity = event.legal_entity
                out.append(
                    _to(
                        rel.other,
                        COOP_APPLY,
                        CoopApplication(
                            rel.other,
                            event.corporate,
                            entity.registered_name if entity else None,
                            entity.number if entity else None,
                            entity.registry if entity else None,
                        ),
                    )
                )
            elif event.coop == CoopLink.HAS_MEMBER:
                out.append(_to(rel.other, COOP_ADMIT, Addressed(rel.other)))
            elif event.coop == CoopLink.WITHDRAWN:
                out.append(_to(rel.other, COOP_WITHDRAW, Addressed(rel.other)))
        elif name == "CorporateMembershipChanged" and event.proposal_id:
            if event.pending:
                entity = event.legal_entity
                out.append(
                    _to(
                        rel.other,
                        COOP_APPLY,
                        CoopApplication(
                            rel.other, True, entity.registered_name, entity.number, entity.registry
                        ),
                    )
                )
            else:
                out.append(_to(rel.other, COOP_ADMIT, Addressed(rel.other)))
        elif name == "LinkChanged" and event.by_us:
            kind = LINK_LEADER_PROPOSED if event.role == "proposed_leader" else LINK_LEADER_AGREED
            person_name = node.person_name(event.person) if kind == LINK_LEADER_AGREED else ""
            out.append(_to(rel.other, kind, LinkPerson(rel.other, event.person, person_name)))
        elif name == "ConsentRequestAnswered" and event.seat:
            # A seat holder of this circle answered the co-op's consent round.
            out.append(
                _to(
                    rel.other,
                    SEAT_ANSWER,
                    ConsentAnswer(
                        rel.other,
                        event.proposal,
                        event.round_number,
                        event.consents,
                        event.argument,
                        event.seat,
                    ),
                )
            )
    return out


def _erasures(node: Publishing, circle: Circle) -> list[Outgoing]:
    """Someone's personal data was erased here: the co-ops that hold copies erase theirs."""
    out: list[Outgoing] = []
    for event in _events(circle):
        if type(event).__name__ == "PersonalDataErased":
            bodies = [bytes.fromhex(digest) for digest in event.bodies]
            for rel in node.relationships():
                if rel.coop in (CoopLink.MEMBER_OF, CoopLink.WITHDRAWN):
                    body = PersonErased(rel.other, event.person_id, bodies)
                    out.append(_to(rel.other, PERSON_ERASED, body))
    return out


def _delegates(node: Publishing, circle: Circle) -> list[Outgoing]:
    """A new delegate is told to each co-op this circle is part of (the double link)."""
    out: list[Outgoing] = []
    for event in _events(circle):
        if type(event).__name__ == "HatPutOn" and event.term.hat_id == DELEGATE:
            person = event.term.person_id
            for rel in node.relationships():
                if rel.coop == CoopLink.MEMBER_OF:
                    body = LinkPerson(rel.other, person, node.person_name(person))
                    out.append(_to(rel.other, LINK_DELEGATE, body))
    return out


def _proposal(node: Publishing, proposal: Proposal) -> list[Outgoing]:
    out: list[Outgoing] = []
    for event in _events(proposal):
        name = type(event).__name__
        if name == "ConsentRoundOpened":
            # Federated consent: each linked circle asked answers by its own process.
            for ref in proposal.asked_circles:
                out.append(
                    _to(
                        ref,
                        CONSENT_REQUEST,
                        ConsentRequest(
                            ref,
                            str(proposal.id),
                            proposal.round_number,
                            proposal.title,
                            proposal.text,
                        ),
                    )
                )
            # The double link: member circles' delegates and leaders sit in this round.
            for seat in node.get_circle().participants:
                if "/" in seat and seat in node.get_circle().full_participants():
                    ref, role = seat.rsplit("/", 1)
                    out.append(
                        _to(
                            ref,
                            SEAT_REQUEST,
                            ConsentRequest(
                                ref,
                                str(proposal.id),
                                proposal.round_number,
                                proposal.title,
                                proposal.text,
                                role,
                            ),
                        )
                    )
        elif (
            (name == "ConsentRoundClosed" and event.record.outcome == Stage.CONSENTED)
            or (name == "VoteRecorded" and event.outcome == Stage.CONSENTED)
        ) and proposal.purpose == Purpose.ANSWER_CONSENT_REQUEST:
            subject = proposal.subject
            ref = str(subject["circle"])
            out.append(
                _to(
                    ref,
                    CONSENT_ANSWER,
                    ConsentAnswer(
                        ref,
                        str(subject["request"]),
                        int(subject.get("round", 1)),
                        bool(subject["consents"]),
                        str(subject.get("argument") or ""),
                    ),
                )
            )
    return out


def _support(request: SupportRequest) -> list[Outgoing]:
    out: list[Outgoing] = []
    for event in _events(request):
        name = type(event).__name__
        if name == "SupportRequested" and request.is_ours:
            body = SupportRequestMessage(str(request.id), request.kind, request.text, request.to)
            if NETWORK in request.to:
                out.append(_public(SUPPORT_REQUEST, body))
            else:
                audience = [feed_id_from_node_id(ref) for ref in request.to]
                out.append(Outgoing(SUPPORT_REQUEST, encode_body(body), audience))
        elif name == "OfferMade":
            assert request.origin is not None and request.origin_id is not None
            out.append(
                _to(
                    request.origin,
                    SUPPORT_OFFER,
                    SupportMessage(request.origin, request.origin_id, event.text),
                )
            )
        elif name == "OfferAccepted":
            for helper in request.offers:
                out.append(
                    _to(
                        helper,
                        SUPPORT_OUTCOME,
                        SupportMessage(helper, str(request.id), accepted=event.helper),
                    )
                )
        elif name == "Delivered" and event.by_us:
            other, request_id = _other_side(request)
            out.append(_to(other, SUPPORT_DELIVERED, SupportMessage(other, request_id, event.note)))
        elif name == "Reflected" and event.who == "us":
            other, request_id = _other_side(request)
            out.append(
                _to(other, SUPPORT_REFLECTION, SupportMessage(other, request_id, event.text))
            )
    return out


def _other_side(request: SupportRequest) -> tuple[str, str]:
    if request.is_ours:
        assert request.accepted is not None
        return request.accepted, str(request.id)
    assert request.origin is not None and request.origin_id is not None
    return request.origin, request.origin_id


def _changes_summary(decision: Decision, names: set[str]) -> bool:
    """Whether a decision's change can change its circle's summary (the policies in force,
    the decisions due for review). A new operational decision cannot: it is no policy, and
    its review date is in the future. Everyday decisions are the most frequent change, and
    the summary reads every decision of the circle: it is worked out when it can change."""
    return names != {"Taken"} or decision.kind == DecisionKind.POLICY


def _summaries(node: Publishing, aggregates: Sequence[Aggregate]) -> list[Outgoing]:
    """A member circle keeps its co-op's copy of its logbook summary up to date."""
    # The relationships as this save leaves them (an admission may be in it).
    current = {rel.other: rel for rel in node.relationships()}
    current.update({a.other: a for a in aggregates if isinstance(a, Relationship)})
    parents = [ref for ref, rel in current.items() if rel.coop == CoopLink.MEMBER_OF]
    if not parents:
        return []
    circle = next((a for a in aggregates if isinstance(a, Circle)), None) or node.get_circle()
    # Read, not changed (listings are the shared copies): a member circle's every decision.
    decisions = {d.id: d for d in node.list_decisions()}
    decisions.update({a.id: a for a in aggregates if isinstance(a, Decision)})
    today = node.clock().date()
    hats = [
        HatHolder(term.hat_id, term.person_id, node.person_name(term.person_id), term.review_date)
        for term in circle.terms
    ]
    policies = sorted(d.title for d in decisions.values() if d.in_force and d.kind == "policy")
    due = sorted(d.title for d in decisions.values() if d.is_review_due(today))
    return [
        _to(
            ref,
            CIRCLE_SUMMARY,
            CircleSummary(ref, circle.aim, str(circle.status), hats, policies, due),
        )
        for ref in parents
    ]
