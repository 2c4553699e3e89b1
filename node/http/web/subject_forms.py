"""A proposal's subject as form fields, read from the typed subjects of the member API
(node/http/api/subjects.py): each purpose's fields, what kind of field each is (a line of text,
a longer text, a date, a number, yes or no, a choice, a list, a list of pairs), its label and
its hint, and how what was typed becomes the subject. A new purpose, or a new key of one, gets
its fields here without page code.

What cannot be read (a date that is not one, a number that is not one, a choice not offered)
is refused beside its field (`FieldRefused`), as is a value the subject's schema refuses (too
long, out of range); what only the circle can check (that a decision or a circle named exists)
the circle refuses with its own sentence when the proposal is drafted.
"""

from __future__ import annotations

import types
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from enum import Enum
from typing import Annotated, Any, Union, get_args, get_origin

from annotated_types import MaxLen
from pydantic import ValidationError
from pydantic.fields import FieldInfo

from domain.values import Purpose
from node.http.api.subjects import SUBJECT_TABLE, SUBJECTS
from node.http.web.forms import FieldRefused

# What each kind of field is drawn as (templates/draft.html).
TEXT, LONG, DATE, NUMBER, DECIMAL, YES_NO, CHECK, CHOICE, LINES, PAIRS = (
    "text",
    "long",
    "date",
    "number",
    "decimal",
    "yes_no",
    "check",
    "choice",
    "lines",
    "pairs",
)
LONG_TEXT = 4_000  # a text that may be this long or longer is a text area


@dataclass(frozen=True)
class SubjectField:
    """One field of a purpose's subject, as its form draws it."""

    name: str  # the subject's key, also the form field's and the query parameter's name
    label: str
    hint: str
    kind: str
    required: bool
    options: tuple[tuple[str, str], ...] = ()  # (value, label) for a choice
    default: str = ""

    @property
    def words(self) -> str:
        return self.label.lower()


def _unwrapped(annotation: Any) -> tuple[Any, list[Any]]:
    """The type under Optional and Annotated, with the metadata Annotated carried."""
    metadata: list[Any] = []
    while True:
        origin = get_origin(annotation)
        if origin is Annotated:
            annotation, *extra = get_args(annotation)
            for item in extra:
                metadata.extend(item.metadata if isinstance(item, FieldInfo) else [item])
        elif origin in (Union, types.UnionType):
            kept = [a for a in get_args(annotation) if a is not type(None)]
            if len(kept) != 1:
                return annotation, metadata
            annotation = kept[0]
        else:
            return annotation, metadata


def _choices(kind: Any) -> tuple[tuple[str, str], ...]:
    return tuple((str(member.value), str(member.value).replace("_", " ")) for member in kind)


def _kind(annotation: Any, metadata: list[Any], required: bool) -> tuple[str, Any]:
    """The kind of field, and the enumeration a choice (or a pair's value) is from."""
    origin = get_origin(annotation)
    if annotation is bool:
        return (YES_NO if required else CHECK), None
    if isinstance(annotation, type) and issubclass(annotation, Enum):
        return CHOICE, annotation
    if annotation is date:
        return DATE, None
    if annotation is int:
        return NUMBER, None
    if annotation is Decimal:
        return DECIMAL, None
    if origin is list:
        return LINES, None
    if origin is dict:
        value, _ = _unwrapped(get_args(annotation)[1])
        return PAIRS, value if isinstance(value, type) and issubclass(value, Enum) else None
    longest = max((m.max_length for m in metadata if isinstance(m, MaxLen)), default=0)
    return (LONG if longest >= LONG_TEXT else TEXT), None


def _hint(kind: str, description: str, enum: Any) -> str:
    if kind == LINES:
        return f"{description}; one a line"
    if kind == PAIRS:
        shown = " or ".join(value for value, _ in _choices(enum)) if enum else "its value"
        return f"{description}; one a line, as topic: {shown}"
    if kind == DATE:
        return f"{description}; YYYY-MM-DD"
    return description


