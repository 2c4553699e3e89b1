"""Which changes of the circle become entries of the node's feed, and what they say.

`outgoing` looks at the events a save is about to store and returns the entries they cause,
which the node appends to its feed in that same save. Public records (the circle's profile and
its decisions, introductions, requests for support to the whole network) go to everyone;
messages between two circles go to the other circle alone. What an event causes is chosen by
its class: the circle's profile and summary events, and a teller per event class (`TELL`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import msgspec
from eventsourcing.domain import Aggregate

from domain.appeal import Appeal
from domain.circle import Circle
from domain.consent import ConsentProcess
from domain.decision import Decision
from domain.hats import DELEGATE, LEADER
from domain.meeting import Meeting
from domain.proposal import Proposal
from domain.relationships import Relationship
from domain.selection import HatSelection
from domain.support import SupportRequest
from domain.values import CoopLink, Peering, Purpose, Stage
from node.app import event_classes
from node.app.appeal_tellers import APPEAL_TELLERS
from node.app.confidential import is_confidential
from node.app.linked_records import circle_records, meeting_minutes
from node.app.published_records import (
    PROFILE_EVENTS,
    SUMMARY_EVENTS,
    Publishing,
    addressed_to,
    changes_summary,
    circle_profile,
    decision_record,
    summaries,
)
from node.app.support_tellers import SUPPORT_TELLERS
from node.network.batch import Outgoing
from node.network.messages import (
    CIRCLE_PROFILE,
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
    LINK_VACATED,
    PEERING_ACCEPT,
    PEERING_END,
    PEERING_REQUEST,
    PERSON_ERASED,
    SEAT_ANSWER,
    SEAT_REQUEST,
    Addressed,
    ConsentAnswer,
    ConsentRequest,
    CoopApplication,
    Introduction,
    LinkPerson,
    PersonErased,
    SeatVacated,
    encode_body,
)


def _public(kind: str, body: msgspec.Struct) -> Outgoing:
    return Outgoing(kind, encode_body(body), [])


def outgoing(node: Publishing, aggregates: Sequence[Aggregate]) -> list[Outgoing]:
    """The entries the pending events of `aggregates` cause, in order."""
    entries: list[Outgoing] = []
    summary_due = False
    for aggregate in aggregates:
        events: list[Any] = list(aggregate.pending_events)
        classes = {type(event) for event in events}
        if isinstance(aggregate, Circle):
            if classes & PROFILE_EVENTS:
                entries.append(_public(CIRCLE_PROFILE, circle_profile(aggregate)))
            summary_due |= bool(classes & SUMMARY_EVENTS)
        elif isinstance(aggregate, Decision) and events:
            entries.append(_public(DECISION_RECORD, decision_record(aggregate)))
            summary_due |= changes_summary(aggregate, classes)
        elif isinstance(aggregate, Relationship):
            summary_due |= any(
                isinstance(e, event_classes.Relationship.CoopLinkChanged)
                and e.coop == CoopLink.MEMBER_OF
                for e in events
            )
        for event in events:
            tell = teller(type(aggregate), type(event))
            if tell is not None:
                entries.extend(tell(node, aggregate, event))
    if summary_due:
        entries.extend(summaries(node, aggregates))
    entries.extend(circle_records(node, aggregates))
    return entries


# What one event tells other circles: the entries it causes, chosen by the event's class.
# Each teller gets the node, the aggregate as the save leaves it, and the event.


def _peering_changed(node: Publishing, rel: Relationship, event: Any) -> list[Outgoing]:
    """This circle decided, by consent, to ask for, accept or end peering: told to the other."""
    if not event.proposal_id:
        return []
    kind = {
        Peering.REQUESTED: PEERING_REQUEST,
        Peering.PEERS: PEERING_ACCEPT,
        Peering.ENDED: PEERING_END,
    }[event.peering]
    return [addressed_to(rel.other, kind, Addressed(rel.other))]


def _admitted_to_network(node: Publishing, rel: Relationship, event: Any) -> list[Outgoing]:
    """This circle admitted another to the network: its signed introduction goes to everyone
    (the nodes that follow this one follow the newcomer), and the newcomer gets one of each
    node this one exchanges feeds with, for it alone (so it follows them too: PROTOCOL.md
    10.5)."""
    inception, url = node.introduction_of(rel.other)
    told = [_public(INTRODUCTION, Introduction(rel.other, url, rel.name, inception))]
    for other, name in node.exchanging_with():
        if other != rel.other:
            their_inception, their_url = node.introduction_of(other)
            introduction = Introduction(other, their_url, name, their_inception)
            told.append(addressed_to(rel.other, INTRODUCTION, introduction))
    return told


def _coop_link_changed(node: Publishing, rel: Relationship, event: Any) -> list[Outgoing]:
    """This circle applied to a co-op, admitted a member circle or withdrew, by consent."""
    if not event.proposal_id:
        return []
    if event.coop == CoopLink.APPLYING:
        entity = event.legal_entity
        application = CoopApplication(
            rel.other,
            event.corporate,
            entity.registered_name if entity else None,
            entity.number if entity else None,
            entity.registry if entity else None,
        )
        return [addressed_to(rel.other, COOP_APPLY, application)]
    if event.coop == CoopLink.HAS_MEMBER:
        return [addressed_to(rel.other, COOP_ADMIT, Addressed(rel.other))]
    if event.coop == CoopLink.WITHDRAWN:
        return [addressed_to(rel.other, COOP_WITHDRAW, Addressed(rel.other))]
    return []


def _corporate_membership_changed(
    node: Publishing, rel: Relationship, event: Any
) -> list[Outgoing]:
    """This circle applied to stay as a corporate member, or agreed to one, by consent."""
    if not event.proposal_id:
        return []
    if event.pending:
        entity = event.legal_entity
        application = CoopApplication(
            rel.other, True, entity.registered_name, entity.number, entity.registry
        )
        return [addressed_to(rel.other, COOP_APPLY, application)]
    return [addressed_to(rel.other, COOP_ADMIT, Addressed(rel.other))]


def _link_changed(node: Publishing, rel: Relationship, event: Any) -> list[Outgoing]:
    """This circle proposed or agreed a leader for the double link."""
    if not event.by_us:
        return []
    kind = LINK_LEADER_PROPOSED if event.role == "proposed_leader" else LINK_LEADER_AGREED
    person_name = node.person_name(event.person) if kind == LINK_LEADER_AGREED else ""
    return [addressed_to(rel.other, kind, LinkPerson(rel.other, event.person, person_name))]


def _consent_request_answered(node: Publishing, rel: Relationship, event: Any) -> list[Outgoing]:
    """A seat holder of this circle answered the co-op's consent round."""
    if not event.seat:
        return []
    answer = ConsentAnswer(
        rel.other,
        event.proposal,
        event.round_number,
        event.consents,
        event.argument,
        event.seat,
        event.person,
    )
    return [addressed_to(rel.other, SEAT_ANSWER, answer)]


