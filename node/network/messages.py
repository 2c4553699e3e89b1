"""What circles say to each other: the entry types a node publishes and their bodies.

Each entry type has one body struct (a MessagePack map); a receiver decodes the body with
exactly that struct and refuses anything else. Messages between two circles name the receiver
in `to` (a node id) and have it alone as their entry's audience; public records (the circle's
profile, its decisions, introductions, requests for support to the whole network) are public.
"""

from __future__ import annotations

from datetime import date

import msgspec

CIRCLE_PROFILE = "circle.profile"
DECISION_RECORD = "decision.record"


class CircleProfile(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    name: str
    aim: str
    domain: str
    kind: str
    parent: str | None
    status: str
    legal_name: str | None = None
    legal_number: str | None = None
    legal_registry: str | None = None


class DecisionRecord(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True):
    """A decision's public record. Keyword-only, so that `binding`, added within version 1,
    keeps its place in the map while taking a default (PROTOCOL.md 11.7)."""

    decision_id: str
    binding: bool = False  # a policy that binds the circles that are part of this one
    kind: str
    title: str
    text: str
    status: str
    effective: date
    review_date: date
    area: str | None = None
    hat_id: str | None = None
    term_end: date | None = None
    measures: list[str] = []


# Relationships between circles.
PEERING_REQUEST = "peering.request"
PEERING_ACCEPT = "peering.accept"
PEERING_END = "peering.end"
INTRODUCTION = "network.introduction"
COOP_APPLY = "coop.apply"
COOP_ADMIT = "coop.admit"
COOP_WITHDRAW = "coop.withdraw"
LINK_DELEGATE = "link.delegate"
LINK_LEADER_PROPOSED = "link.leader_proposed"
LINK_LEADER_AGREED = "link.leader_agreed"
LINK_VACATED = "link.vacated"
CIRCLE_SUMMARY = "circle.summary"
CONSENT_REQUEST = "consent.request"
CONSENT_ANSWER = "consent.answer"
SEAT_REQUEST = "seat.request"
SEAT_ANSWER = "seat.answer"
SUPPORT_REQUEST = "support.request"
SUPPORT_OFFER = "support.offer"
SUPPORT_OUTCOME = "support.outcome"
SUPPORT_DELIVERED = "support.delivered"
SUPPORT_REFLECTION = "support.reflection"
SUPPORT_CLOSED = "support.closed"
PERSON_ERASED = "person.erased"
# What a co-op sees of its member circles (and a member circle of its co-op).
CIRCLE_RECORDS = "circle.records"
MEETING_MINUTES = "meeting.minutes"
# Appeals against a circle's decisions.
APPEAL_JOIN = "appeal.join"
APPEAL_REFERRAL = "appeal.referral"
APPEAL_ANSWER = "appeal.answer"


class Addressed(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """A message with nothing to say but that it happened (peering, admission, withdrawal)."""

    to: str  # the receiving circle's node id


class Introduction(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """This circle admitted a node to the network: others can check its inception."""

    node: str
    url: str
    name: str
    inception: bytes  # the admitted node's signed inception entry (encoded)


class CoopApplication(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    to: str
    corporate: bool
    legal_name: str | None = None
    legal_number: str | None = None
    legal_registry: str | None = None


class LinkPerson(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """Who holds a seat of the double link (the name is personal data, erasable)."""

    to: str
    person: str
    name: str = ""


class SeatVacated(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """A seat of the double link has no holder: its holder no longer wears the hat."""

    to: str
    seat: str  # "delegate" or "leader"
    person: str  # who held it, by their id in the member circle


class HatHolder(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    hat: str
    person: str
    name: str
    review_date: date


class CircleSummary(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """A member circle's logbook summary for its co-op: aim, hats, policies, reviews due."""

    to: str
    aim: str
    status: str
    hats: list[HatHolder]
    policies: list[str]
    reviews_due: list[str]


class ConsentRequest(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """A proposal asks a linked circle for its consent (federated consent), or a seat holder
    for their answer (the double link)."""

    to: str
    proposal: str
    round: int
    title: str
    text: str
    seat: str = ""  # for a seat request: "delegate" or "leader"


class ConsentAnswer(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    to: str
    proposal: str
    round: int
    consents: bool
    argument: str = ""
    seat: str = ""
    # Added within version 1, so with a default (PROTOCOL.md 11.7): for a seat's answer, who
    # answers (their id in the member circle).
    person: str = ""


class SupportRequestMessage(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    request: str  # the request's id on the asking node
    kind: str
    text: str
    to: list[str]  # the circles asked, or ["network"]


class SupportMessage(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """An offer, an outcome, a delivery or a reflection about one request."""

    to: str
    request: str  # the request's id on the asking node
    text: str = ""
    accepted: str = ""  # for an outcome: the circle whose offer was accepted


class SupportClosed(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """A request for support takes no more offers (the asker accepted one): to every circle
    it asked."""

    request: str  # the request's id on the asking node
    to: list[str]  # the circles asked, or ["network"], as in the request


class PersonErased(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """Someone asked for their personal data to be erased: delete what you hold of it."""

    to: str
    person: str
    bodies: list[bytes]  # hashes of the bodies of ours that named them


class Wearer(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    person: str
    name: str  # personal data
    review_date: date  # the end of their term


class HatRecord(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """One hat of a circle: who wears it until when, and who steps in for them."""

    hat: str  # the hat's id
    title: str  # the hat's name
    wearers: list[Wearer]
    back_stop: str | None  # the person who steps in when a wearer cannot, or None
    back_stop_name: str  # their name (personal data), or ""


class CircleRecords(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """A circle's records for a circle it is linked to (its co-op, or a member circle): its
    aim, and its hats with their wearers and back-stops. Its decisions in force and those due
    for review travel one by one, in their own public `decision.record`."""

    to: str
    aim: str
    mission_link: str | None  # how the aim serves the co-op's mission, if it says
    status: str
    hats: list[HatRecord]


class MinutesItem(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    title: str
    outcome: str


class MeetingMinutes(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """A meeting's consented minutes, for the co-op: never a confidential item."""

    to: str
    meeting: str  # the meeting's id
    title: str
    held_on: date  # the day it was held
    items: list[MinutesItem]  # the items decided, confidential ones left out
    minutes: str


class AppealJoin(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """Someone of the sending circle appeals a decision of the receiving circle."""

    to: str
    decision: str  # the decision's id on the receiving node
    grounds: str
    person: str  # who appeals, by their id in the sending circle (no name: 11.6)


class AppealReferral(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """The sending circle (the entry's author) takes an appeal against one of its decisions to
    the receiving circle, its care and counsel group or its broader circle, to hear and
    answer."""

    to: str
    appeal: str  # the appeal's id on the sending node
    hearing: str  # "care_and_counsel" or "broader_circle"
    title: str  # the decision's title and text
    text: str
    grounds: str
    appellants: int  # how many appeal it (three or more)
    delegates: list[str]  # the sending circle's delegates, by their id there


class AppealAnswer(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """The receiving circle's care and counsel group or broader circle answers its appeal."""

    to: str
    appeal: str  # the appeal's id on the receiving node
    hearing: str
    upheld: bool
    reason: str


BODY_TYPES: dict[str, type[msgspec.Struct]] = {
    CIRCLE_PROFILE: CircleProfile,
    DECISION_RECORD: DecisionRecord,
    PEERING_REQUEST: Addressed,
    PEERING_ACCEPT: Addressed,
    PEERING_END: Addressed,
    INTRODUCTION: Introduction,
    COOP_APPLY: CoopApplication,
    COOP_ADMIT: Addressed,
    COOP_WITHDRAW: Addressed,
    LINK_DELEGATE: LinkPerson,
    LINK_LEADER_PROPOSED: LinkPerson,
    LINK_LEADER_AGREED: LinkPerson,
    LINK_VACATED: SeatVacated,
    CIRCLE_SUMMARY: CircleSummary,
    CONSENT_REQUEST: ConsentRequest,
    CONSENT_ANSWER: ConsentAnswer,
    SEAT_REQUEST: ConsentRequest,
    SEAT_ANSWER: ConsentAnswer,
    SUPPORT_REQUEST: SupportRequestMessage,
    SUPPORT_OFFER: SupportMessage,
    SUPPORT_OUTCOME: SupportMessage,
    SUPPORT_DELIVERED: SupportMessage,
    SUPPORT_REFLECTION: SupportMessage,
    PERSON_ERASED: PersonErased,
    CIRCLE_RECORDS: CircleRecords,
    MEETING_MINUTES: MeetingMinutes,
    APPEAL_JOIN: AppealJoin,
    APPEAL_REFERRAL: AppealReferral,
    APPEAL_ANSWER: AppealAnswer,
    SUPPORT_CLOSED: SupportClosed,
}
_DECODERS = {name: msgspec.msgpack.Decoder(cls) for name, cls in BODY_TYPES.items()}
# The types whose bodies name people of their author's circle (PROTOCOL.md 11.6).
NAMING = frozenset({LINK_DELEGATE, LINK_LEADER_AGREED, CIRCLE_SUMMARY, CIRCLE_RECORDS})
_ENCODER = msgspec.msgpack.Encoder()


def encode_body(record: msgspec.Struct) -> bytes:
    return _ENCODER.encode(record)


def decode_body(entry_type: str, body: bytes) -> msgspec.Struct | None:
    """The record in a body, or None if the type has no body struct or the bytes do not fit it."""
    decoder = _DECODERS.get(entry_type)
    if decoder is None:
        return None
    try:
        return decoder.decode(body)  # type: ignore[no-any-return]
    except (msgspec.DecodeError, ValueError):
        return None


def names_person(entry_type: str, body: bytes, person: str) -> bool:
    """Whether a body of one of the `NAMING` types names `person` (by their id in its author's
    circle): the holder of a link, a hat holder of a summary, a wearer or back-stop of a
    circle's records."""
    if entry_type not in NAMING:
        return False
    record = decode_body(entry_type, body)
    if isinstance(record, LinkPerson):
        return record.person == person
    if isinstance(record, CircleSummary):
        return any(holder.person == person for holder in record.hats)
    if isinstance(record, CircleRecords):
        return any(
            hat.back_stop == person or any(wearer.person == person for wearer in hat.wearers)
            for hat in record.hats
        )
    return False
