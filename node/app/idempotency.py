"""Requests carried out once: the `Idempotency-Key` of the member API.

A client that sends a change with an `Idempotency-Key` and gets no answer, or a 503, may send
it again with the same key: it is not carried out twice. The first time, the node records the
request as carried out in the same save as the change itself (so both are stored, or neither);
a repeat finds that record and is answered 409 `already_done`, and a key reused for another
request is answered 422.

The record holds neither the key nor who sent it nor the request: its id and its fingerprint
are keyed hashes (HMAC) made with the caller's own `Authorization` value, which the store does
not hold. Its answer is not kept either (an answer may hold a secret, such as a new token):
after a repeat is refused, the client looks the result up.
"""

from __future__ import annotations

import hashlib
import hmac
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from domain.errors import WrongStage
from domain.records import Copied
from node.store.topics import moved_from


class AlreadyCarriedOut(WrongStage):
    """A request with this key was carried out already."""

    def __init__(self) -> None:
        super().__init__(
            "This request was carried out already (the same Idempotency-Key): it is not done "
            "twice. Its answer is not kept: look the result up"
        )


class KeyReused(WrongStage):
    """The key was used for another request."""

    def __init__(self) -> None:
        super().__init__(
            "That Idempotency-Key was used for another request: use a new key for each request"
        )


@dataclass
class Mark:
    """The request being carried out (kept in a context variable for its thread)."""

    record_id: UUID
    fingerprint: str
    saved: bool = False

    @classmethod
    def of(cls, authorization: str, key: str, method: str, path: str, body: bytes) -> Mark:
        secret = authorization.encode()
        digest = hmac.new(secret, b"key\n" + key.encode(), hashlib.sha256).digest()
        fingerprint = hmac.new(
            secret, b"\n".join([method.encode(), path.encode(), body]), hashlib.sha256
        ).hexdigest()
        return cls(UUID(bytes=digest[:16]), fingerprint)


# Set by the member API for a request with an Idempotency-Key (node/http/api/once.py); read by the
# node's save (node/app/node.py). Each request runs in a context of its own.
carrying_out: ContextVar[Mark | None] = ContextVar("circle_node_request", default=None)


class CarriedOut(Copied, Aggregate):
    """A request carried out with an idempotency key (see the module's docstring)."""

    @staticmethod
    def create_id(record_id: UUID, **kwargs: Any) -> UUID:
        return record_id

    @event("Recorded")
    def __init__(self, record_id: UUID, fingerprint: str) -> None:
        self.fingerprint = fingerprint


def carried_out(record: Any, mark: Mark) -> None:
    """Refuse a repeat: the same request (409), or another one under the same key (422)."""
    if record.fingerprint != mark.fingerprint:
        raise KeyReused()
    raise AlreadyCarriedOut()


# Stores written before the node was divided into rooms name these classes by their old path.
moved_from("node.requests", __name__)
