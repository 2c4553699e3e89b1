"""Shared pieces of the member API's requests: text fields, moments, and names for people
(a proposal's subject is declared by purpose in subjects.py).

Text must be valid Unicode (a lone surrogate cannot be stored) and of a sensible length; both
are refused as malformed (400) before the circle sees them. Moments must say their time zone:
a naive one is refused by the circle's rules (422), since "9:00" means nothing across nodes.
"""

from __future__ import annotations

from datetime import UTC, datetime, tzinfo
from typing import Annotated, overload

from pydantic import AfterValidator, Field

from domain.errors import InvalidRequest
from node.app.node import CircleNode


def _valid_unicode(value: str) -> str:
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError("text must be valid Unicode (no lone surrogates)") from None
    return value


# An id of a record, a hat or a person (or a node id).
Ref = Annotated[str, Field(min_length=1, max_length=200), AfterValidator(_valid_unicode)]
# A title or a name.
Title = Annotated[str, Field(max_length=300), AfterValidator(_valid_unicode)]
# A sentence or a paragraph: a reason, a question, an argument.
Say = Annotated[str, Field(max_length=4_000), AfterValidator(_valid_unicode)]
# A proposal's or a decision's text, minutes.
Body = Annotated[str, Field(max_length=20_000), AfterValidator(_valid_unicode)]


@overload
def aware(moment: datetime, what: str) -> datetime: ...
@overload
def aware(moment: None, what: str) -> None: ...
@overload
def aware(moment: datetime | None, what: str) -> datetime | None: ...
def aware(moment: datetime | None, what: str) -> datetime | None:
    """The moment, if it says its time zone; a naive one is refused (422)."""
    if moment is None:
        return None
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise InvalidRequest(
            f"The {what} needs a time zone, e.g. 2026-03-01T09:00:00+01:00 or ...Z"
        )
    try:
        moment.astimezone(UTC)
    except OverflowError:
        raise InvalidRequest(f"The {what} is out of range") from None
    return moment


@overload
def in_zone(moment: datetime, zone: tzinfo) -> datetime: ...
@overload
def in_zone(moment: None, zone: tzinfo) -> None: ...
def in_zone(moment: datetime | None, zone: tzinfo) -> datetime | None:
    """The moment as the API shows it: in the circle's time zone, with its offset."""
    return None if moment is None else moment.astimezone(zone)


def name_of(node: CircleNode, person_id: str) -> str:
    """A person's name as the circle knows it; a linked seat as its circle named them."""
    if "/" in person_id:
        return node.relations.seat_name(person_id)
    return node.records.person_name(person_id)
