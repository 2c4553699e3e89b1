"""Reading the forms the pages post: `application/x-www-form-urlencoded`.

Parsed here with the standard library (a browser posts these forms without JavaScript; no
multipart uploads are needed, so no multipart parser is either). A form's size is limited
before it is read, with every route's body (node.http.body_limits).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, tzinfo
from urllib.parse import parse_qsl

from fastapi import Request
from starlette.requests import ClientDisconnect

from domain.errors import InvalidRequest

MAX_FORM_BYTES = 64 * 1024  # the most a form may hold (applied by node.http.body_limits)
MAX_FIELDS = 200
# The most a field holds, as the member API takes it (node.http.api.fields): a title or a name,
# and any other text (a proposal's text, minutes).
TITLE_MOST = 300
TEXT_MOST = 20_000
TITLE_FIELDS = frozenset({"title", "name"})
FORM_TYPE = "application/x-www-form-urlencoded"


class BadForm(Exception):
    """A post that is not a form these pages send: answered with `status` and a sentence."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


class FieldRefused(InvalidRequest):
    """A field's value cannot be read: the sentence is shown beside `field`
    (node.http.web.refusals)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


class Form:
    """The fields of a posted form. Missing or malformed values are refused with a sentence
    (`InvalidRequest`, shown on the page like the circle's own refusals)."""

    def __init__(self, pairs: list[tuple[str, str]]) -> None:
        self.pairs = pairs

    def get(self, name: str, default: str = "") -> str:
        """The field's value; refused beside it when longer than the API would take."""
        for key, value in self.pairs:
            if key == name:
                most = TITLE_MOST if name in TITLE_FIELDS else TEXT_MOST
                if len(value) > most:
                    raise FieldRefused(name, f"This is longer than {most:,} characters")
                return value
        return default

    def getlist(self, name: str) -> list[str]:
        return [value for key, value in self.pairs if key == name]

    def values(self) -> dict[str, str]:
        """The fields as entered (the first of each name), to fill a form in again."""
        entered: dict[str, str] = {}
        for key, value in self.pairs:
            entered.setdefault(key, value)
        entered.pop("csrf", None)
        return entered

    def number(self, name: str, what: str) -> int:
        value = self.get(name).strip()
        try:
            return int(value)
        except ValueError:
            raise FieldRefused(name, f"Choose {what}") from None

    def numbers(self, name: str, what: str) -> list[int]:
        try:
            return [int(value) for value in self.getlist(name)]
        except ValueError:
            raise FieldRefused(name, f"Choose {what}") from None

    def day(self, name: str, what: str) -> date | None:
        """An optional date (YYYY-MM-DD, as a date field sends it)."""
        value = self.get(name).strip()
        if not value:
            return None
        try:
            return date.fromisoformat(value)
        except ValueError:
            raise FieldRefused(name, f"The {what} is not a date (YYYY-MM-DD)") from None

    def moment(self, name: str, what: str, zone: tzinfo = UTC) -> datetime | None:
        """An optional date and time (as a datetime-local field sends it, without an offset),
        taken as in the circle's time zone, `zone`."""
        value = self.get(name).strip()
        if not value:
            return None
        try:
            moment = datetime.fromisoformat(value)
        except ValueError:
            raise FieldRefused(name, f"The {what} is not a date and time") from None
        try:  # as the API's moments (node.http.api.fields.aware): one the clock can hold
            placed = moment.replace(tzinfo=zone) if moment.tzinfo is None else moment
            placed.astimezone(UTC)
            return placed.astimezone(zone)
        except OverflowError:
            raise FieldRefused(name, f"The {what} is out of range") from None


async def read_form(request: Request) -> Form:
    """The posted form. A post of anything else counts as a form without fields, so that it
    fails the CSRF check like every post without the token."""
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type != FORM_TYPE:
        return Form([])
    try:
        body = await request.body()
    except ClientDisconnect:  # the visitor went away (or was cut off for stalling)
        raise BadForm(400, "The form did not arrive whole") from None
    try:
        pairs = parse_qsl(
            body.decode("utf-8"),
            keep_blank_values=True,
            strict_parsing=False,
            max_num_fields=MAX_FIELDS,
        )
    except (UnicodeDecodeError, ValueError):
        raise BadForm(400, "That form could not be read") from None
    # Browsers send line breaks in text areas as CRLF; keep them as the rest of the record does.
    return Form([(key, value.replace("\r\n", "\n")) for key, value in pairs])
