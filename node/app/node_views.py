"""What the node's parts read of it, each through a small view (composed in node/app/node.py):
publishing (node/app/publishing.py, `Publishing`), the mail a change calls for
(node/app/notices.py, `Noticing`), and taking a peer's entries (node/app/inbound.py,
`Receiving`)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date, datetime
from uuid import UUID

from eventsourcing.domain import Aggregate

from domain.backstops import BackStops
from domain.circle import Circle
from domain.decision import Decision
from domain.person import PersonalDetails
from domain.relationships import Relationship
from federation.wire import SignedEntry
from node.app import notices
from node.app.erasure import Erasure
from node.app.hats import Hats
from node.app.records import CircleRecords, Clock
from node.app.relations import Relations
from node.network.batch import Batch
from node.network.own_feed import OwnFeedWriter
from node.network.peer_book import PeerBook


class PublishingView:
    """What publishing reads of the node (node/app/publishing.py, `Publishing`)."""

    def __init__(self, records: CircleRecords, relations: Relations, hats: Hats) -> None:
        self._records = records
        self._relations = relations
        self._hats = hats
        self.clock = records.clock

    def get_circle(self) -> Circle:
        return self._records.get_circle()

    def decisions_in_force(
        self, today: date, pending: Sequence[Decision]
    ) -> tuple[list[str], list[str]]:
        """The policies in force and the reviews due (node/app/decisions_in_force.py)."""
        return self._records.decisions_in_force.lists(today, pending)

    def person_name(self, person_id: str) -> str:
        return self._records.person_name(person_id)

    def relationships(self) -> list[Relationship]:
        return self._relations.relationships()

    def get_back_stops(self) -> BackStops | None:
        return self._hats.back_stops()

    def introduction_of(self, other: str) -> tuple[bytes, str]:
        return self._relations.introduction_of(other)

    def exchanging_with(self) -> list[tuple[str, str]]:
        return self._relations.exchanging_with()


class NoticingView:
    """What notices read of the node (node/app/notices.py, `Noticing`)."""

    def __init__(self, records: CircleRecords) -> None:
        self._records = records
        self.details = notices.details_or_none(
            lambda person_id: self._records.get_record(PersonalDetails, person_id, "person")
        )

    def get_circle(self) -> Circle:
        return self._records.peek_circle()

    def now(self) -> datetime:
        return self._records.now()


class ReceivingView:
    """What taking a peer's entries reads and changes of the node (node/app/inbound.py,
    `Receiving`)."""

    def __init__(
        self,
        records: CircleRecords,
        feed: OwnFeedWriter,
        peering: PeerBook,
        erasure: Erasure,
        clock: Clock,
        check_outgoing: Callable[[Sequence[Aggregate]], None],
        release_held: Callable[[], None],
    ) -> None:
        self._records = records
        self._feed = feed
        self._peering = peering
        self.erasure = erasure
        self.clock = clock
        self.check_outgoing = check_outgoing
        self._release_held = release_held

    @property
    def circle_id(self) -> UUID:
        return self._records.circle_id

    @property
    def is_founded(self) -> bool:
        return self._records.is_founded

    @property
    def node_id(self) -> str:
        return self._feed.node_id

    def get_circle(self) -> Circle:
        return self._records.get_circle()

    def make_peer(self, feed_id: bytes) -> list[Aggregate]:
        return self._peering.make_peer(feed_id)

    def follow(self, inception: SignedEntry, url: str, name: str, batch: Batch) -> bytes | None:
        return self._peering.follow(inception, url, name, batch)

    def release_held(self) -> None:
        self._release_held()
