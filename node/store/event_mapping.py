"""How domain events are written into the store: MessagePack (msgspec), typed by the event's
class, with the library's JSON as the fallback and for every row written before.

eventsourcing's JSON transcoder walks each event's values in Python and tags every date,
UUID and record it meets (`{"_type_": ..., "_data_": ...}`); reading, it rebuilds them from
the tags. Here an event's values are encoded by msgspec, in C, without tags: the event class's
own field annotations say what each value is, and a decoder made once per class from them
rebuilds dates, UUIDs and the domain's records: faster both ways, and fewer bytes
(bench/RESULTS.md).

Nothing is stored that would not come back the same: each encoding is decoded again at once
and compared with the event's values, as values and as JSON renderings of them; an event
whose values its annotations do not describe (a `datetime` where a `date` is declared, a UUID
where a `str` is, a time with its offset, which MessagePack reduces to UTC) is stored as JSON,
as are events msgspec cannot encode (an int beyond 64 bits) and events of classes with a
`class_version` above 1 (upcasting works on the JSON dict, as the library does it). When a
class's version rises, its rows already in MessagePack (version 1) are read without types,
upcast, then typed by the class's annotations as they are now.

A row says which it is by its first byte once decrypted and decompressed: JSON of an event's
values is an object (`{`), MessagePack of them a map (0x80 to 0x8f, 0xde or 0xdf), so stores
written before this module read as they did, and rows of both kinds sit side by side.
"""

from __future__ import annotations

import dataclasses
import typing
from collections.abc import Hashable
from typing import Any, TypedDict, cast
from uuid import UUID

import msgspec
from eventsourcing.domain import DomainEventProtocol
from eventsourcing.persistence import (
    Mapper,
    MapperDeserialisationError,
    StoredEvent,
    find_id_convertor,
)
from eventsourcing.utils import get_topic, resolve_topic

# Fields held in the stored event's own columns, not in its state.
_COLUMNS = frozenset({"originator_id", "originator_version"})
_ENCODER = msgspec.msgpack.Encoder()
# Equal values can differ in what they say: 12:00+02:00 equals 10:00Z, as a datetime. Their
# JSON renderings differ, and MessagePack keeps the instant, not the offset.
_JSON = msgspec.json.Encoder()


@dataclasses.dataclass(frozen=True)
class _Typed:
    """An event class's values as its annotations describe them: a TypedDict of its fields,
    and the decoder of MessagePack into it."""

    values: Any
    decoder: msgspec.msgpack.Decoder[Any]


def _typed(cls: type) -> _Typed | None:
    """How `cls`'s values are typed from its annotations, or None: its events go as JSON."""
    if not dataclasses.is_dataclass(cls):
        return None
    try:
        hints = typing.get_type_hints(cls)
        fields = {
            field.name: hints[field.name]
            for field in dataclasses.fields(cls)
            if field.name not in _COLUMNS
        }
        values = TypedDict(f"{cls.__qualname__}Values", fields, total=False)  # type: ignore[misc]
        return _Typed(values, msgspec.msgpack.Decoder(values))
    except (NameError, KeyError, TypeError):
        return None  # an annotation msgspec cannot type (a TypeVar, a class of no fields)


# What msgspec raises for values it cannot encode (an int beyond 64 bits, an object of no
# known type): those events go as JSON, which takes them.
_UNENCODABLE = (TypeError, ValueError, OverflowError, msgspec.EncodeError)


class TypedMapper(Mapper[UUID]):
    """The library's Mapper, with each event's values in MessagePack typed by its class."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._classes: dict[type, _Typed | None] = {}

    def _typed(self, cls: type) -> _Typed | None:
        try:
            return self._classes[cls]
        except KeyError:
            typed = self._classes[cls] = _typed(cls)  # the same for every thread: no lock
            return typed

    def encoded(self, domain_event: Any) -> bytes:
        """An event's values, as stored before compression and encryption."""
        cls = type(domain_event)
        values = dict(vars(domain_event))
        for column in _COLUMNS:
            values.pop(column)
        typed = self._typed(cls)
        class_version = getattr(cls, "class_version", 1)
        if typed is not None and class_version == 1:
            try:
                data = _ENCODER.encode(values)
                back = typed.decoder.decode(data)
                if back == values and _JSON.encode(back) == _JSON.encode(values):
                    return data
            except (msgspec.ValidationError, *_UNENCODABLE):
                pass  # values the annotations do not describe: JSON keeps what they are
        if class_version > 1:
            values["class_version"] = class_version
        return self.transcoder.encode(values)

    def decoded(self, cls: type, data: bytes) -> tuple[dict[str, Any], bool]:
        """An event's values from what `encoded` gave, or from the library's JSON; and
        whether they are still to be typed (after upcasting: see `to_domain_event`)."""
        if data[:1] == b"{":
            decoded: dict[str, Any] = self.transcoder.decode(data)
            return decoded, False
        typed = self._typed(cls)
        if typed is None:
            raise ValueError(f"{get_topic(cls)} has no annotations to read MessagePack by")
        if getattr(cls, "class_version", 1) == 1:
            values: dict[str, Any] = typed.decoder.decode(data)
            return values, False
        # The class has a later version than the row (MessagePack is written for version 1
        # only): the values as stored, plain, are upcast first, then typed.
        plain: dict[str, Any] = msgspec.msgpack.decode(data)
        return plain, True

    def to_stored_event(self, domain_event: DomainEventProtocol[UUID]) -> StoredEvent:
        state = self.encoded(domain_event)
        if self.compressor:
            state = self.compressor.compress(state)
        if self.cipher:
            state = self.cipher.encrypt(state)
        return StoredEvent(
            originator_id=domain_event.originator_id,
            originator_version=domain_event.originator_version,
            topic=get_topic(type(domain_event)),
            state=state,
        )

    def to_domain_event(self, stored_event: StoredEvent) -> DomainEventProtocol[UUID]:
        cls = resolve_topic(stored_event.topic)
        state = stored_event.state
        try:
            if self.cipher:
                state = self.cipher.decrypt(state)
            if self.compressor:
                state = self.compressor.decompress(state)
            values, untyped = self.decoded(cls, state)
        except Exception as error:
            raise _unreadable(stored_event, error) from error
        convert = find_id_convertor(cls, cast(Hashable, type(stored_event.originator_id)))
        values["originator_id"] = convert(stored_event.originator_id)
        values["originator_version"] = stored_event.originator_version
        class_version = getattr(cls, "class_version", 1)
        from_version = values.pop("class_version", 1)
        while from_version < class_version:
            getattr(cls, f"upcast_v{from_version}_v{from_version + 1}")(values)
            from_version += 1
        if untyped:
            # Typed as the class is now (strictly: a value an upcaster left of the old type is
            # an error, not coerced); the columns are set again, as the fields are typed alone.
            typed = self._typed(cls)
            assert typed is not None
            try:
                values = msgspec.convert(values, typed.values)
            except msgspec.ValidationError as error:
                raise _unreadable(stored_event, error) from error
            values["originator_id"] = convert(stored_event.originator_id)
            values["originator_version"] = stored_event.originator_version
        domain_event: DomainEventProtocol[UUID] = object.__new__(cls)
        object.__setattr__(domain_event, "__dict__", values)
        return domain_event


def _unreadable(stored_event: StoredEvent, error: Exception) -> MapperDeserialisationError:
    return MapperDeserialisationError(
        f"Failed to deserialise state of stored event with topic "
        f"'{stored_event.topic}', originator_id '{stored_event.originator_id}' and "
        f"originator_version {stored_event.originator_version}: {error}"
    )
