"""A valid body of every application entry type (node/network/messages.py), for the vectors.

Each record is written as its author writes it: a message between two circles names the
receiver in `to` (the vector reader's node id) and has that reader alone as its audience; a
public record has an empty audience.
"""

from __future__ import annotations

from datetime import date

import msgspec

from federation.wire import SignedEntry, body_hash, encode
from node.network import messages as m

# Ids are the author's UUIDs as text (PROTOCOL.md 11.1).
DECISION_ID = "5b0f3c1e-8a52-4f0e-9d7a-0c6e2b1f4a31"
EVERYDAY_DECISION_ID = "9e4d2a77-3b1c-4c8e-b0f5-7a6d1e2c9b08"
PROPOSAL_ID = "c2a8e6f0-1d4b-4e79-8f3a-6b5c0d9e2f14"
REQUEST_ID = "7f1e9b3d-2c6a-4d08-a5e1-3b8f0c4d6e27"
PERSON_ID = "e3b7d1c9-6f2a-4a5e-8c0b-1d9f7e3a5b62"
HAT_ID = "1a9c5e3f-7b2d-4f6a-9e8c-4d0b2a6f8c15"
BACK_STOP_ID = "4c8a2e6d-0b3f-4d1a-9c7e-5f2b8d0a6e93"
MEETING_ID = "b6d2f8a4-5e1c-4b7d-8a3f-2c9e0d6b4f17"
APPEAL_ID = "4c8a2e6b-9d1f-4b37-a0e5-2f7c9b1d3e58"


def everyday_decision() -> m.DecisionRecord:
    """The decision record of rotation.json's seq 5: an everyday decision of a hat."""
    return m.DecisionRecord(
        decision_id=EVERYDAY_DECISION_ID,
        binding=False,
        kind="operational",
        title="New rota from February",
        text="Visits are planned a week ahead.",
        status="in_force",
        effective=date(2026, 1, 1),
        review_date=date(2026, 7, 1),
        area="rota",
        hat_id=HAT_ID,
    )


def dissolved_profile() -> m.CircleProfile:
    """The profile of equivocation.json's conflicting seq 1: the same circle, dissolved."""
    return m.CircleProfile(
        name="Calder Valley Care Circle",
        aim="Good care at home",
        domain="Care",
        kind="local",
        parent=None,
        status="dissolved",
    )


