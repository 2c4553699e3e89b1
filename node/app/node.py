"""The circle node: one circle's node, composed of its areas of use cases.

Each area (node/app/circle.py, people.py, tokens.py, hats.py, proposals.py, consent.py,
decisions.py, meetings.py, erasure.py) is a small class that takes what it needs (a `Work`:
node/app/work.py) and is reached as an attribute: `node.people.admit(...)`,
`node.consent.raise_objection(...)`. A new use case is a method of its area's class.

With keys, the node is federated: changes to the circle's public records are appended to its
signed feed in the same save (node/app/publishing.py), and its peers' entries change its
records in the save that stores them (node/app/inbound.py).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError
from eventsourcing.domain import Aggregate
from eventsourcing.utils import EnvType

from domain.errors import InvalidRequest
from federation.feed import WontSign
from federation.keys import NodeKeys
from federation.wire import Entry
from node.app import idempotency, inbound, publishing
from node.app.circle import CircleCommands
from node.app.circle_store import Clock, utc_now
from node.app.consent import ConsentRounds
from node.app.decisions import Decisions
from node.app.erasure import Erasure
from node.app.hats import Hats
from node.app.meetings import Meetings
from node.app.outcomes import Outcomes
from node.app.people import People
from node.app.proposals import Proposals
from node.app.relations import Relations
from node.app.tokens import Tokens
from node.network.federated import Batch, Outgoing


class CircleNode(Relations):
    """One circle's node: its records and feeds, and its areas of use cases."""

    def __init__(
        self, env: EnvType | None = None, clock: Clock = utc_now, keys: NodeKeys | None = None
    ) -> None:
        super().__init__(env, clock, keys)
        self.circle = CircleCommands(self)
        self.people = People(self)
        self.tokens = Tokens(self)
        self.erasure = Erasure(self, self)
        self.hats = Hats(self)
        outcomes = Outcomes(self, self)
        self.proposals = Proposals(self, self, outcomes)
        self.consent = ConsentRounds(self, outcomes)
        self.decisions = Decisions(self)
        self.meetings = Meetings(self)

    def outgoing(self, aggregates: Sequence[Aggregate]) -> list[Outgoing]:
        return publishing.outgoing(self, aggregates)

    def save(self, *objs: Any, **kwargs: Any) -> Any:
        # A request with an Idempotency-Key is recorded as carried out in its first save (the
        # change itself): both are stored, or neither (node/app/idempotency.py).
        mark = idempotency.carrying_out.get()
        if mark is not None and not mark.saved:
            done = self.request_carried_out(mark.record_id)
            if done is not None:
                idempotency.carried_out(done, mark)  # a repeat that raced the first: refused
            record = idempotency.CarriedOut(record_id=mark.record_id, fingerprint=mark.fingerprint)
            objs = (*objs, record)
        try:
            recordings = super().save(*objs, **kwargs)
        except WontSign as error:
            # Peers would refuse the entry this change causes: refuse the change instead.
            raise InvalidRequest(
                f"This is too large to share with other circles: {error}"
            ) from None
        if mark is not None:
            mark.saved = True
        return recordings

    def request_carried_out(self, record_id: UUID) -> idempotency.CarriedOut | None:
        """The record of a request carried out with an idempotency key, if there is one."""
        try:
            record: Aggregate = self.repository.get(record_id)
        except AggregateNotFoundError:
            return None
        return record if isinstance(record, idempotency.CarriedOut) else None

    def effects(self, peer: bytes, run: list[tuple[Entry, bytes | None]], batch: Batch) -> None:
        inbound.apply(self, peer, run, batch)


__all__ = ["CircleNode", "datetime"]
