"""The circle node's store: how its records are loaded and listed (the base of CircleNode)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime
from typing import TypeVar
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError
from eventsourcing.domain import Aggregate
from eventsourcing.persistence import JSONTranscoder
from eventsourcing.utils import EnvType

from domain.circle import Circle
from domain.consent import ConsentProcess
from domain.decision import Decision
from domain.errors import NotFound
from domain.meeting import Meeting
from domain.person import PersonalDetails
from domain.proposal import Proposal
from domain.register import REGISTER_ID, Register
from domain.relationships import Relationship
from domain.selection import HatSelection
from domain.support import SupportRequest
from federation.keys import NodeKeys
from node.credentials import Credentials
from node.federated import FederatedApplication
from node.messages import BODY_TYPES
from node.peer_view import PeerView
from node.transcodings import register_domain_transcodings

A = TypeVar("A", bound=Aggregate)
Clock = Callable[[], datetime]
FORMER_PARTICIPANT = "a former participant"


def utc_now() -> datetime:
    return datetime.now(UTC)


class CircleStore(FederatedApplication):
    """The circle node's store: loading the circle's records, listing them, naming people.
    `CircleNode` adds the commands."""

    name = "circle_node"
    snapshotting_intervals = {
        Circle: 50,
        Proposal: 50,
        HatSelection: 50,
        Decision: 50,
        Meeting: 50,
        Register: 100,
        **FederatedApplication.snapshotting_intervals,
        PeerView: 100,
        Relationship: 50,
        SupportRequest: 50,
        Credentials: 50,
    }
    KNOWN_TYPES = FederatedApplication.KNOWN_TYPES | frozenset(BODY_TYPES)

    def __init__(
        self, env: EnvType | None = None, clock: Clock = utc_now, keys: NodeKeys | None = None
    ) -> None:
        # The circle's id, once read from the register (it never changes once founded): a
        # command then loads the circle without loading the whole register first.
        self._circle_id: UUID | None = None
        super().__init__(env, clock, keys)

    def register_transcodings(self, transcoder: JSONTranscoder) -> None:
        super().register_transcodings(transcoder)
        register_domain_transcodings(transcoder)

    # Loading.

    def _get(self, cls: type[A], aggregate_id: UUID | str, what: str) -> A:
        try:
            aggregate: Aggregate = self.repository.get(UUID(str(aggregate_id)))
        except (AggregateNotFoundError, ValueError):
            raise NotFound(f"No {what} with id {aggregate_id}") from None
        if not isinstance(aggregate, cls):
            raise NotFound(f"No {what} with id {aggregate_id}")
        return aggregate

    def _register(self) -> Register:
        try:
            register: Aggregate = self.repository.get(REGISTER_ID)
        except AggregateNotFoundError:
            raise NotFound("This node has no circle yet; found one first") from None
        assert isinstance(register, Register)
        return register

    @property
    def is_founded(self) -> bool:
        if self._circle_id is None:
            try:
                self._circle_id = self._register().circle_id
            except NotFound:
                return False
        return True

    @property
    def circle_id(self) -> UUID:
        if self._circle_id is None:
            self._circle_id = self._register().circle_id
        return self._circle_id

    def get_circle(self) -> Circle:
        return self._get(Circle, self.circle_id, "circle")

    def get_proposal(self, proposal_id: UUID | str) -> Proposal:
        return self._get(Proposal, proposal_id, "proposal")

    def get_selection(self, selection_id: UUID | str) -> HatSelection:
        return self._get(HatSelection, selection_id, "selection")

    def get_decision(self, decision_id: UUID | str) -> Decision:
        return self._get(Decision, decision_id, "decision")

    def get_meeting(self, meeting_id: UUID | str) -> Meeting:
        return self._get(Meeting, meeting_id, "meeting")

    def _get_process(self, process_id: UUID | str) -> ConsentProcess:
        return self._get(ConsentProcess, process_id, "proposal or selection")  # type: ignore[type-abstract]

    def _now(self) -> datetime:
        return self.clock()

    def _today(self) -> date:
        return self._now().date()

    def person_name(self, person_id: str) -> str:
        try:
            return self._get(PersonalDetails, person_id, "person").name
        except NotFound:
            return FORMER_PARTICIPANT

    def people(self) -> dict[str, str]:
        """Every person on file, by id, with their name."""
        return {str(pid): self.person_name(str(pid)) for pid in self._register().ids("person")}

    # Listings.

    def _all(self, kind: str, cls: type[A]) -> Iterator[A]:
        for record_id in self._register().ids(kind):
            yield self._get(cls, record_id, kind)

    def proposals(self) -> list[Proposal]:
        return list(self._all("proposal", Proposal))

    def selections(self) -> list[HatSelection]:
        return list(self._all("selection", HatSelection))

    def decisions(self) -> list[Decision]:
        return list(self._all("decision", Decision))

    def meetings(self) -> list[Meeting]:
        return list(self._all("meeting", Meeting))