def subject_fields(purpose: Purpose) -> list[SubjectField]:
    """The fields of this purpose's subject, in the order its schema declares them."""
    fields = []
    for name, info in SUBJECTS[purpose].model_fields.items():
        annotation, metadata = _unwrapped(info.annotation)
        required = info.is_required()
        kind, enum = _kind(annotation, [*info.metadata, *metadata], required)
        default = info.get_default() if not required else None
        fields.append(
            SubjectField(
                name=name,
                label=name.replace("_", " ").capitalize(),
                hint=_hint(kind, info.description or "", enum),
                kind=kind,
                required=required,
                options=_choices(enum) if kind == CHOICE else (),
                default="" if default is None or isinstance(default, bool) else str(default),
            )
        )
    return fields


def what_it_does(purpose: Purpose) -> str:
    """What a proposal of this purpose does, as the API's schema says it."""
    return SUBJECT_TABLE[purpose][0]


def _value(field: SubjectField, typed: str, lines: list[str]) -> Any:
    """What was typed in one field, as its kind reads it; FieldRefused if it cannot be read."""
    if field.kind == DATE:
        try:
            return date.fromisoformat(typed)
        except ValueError:
            sentence = f"The {field.words} is not a date (YYYY-MM-DD)"
            raise FieldRefused(field.name, sentence) from None
    if field.kind == NUMBER:
        try:
            return int(typed)
        except ValueError:
            raise FieldRefused(field.name, f"The {field.words} is not a whole number") from None
    if field.kind == DECIMAL:
        try:
            amount = Decimal(typed.replace(",", ""))
        except InvalidOperation:
            amount = Decimal("NaN")
        if not amount.is_finite():
            raise FieldRefused(field.name, f"The {field.words} is not a number (e.g. 1200.50)")
        return amount
    if field.kind in (YES_NO, CHECK):
        if typed not in ("yes", "no"):
            raise FieldRefused(field.name, f"Say yes or no: {field.words}")
        return typed == "yes"
    if field.kind == CHOICE:
        if typed not in {value for value, _ in field.options}:
            raise FieldRefused(field.name, f"Choose the {field.words} from the list")
        return typed
    if field.kind == LINES:
        return lines
    if field.kind == PAIRS:
        pairs = {}
        for line in lines:
            key, colon, value = line.rpartition(":")
            if not colon or not key.strip() or not value.strip():
                raise FieldRefused(field.name, f"Write each line of {field.words} as topic: value")
            pairs[key.strip()] = value.strip()
        return pairs
    return typed


def subject_of(
    purpose: Purpose, typed: dict[str, str], listed: dict[str, list[str]]
) -> dict[str, Any]:
    """The subject of a proposal of this purpose, from what was typed in its fields (`typed`:
    each field's text; `listed`: every value sent under each name). A field left empty is left
    out (the purpose's schema says whether it may be); a required one left empty is refused
    beside it."""
    raw: dict[str, Any] = {}
    fields = subject_fields(purpose)
    for field in fields:
        text = typed.get(field.name, "")
        lines = [
            line.strip()
            for value in listed.get(field.name, [])
            for line in value.splitlines()
            if line.strip()
        ]
        if not text.strip() and not lines:
            if field.required:
                raise FieldRefused(
                    field.name,
                    f"A proposal to {purpose.value.replace('_', ' ')} must name its {field.words}",
                )
            continue
        raw[field.name] = _value(field, text if field.kind == LONG else text.strip(), lines)
    try:
        checked = SUBJECTS[purpose].model_validate(raw)
    except ValidationError as refused:
        error = refused.errors()[0]
        named = str(error["loc"][0]) if error["loc"] else ""
        about = next((f for f in fields if f.name == named), None)
        if about is None:
            raise FieldRefused("", str(error["msg"])) from None
        raise FieldRefused(about.name, f"{about.label}: {error['msg'].lower()}") from None
    subject: dict[str, Any] = checked.model_dump(mode="json", exclude_unset=True)
    return subject