def _personal_data_erased(node: Publishing, circle: Circle, event: Any) -> list[Outgoing]:
    """Someone's personal data was erased here: the co-ops that hold copies erase theirs, and
    so do the member circles (a co-op's `circle.records` name its people there)."""
    out: list[Outgoing] = []
    bodies = [bytes.fromhex(digest) for digest in event.bodies]
    for rel in node.relationships():
        if rel.coop in (CoopLink.MEMBER_OF, CoopLink.WITHDRAWN, CoopLink.HAS_MEMBER):
            body = PersonErased(rel.other, event.person_id, bodies)
            out.append(addressed_to(rel.other, PERSON_ERASED, body))
    return out


def _hat_put_on(node: Publishing, circle: Circle, event: Any) -> list[Outgoing]:
    """A new delegate is told to each co-op this circle is part of (the double link)."""
    if event.term.hat_id != DELEGATE:
        return []
    out: list[Outgoing] = []
    person = event.term.person_id
    for rel in node.relationships():
        if rel.coop == CoopLink.MEMBER_OF:
            body = LinkPerson(rel.other, person, node.person_name(person))
            out.append(addressed_to(rel.other, LINK_DELEGATE, body))
    return out


def _hat_taken_off(node: Publishing, circle: Circle, event: Any) -> list[Outgoing]:
    """The delegate or the leader no longer wears the hat (taken off, released, or passed on
    to someone selected: a process hat has one wearer, and the next one's `link.delegate`
    follows): each co-op this circle is part of is told, so that it unseats them."""
    if event.hat_id not in (DELEGATE, LEADER):
        return []
    return [
        addressed_to(rel.other, LINK_VACATED, SeatVacated(rel.other, event.hat_id, event.person_id))
        for rel in node.relationships()
        if rel.coop == CoopLink.MEMBER_OF
    ]


def _consent_round_opened(node: Publishing, proposal: Proposal, event: Any) -> list[Outgoing]:
    out: list[Outgoing] = []
    # Federated consent: each linked circle asked answers by its own process.
    for ref in proposal.asked_circles:
        request = ConsentRequest(
            ref, str(proposal.id), proposal.round_number, proposal.title, proposal.text
        )
        out.append(addressed_to(ref, CONSENT_REQUEST, request))
    return out + _seat_requests(node, proposal, proposal.title, proposal.text)


