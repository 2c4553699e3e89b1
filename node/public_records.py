"""The bodies of the entries a circle publishes: its public records, as msgspec structs.

Each entry type has one body struct; a receiver decodes the body with exactly that struct and
refuses anything else.
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


class DecisionRecord(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    decision_id: str
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


BODY_TYPES: dict[str, type[msgspec.Struct]] = {
    CIRCLE_PROFILE: CircleProfile,
    DECISION_RECORD: DecisionRecord,
}
_DECODERS = {name: msgspec.msgpack.Decoder(cls) for name, cls in BODY_TYPES.items()}
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