def records(
    reader: str, introduced: str, inception: SignedEntry
) -> list[tuple[str, msgspec.Struct, bool]]:
    """(type, record, public) for every registered type, in BODY_TYPES order. `reader` is the
    node id messages are addressed to; `introduced` and `inception` the node introduced."""
    addressed = m.Addressed(to=reader)
    delegate = m.LinkPerson(to=reader, person=PERSON_ID, name="Kim Cook")
    offer = m.SupportMessage(to=reader, request=REQUEST_ID, text="Two drivers on Tuesdays")
    by_type: dict[str, tuple[msgspec.Struct, bool]] = {
        m.CIRCLE_PROFILE: (
            m.CircleProfile(
                name="Calder Valley Care Circle",
                aim="Good care at home",
                domain="Care",
                kind="local",
                parent="Calder Care Co-operative",
                status="incorporated",
                legal_name="Calder Valley Care Ltd",
                legal_number="RS012345",
                legal_registry="FCA Mutuals Register",
            ),
            True,
        ),
        m.DECISION_RECORD: (
            m.DecisionRecord(
                decision_id=DECISION_ID,
                binding=True,
                kind="policy",
                title="Visits last at least 30 minutes",
                text="No visit is shorter than 30 minutes.",
                status="in_force",
                effective=date(2026, 1, 1),
                review_date=date(2027, 1, 1),
                term_end=date(2027, 12, 31),
                measures=["Check the rota each month"],
            ),
            True,
        ),
        m.PEERING_REQUEST: (addressed, False),
        m.PEERING_ACCEPT: (addressed, False),
        m.PEERING_END: (addressed, False),
        m.INTRODUCTION: (
            m.Introduction(
                node=introduced,
                url="https://orchard.example",
                name="Orchard",
                inception=encode(inception),
            ),
            True,
        ),
        m.COOP_APPLY: (
            m.CoopApplication(
                to=reader,
                corporate=True,
                legal_name="Calder Valley Care Ltd",
                legal_number="RS012345",
                legal_registry="FCA Mutuals Register",
            ),
            False,
        ),
        m.COOP_ADMIT: (addressed, False),
        m.COOP_WITHDRAW: (addressed, False),
        m.LINK_DELEGATE: (delegate, False),
        m.LINK_LEADER_PROPOSED: (m.LinkPerson(to=reader, person=PERSON_ID), False),
        m.LINK_LEADER_AGREED: (delegate, False),
        m.LINK_VACATED: (m.SeatVacated(to=reader, seat="delegate", person=PERSON_ID), False),
        m.CIRCLE_SUMMARY: (
            m.CircleSummary(
                to=reader,
                aim="Good care at home",
                status="active",
                hats=[m.HatHolder(HAT_ID, PERSON_ID, "Kim Cook", date(2026, 12, 1))],
                policies=["Visits last at least 30 minutes"],
                reviews_due=[],
            ),
            False,
        ),
        m.CONSENT_REQUEST: (
            m.ConsentRequest(
                to=reader, proposal=PROPOSAL_ID, round=1, title="Shared rota", text="One rota."
            ),
            False,
        ),
        m.CONSENT_ANSWER: (
            m.ConsentAnswer(
                to=reader, proposal=PROPOSAL_ID, round=2, consents=False, argument="Too soon"
            ),
            False,
        ),
        m.SEAT_REQUEST: (
            m.ConsentRequest(
                to=reader,
                proposal=PROPOSAL_ID,
                round=1,
                title="Shared rota",
                text="One rota.",
                seat="delegate",
            ),
            False,
        ),
        m.SEAT_ANSWER: (
            m.ConsentAnswer(
                to=reader,
                proposal=PROPOSAL_ID,
                round=1,
                consents=True,
                seat="delegate",
                person=PERSON_ID,  # the seat's holder answers
            ),
            False,
        ),
        m.SUPPORT_REQUEST: (
            m.SupportRequestMessage(
                request=REQUEST_ID, kind="people", text="Drivers for visits", to=["network"]
            ),
            True,
        ),
        m.SUPPORT_OFFER: (offer, False),
        m.SUPPORT_OUTCOME: (
            m.SupportMessage(to=reader, request=REQUEST_ID, accepted=reader),
            False,
        ),
        m.SUPPORT_DELIVERED: (
            m.SupportMessage(to=reader, request=REQUEST_ID, text="Driven 12 visits"),
            False,
        ),
        m.SUPPORT_REFLECTION: (
            m.SupportMessage(to=reader, request=REQUEST_ID, text="It worked well"),
            False,
        ),
        m.PERSON_ERASED: (
            m.PersonErased(
                to=reader,
                person=PERSON_ID,
                bodies=[body_hash(m.encode_body(delegate))],  # the link.delegate body names her
            ),
            False,
        ),
        m.CIRCLE_RECORDS: (
            m.CircleRecords(
                to=reader,
                aim="Good care at home",
                mission_link="Care close to home is the co-op's mission in the valley",
                status="active",
                hats=[
                    m.HatRecord(
                        hat="rota-keeper",
                        title="Rota keeper",
                        wearers=[m.Wearer(PERSON_ID, "Kim Cook", date(2026, 7, 1))],
                        back_stop=BACK_STOP_ID,
                        back_stop_name="Ash Lee",
                    ),
                    m.HatRecord(
                        hat="delegate",
                        title="Delegate",
                        wearers=[],
                        back_stop=None,
                        back_stop_name="",
                    ),
                ],
            ),
            False,
        ),
        m.MEETING_MINUTES: (
            m.MeetingMinutes(
                to=reader,
                meeting=MEETING_ID,
                title="June meeting",
                held_on=date(2026, 6, 3),
                items=[m.MinutesItem("The rota", "Kim keeps it until July")],
                minutes="Five present. The rota was agreed; visits start at nine.",
            ),
            False,
        ),
        m.APPEAL_JOIN: (
            m.AppealJoin(
                to=reader,
                decision=EVERYDAY_DECISION_ID,
                grounds="The rota leaves out the evening visits",
                person=PERSON_ID,  # by their id in the author's circle, no name
            ),
            False,
        ),
        m.APPEAL_REFERRAL: (
            m.AppealReferral(
                to=reader,
                appeal=APPEAL_ID,
                hearing="care_and_counsel",
                title="New rota from February",
                text="Visits are planned a week ahead.",
                grounds="The rota leaves out the evening visits",
                appellants=3,
                delegates=[PERSON_ID],
            ),
            False,
        ),
        m.APPEAL_ANSWER: (
            m.AppealAnswer(
                to=reader,
                appeal=APPEAL_ID,
                hearing="care_and_counsel",
                upheld=True,
                reason="Evening visits need a place on the rota",
            ),
            False,
        ),
        # To the circles asked (the reader); to ["network"], it is public like the request.
        m.SUPPORT_CLOSED: (m.SupportClosed(request=REQUEST_ID, to=[reader]), False),
    }
    return [(name, *by_type[name]) for name in m.BODY_TYPES if name in by_type]


def readable(record: msgspec.Struct) -> object:
    """The record's fields as JSON values: bytes as hex, dates as text."""

    def convert(value: object) -> object:
        if isinstance(value, bytes):
            return value.hex()
        if isinstance(value, date):
            return value.isoformat()
        if isinstance(value, dict):
            return {key: convert(item) for key, item in value.items()}
        if isinstance(value, list):
            return [convert(item) for item in value]
        return value

    return convert(msgspec.to_builtins(record, builtin_types=(bytes, date)))