def _selection_round_opened(
    node: Publishing, selection: HatSelection, event: Any
) -> list[Outgoing]:
    """A hat selection's consent round (opened by proposing a candidate, or again after
    integrating objections) asks the seats as a proposal's does: the hat, and the reason the
    candidate was proposed (no name: names travel only as 11.6 says)."""
    hat = node.get_circle().hat(selection.hat_id)
    title = f"Selection for the hat {hat.name}"
    return _seat_requests(node, selection, title, selection.candidate_reason)


def _seat_requests(
    node: Publishing, process: ConsentProcess, title: str, text: str
) -> list[Outgoing]:
    """The double link: member circles' delegates and leaders sit in this round."""
    out: list[Outgoing] = []
    circle = node.get_circle()
    full = set(circle.full_participants())
    for seat in circle.participants:
        if "/" in seat and seat in full:
            ref, role = seat.rsplit("/", 1)
            request = ConsentRequest(ref, str(process.id), process.round_number, title, text, role)
            out.append(addressed_to(ref, SEAT_REQUEST, request))
    return out


def _consent_round_closed(node: Publishing, proposal: Proposal, event: Any) -> list[Outgoing]:
    if event.record.outcome != Stage.CONSENTED:
        return []
    return _answer_consent_request(proposal)


def _vote_recorded(node: Publishing, proposal: Proposal, event: Any) -> list[Outgoing]:
    if event.outcome != Stage.CONSENTED:
        return []
    return _answer_consent_request(proposal)


def _answer_consent_request(proposal: Proposal) -> list[Outgoing]:
    """This circle consented to its answer to another circle's request: the answer goes out."""
    if proposal.purpose != Purpose.ANSWER_CONSENT_REQUEST:
        return []
    subject = proposal.subject
    ref = str(subject["circle"])
    answer = ConsentAnswer(
        ref,
        str(subject["request"]),
        int(subject.get("round", 1)),
        bool(subject["consents"]),
        str(subject.get("argument") or ""),
    )
    return [addressed_to(ref, CONSENT_ANSWER, answer)]


Teller = Callable[[Publishing, Any, Any], list[Outgoing]]

# The tellers of each aggregate's events, by the aggregate's class and the event's. A proposal
# records the consent process's own events (`ConsentProcess.ConsentRoundOpened`): its table
# names those, and `teller` finds an event's teller by the classes it derives from.
TELL: dict[type[Aggregate], dict[type[Any], Teller]] = {
    Relationship: {
        event_classes.Relationship.PeeringChanged: _peering_changed,
        event_classes.Relationship.AdmittedToNetwork: _admitted_to_network,
        event_classes.Relationship.CoopLinkChanged: _coop_link_changed,
        event_classes.Relationship.CorporateMembershipChanged: _corporate_membership_changed,
        event_classes.Relationship.LinkChanged: _link_changed,
        event_classes.Relationship.ConsentRequestAnswered: _consent_request_answered,
    },
    Circle: {
        event_classes.Circle.HatPutOn: _hat_put_on,
        event_classes.Circle.HatTakenOff: _hat_taken_off,
        event_classes.Circle.PersonalDataErased: _personal_data_erased,
    },
    Proposal: {
        event_classes.ConsentProcess.ConsentRoundOpened: _consent_round_opened,
        event_classes.ConsentProcess.ConsentRoundClosed: _consent_round_closed,
        event_classes.Proposal.VoteRecorded: _vote_recorded,
    },
    HatSelection: {
        event_classes.HatSelection.CandidateProposed: _selection_round_opened,
        event_classes.ConsentProcess.ConsentRoundOpened: _selection_round_opened,
    },
    Meeting: {
        event_classes.Meeting.MinutesConsented: meeting_minutes,
    },
    SupportRequest: SUPPORT_TELLERS,
    Appeal: APPEAL_TELLERS,
}


def teller(aggregate_class: type[Aggregate], event_class: type[Any]) -> Teller | None:
    """What an event of `event_class`, recorded by an aggregate of `aggregate_class`, tells
    other circles; None if it tells them nothing by itself. What only the circle's full and
    learning participants read (a confidential agenda item, its minutes) tells them nothing,
    whatever the tables say: it never leaves the node."""
    pair = (aggregate_class, event_class)
    try:
        return _TOLD[pair]
    except KeyError:
        pass
    if is_confidential(event_class):
        told = None
    else:
        tellers = TELL.get(aggregate_class, {})
        told = next((tellers[cls] for cls in event_class.__mro__ if cls in tellers), None)
    _TOLD[pair] = told  # the tables never change: each pair of classes is looked up once
    return told


_TOLD: dict[tuple[type, type], Teller | None] = {}
