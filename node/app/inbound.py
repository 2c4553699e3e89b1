"""What other circles' entries change here: their public records, and what they say to us.

Called with a run of verified entries of one peer and the bodies that came with them. Every
change goes into the batch and is saved with the entries. A message that does not fit this
circle's state (an admission nobody applied for, an offer for a closed request, an answer from
a circle that was not asked) is refused: the refusal, with its reason, is recorded on the
relationship with that circle, and nothing else changes. A message that may not take effect
yet (this node has no circle, the sender is still applying, or introduces others before it
admitted this node) is held, and applied once it may (node/app/held_messages.py).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import msgspec
from eventsourcing.persistence import PersistenceError

from domain.errors import DomainError
from domain.records import LegalEntity
from domain.support import NETWORK, SupportRequest, seen_request_id
from domain.values import CoopLink
from federation.feed import WontSign, feed_id_from_node_id, node_id
from federation.verify import Rejected, decode_signed_entry
from federation.wire import Entry
from node.app.appeals_taken import (
    erase_remote_appellant,
    take_appeal_answer,
    take_appeal_join,
    take_appeal_referral,
)
from node.app.linked_view import take_minutes, take_records
from node.app.receiving import Receiving, RunContext
from node.app.relations import seat_of
from node.network import messages as m
from node.network.batch import Batch
from node.network.peers import APPLICANT, JOINING, PEER, Peer

log = logging.getLogger("circle_node.inbound")


def apply(
    node: Receiving,
    sender: Peer,
    run: list[tuple[Entry, bytes | None]],
    batch: Batch,
    *,
    careful: bool = False,
    released: bool = False,
) -> None:
    """Apply a run of a peer's verified entries (see the module's docstring). `careful`: after
    each message, check that the own entries its changes cause can be signed, and refuse it if
    not (the intake asks for this when the run's save failed so). `released`: the run is of
    messages held earlier (node/app/held_messages.py), whose public records were shown then."""
    context = RunContext(node, sender, batch, run)
    profile: dict[str, Any] | None = None
    decisions: list[dict[str, Any]] = []
    still_held: set[int] = set()
    for entry, body in run:
        if body is None:
            continue  # withheld from this node, or no body: nothing here to act on
        if entry.type not in m.BODY_TYPES:
            continue  # a protocol entry (a join request): the federation layer took it
        if entry.type not in HANDLERS and released:
            continue
        held = entry.type in HANDLERS and _held_back(context)
        record = None if held else m.decode_body(entry.type, body)
        if not held and record is None:
            if _heard(context):
                _refuse(context, entry.type, "its body is not a valid message of its type")
            continue
        if isinstance(record, m.CircleProfile):
            profile = msgspec.to_builtins(record)
            continue
        if isinstance(record, m.DecisionRecord):
            decisions.append(msgspec.to_builtins(record))
            continue
        if isinstance(record, m.Introduction) and _not_yet_admitted(context, record):
            held = True
        if held:
            still_held.add(entry.seq)
            if not released:
                context.held().hold(context.other, entry.seq)
            continue
        to = getattr(record, "to", None)
        if isinstance(to, str) and to != context.me:
            continue  # addressed to another circle
        if not _heard(context):
            continue
        _handle(context, entry.type, record, careful)
    if released:  # what was held and is no longer: applied, refused, or nothing to apply
        context.held().release(
            context.other, [entry.seq for entry, _ in run if entry.seq not in still_held]
        )
    if profile is not None or decisions:
        context.view().seen(run[-1][0].seq, profile, decisions)


def _heard(c: RunContext) -> bool:
    """Whether messages from the sender may take effect here now."""
    return c.founded and c.sender.status in (PEER, JOINING)


def _held_back(c: RunContext) -> bool:
    """Messages wait while this node has no circle to change, and an applicant's until its
    circle is admitted (PROTOCOL.md 11.2)."""
    return not c.founded or c.sender.status == APPLICANT


def _not_yet_admitted(c: RunContext, record: m.Introduction) -> bool:
    """A node this one asked to join introduces others: followed once it admits this one."""
    return c.sender.status == JOINING and not c.admitted and record.node != c.me


def _handle(c: RunContext, type_: str, record: Any, careful: bool) -> None:
    """Apply one message; refused (and the refusal recorded) if it does not fit."""
    batch = c.batch
    mark = batch.checkpoint()
    try:
        HANDLERS[type_](c, record)
        if careful:
            c.node.check_outgoing(batch.aggregates())
    except WontSign as error:
        batch.rollback(mark)
        _refuse(c, type_, f"This is too large to share with other circles: {error}")
    except (DomainError, Rejected, ValueError) as error:
        # A refused message changes nothing but the record of its refusal: whatever the
        # handler changed before it was refused is undone.
        batch.rollback(mark)
        _refuse(c, type_, str(error))
    except PersistenceError:
        raise  # the store failed: nothing of the run is stored, and it comes again
    except Exception:
        # A fault of this node's (a bug), not of the message: refused all the same, so the
        # peer's feed is taken and the fault logged, never a failed push or pull.
        log.exception("a %s message could not be applied", type_)
        batch.rollback(mark)
        _refuse(c, type_, "This node could not apply it (an error of its own)")


def _refuse(context: RunContext, what: str, reason: str) -> None:
    context.relationship().record_refusal(what, reason)


# Handlers, one per message type.


def _peering_request(c: RunContext, _: Any) -> None:
    c.relationship().peering_requested()


def _peering_accept(c: RunContext, _: Any) -> None:
    c.relationship().peering_accepted()


def _peering_end(c: RunContext, _: Any) -> None:
    c.relationship().peering_ended()


def _introduction(c: RunContext, record: m.Introduction) -> None:
    """A circle admitted a node to the network. If it is this one, this circle is in; else this
    node follows the newcomer (the introducer vouches for it; its inception proves its id)."""
    if record.node == c.me:
        c.relationship().admitted_us()
        for aggregate in c.node.make_peer(feed_id_from_node_id(c.other)):
            c.batch.add(aggregate)
        c.admitted = True
        c.batch.after_save(c.node.release_held)  # the introductions it made before
        return
    # Introductions are followed from the nodes this one chose to follow (it asked to join
    # them, or admitted them): not from a node that is itself still asking to join.
    if c.sender.status not in (PEER, JOINING):
        raise DomainError("Introductions are followed only from nodes this one follows")
    inception = decode_signed_entry(record.inception)
    if node_id(inception.hash) != record.node:
        raise DomainError("The introduction's inception is another node's than it names")
    if c.node.follow(inception, record.url, record.name, c.batch) is not None:
        c.relationship(record.node, record.name)


def _coop_apply(c: RunContext, record: m.CoopApplication) -> None:
    entity = None
    if record.corporate:
        if not (record.legal_name and record.legal_number and record.legal_registry):
            raise DomainError("A corporate member names its legal entity")
        entity = LegalEntity(record.legal_name, record.legal_number, record.legal_registry)
    c.relationship().applied_to_us(record.corporate, entity)


def _coop_admit(c: RunContext, _: Any) -> None:
    c.relationship().admitted_as_member()


def _coop_withdraw(c: RunContext, _: Any) -> None:
    c.relationship().withdrew()
    circle = c.circle()
    for role in ("delegate", "leader"):
        circle.unseat_linked(seat_of(c.other, role), c.today)


def _delegate(c: RunContext, record: m.LinkPerson) -> None:
    c.relationship().delegate_named(record.person)
    c.name(record.person, record.name)
    c.circle().seat_linked(seat_of(c.other, "delegate"), c.today)


def _leader_proposed(c: RunContext, record: m.LinkPerson) -> None:
    c.relationship().leader_proposed(record.person)


def _leader_agreed(c: RunContext, record: m.LinkPerson) -> None:
    c.relationship().leader_agreed(record.person)
    c.name(record.person, record.name)
    c.circle().seat_linked(seat_of(c.other, "leader"), c.today)


def _summary(c: RunContext, record: m.CircleSummary) -> None:
    if c.relationship().coop != "has_member":
        raise DomainError("Only a circle that is part of this one sends its logbook summary")
    for holder in record.hats:
        c.name(holder.person, holder.name)
    summary = msgspec.to_builtins(record)
    for hat in summary["hats"]:
        hat.pop("name")  # names are kept apart, as erasable personal data
    c.view().summary_seen(summary)


def _consent_request(c: RunContext, record: m.ConsentRequest) -> None:
    """The other circle asks this circle for its consent (a seat is asked by `seat.request`)."""
    if record.seat:
        raise DomainError("A request for this circle's consent names no seat")
    c.relationship().consent_requested(record.proposal, record.round, record.title, record.text)


def _seat_request(c: RunContext, record: m.ConsentRequest) -> None:
    """The co-op asks this circle's delegate or leader for their answer, in their seat."""
    if not record.seat:
        raise DomainError("A request for a seat's answer names the seat")
    c.relationship().consent_requested(
        record.proposal, record.round, record.title, record.text, record.seat
    )


def _consent_answer(c: RunContext, record: m.ConsentAnswer) -> None:
    if record.seat:
        raise DomainError("A circle's answer names no seat (a seat answers by seat.answer)")
    c.proposal(record.proposal).record_circle_answer(
        c.circle(), c.other, record.round, record.consents, record.argument
    )


def _seat_answer(c: RunContext, record: m.ConsentAnswer) -> None:
    if record.seat not in ("delegate", "leader"):
        raise DomainError("There is no such seat")
    holder = c.relationship().seat_holder(record.seat)
    if record.person and record.person != holder:
        raise DomainError(f"That answer is not from the holder of the {record.seat} seat")
    process = c.process(record.proposal)
    if process.round_number != record.round:
        raise DomainError(f"That answer is for round {record.round}, not the open one")
    seat = seat_of(c.other, record.seat)
    if record.consents:
        process.consent(c.circle(), seat, c.now, record.argument)
    else:
        process.raise_objection(c.circle(), seat, record.argument, c.now)


def _link_vacated(c: RunContext, record: m.SeatVacated) -> None:
    """The member circle's delegate or leader took the hat off: the seat has no holder, and
    leaves this circle (unless the circle records someone else as its holder)."""
    if c.relationship().seat_vacated(record.seat, record.person):
        c.circle().unseat_linked(seat_of(c.other, record.seat), c.today)


def _support_request(c: RunContext, record: m.SupportRequestMessage) -> None:
    if NETWORK not in record.to and c.me not in record.to:
        return
    circle = c.circle()
    request_id = seen_request_id(circle.id, c.other, record.request)

    def seen() -> SupportRequest:
        request = SupportRequest.seen(circle, c.other, record.request, record.kind, record.text)
        c.index("support").file(request.id)
        return request

    c.batch.get(request_id, seen)


def _support_offer(c: RunContext, record: m.SupportMessage) -> None:
    c.support(record.request).offer_received(c.other, record.text)


def _theirs(c: RunContext, record: m.SupportMessage) -> SupportRequest:
    """The request (of the sender's) this message is about, as this circle holds it."""
    request_id = seen_request_id(c.node.circle_id, c.other, record.request)
    return c.support(str(request_id))


def _support_outcome(c: RunContext, record: m.SupportMessage) -> None:
    _theirs(c, record).outcome_received(record.accepted, record.accepted == c.me)


def _support_closed(c: RunContext, record: m.SupportClosed) -> None:
    """The asker accepted an offer: a request this circle was asked takes no more offers.
    One this circle does not hold (a request to the network sent before it knew the asker)
    has nothing to close: no refusal."""
    if NETWORK not in record.to and c.me not in record.to:
        return
    request_id = seen_request_id(c.node.circle_id, c.other, record.request)
    try:
        request = c.support(str(request_id), _not_held)
    except _NotHeld:
        return
    request.closure_received()


class _NotHeld(Exception):
    """The request a closure is about is not held here."""


def _not_held() -> SupportRequest:
    raise _NotHeld


def _either(c: RunContext, record: m.SupportMessage) -> SupportRequest:
    """A delivery or reflection may be about our request or one of theirs."""
    try:
        request = c.support(record.request)
        if request.is_ours and request.accepted == c.other:
            return request
    except DomainError:
        pass
    return _theirs(c, record)


def _support_delivered(c: RunContext, record: m.SupportMessage) -> None:
    _either(c, record).delivery_reported(record.text)


def _support_reflection(c: RunContext, record: m.SupportMessage) -> None:
    _either(c, record).reflection_received(c.other, record.text)


def _person_erased(c: RunContext, record: m.PersonErased) -> None:
    """The other circle erased someone's personal data on their request: so do we, in the
    run's save, with what the same run brings of them (bodies and their name)."""
    # A co-op's records name its people at its member circles too (`circle.records`).
    if c.relationship().coop not in (CoopLink.HAS_MEMBER, CoopLink.WITHDRAWN, CoopLink.MEMBER_OF):
        raise DomainError(
            "Only a circle that is or was part of this one, or the co-op this one is part of, "
            "erases its people here"
        )
    if not record.person.strip():
        raise DomainError("Name the person whose data was erased")
    erased = c.node.erasure.erase_remote_person(c.other, record.person, record.bodies, c.run)
    erase_remote_appellant(c, record.person)
    c.batch.erase(erased.bodies, [erased.details])


HANDLERS: dict[str, Callable[[RunContext, Any], None]] = {
    m.PEERING_REQUEST: _peering_request,
    m.PEERING_ACCEPT: _peering_accept,
    m.PEERING_END: _peering_end,
    m.INTRODUCTION: _introduction,
    m.COOP_APPLY: _coop_apply,
    m.COOP_ADMIT: _coop_admit,
    m.COOP_WITHDRAW: _coop_withdraw,
    m.LINK_DELEGATE: _delegate,
    m.LINK_LEADER_PROPOSED: _leader_proposed,
    m.LINK_LEADER_AGREED: _leader_agreed,
    m.LINK_VACATED: _link_vacated,
    m.CIRCLE_SUMMARY: _summary,
    m.CONSENT_REQUEST: _consent_request,
    m.CONSENT_ANSWER: _consent_answer,
    m.SEAT_REQUEST: _seat_request,
    m.SEAT_ANSWER: _seat_answer,
    m.SUPPORT_REQUEST: _support_request,
    m.SUPPORT_OFFER: _support_offer,
    m.SUPPORT_OUTCOME: _support_outcome,
    m.SUPPORT_DELIVERED: _support_delivered,
    m.SUPPORT_REFLECTION: _support_reflection,
    m.SUPPORT_CLOSED: _support_closed,
    m.PERSON_ERASED: _person_erased,
    m.CIRCLE_RECORDS: take_records,
    m.MEETING_MINUTES: take_minutes,
    m.APPEAL_JOIN: take_appeal_join,
    m.APPEAL_REFERRAL: take_appeal_referral,
    m.APPEAL_ANSWER: take_appeal_answer,
}
