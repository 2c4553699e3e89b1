"""What people enter, read strictly: text that must be there, one of an enum's values."""

from __future__ import annotations

from typing import Any

from domain.errors import InvalidRequest


def required_text(value: str | None, message: str) -> str:
    """Return the stripped text, or refuse an empty one with `message`."""
    text = (value or "").strip()
    if not text:
        raise InvalidRequest(message)
    return text


def choice(enum: Any, value: str, what: str) -> str:
    """Return `value` as a member of `enum`, or refuse it naming the choices."""
    try:
        return enum(value)  # type: ignore[no-any-return]
    except ValueError:
        options = ", ".join(member.value for member in enum)
        raise InvalidRequest(f"Unknown {what} {value!r}; choose one of: {options}") from None
