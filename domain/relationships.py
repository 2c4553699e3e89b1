"""A circle's relationship with another circle: peering, being part of a co-op, the double link.

Each side keeps its own `Relationship`, a state machine driven from two directions: by this
circle's own consent decisions (each command takes the consented proposal that binds it), and
by what the other circle said (facts carried by its signed messages). A fact that does not fit
the relationship's state is refused with a reason, and changes nothing.

Other circles are referred to by an opaque reference (their node id); the domain knows nothing
of nodes.
"""

from __future__ import annotations

from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate, event

from domain.circle import Circle
from domain.errors import InvalidRequest, WrongStage
from domain.hats import LEADER
from domain.inputs import required_text
from domain.membership import check_can_wear
from domain.proposal import Proposal
from domain.records import Copied, LegalEntity
from domain.rules import check_consented
from domain.values import CircleStatus, CoopLink, Peering, Purpose

# How this circle came to know the other.
ADMITTED = "admitted"  # this circle admitted it to the network
INTRODUCED = "introduced"  # a circle this one trusts introduced it
ADDED = "added"  # an operator added it by hand
APPLIED = "applied"  # it asked to join through this circle


def relationship_id(circle_id: UUID, other: str) -> UUID:
    return uuid5(NAMESPACE_URL, f"circle-node:relationship:{circle_id}:{other}")


class Relationship(Copied, Aggregate):
    @staticmethod
    def create_id(circle_id: UUID, other: str, **kwargs: Any) -> UUID:
        return relationship_id(circle_id, other)

    @classmethod
    def meet(cls, circle: Circle, other: str, name: str, how: str) -> Relationship:
        return cls(
            circle_id=circle.id,
            other=required_text(other, "Name the other circle"),
            name=name.strip(),
            how=how,
        )

    @event("Met")
    def __init__(self, circle_id: UUID, other: str, name: str, how: str) -> None:
        self.circle_id = circle_id
        self.other = other
        self.name = name
        self.how = how
        self.admitted_to_network = False
        self.peering: str = Peering.NONE
        self.coop: str = CoopLink.NONE
        self.corporate = False
        self.corporate_pending = False  # a member circle's application to be a corporate member
        self.legal_entity: LegalEntity | None = None
        # The member circle's delegate and leader, by their person id in the member circle
        # (names travel separately, as personal data that can be erased).
        self.delegate: str | None = None
        self.leader: str | None = None
        self.proposed_leader: str | None = None
        self.refusals: list[str] = []
        # Requests from the other circle still to answer: its proposal id -> "round|title".
        self.consent_requests: dict[str, dict[str, Any]] = {}
        self.seat_requests: dict[str, dict[str, Any]] = {}

    # Guards.

    def _check(self, circle: Circle, proposal: Proposal, purpose: str) -> None:
        if circle.id != self.circle_id:
            raise InvalidRequest("That proposal belongs to another circle")
        check_consented(circle, proposal, purpose)
        if proposal.subject.get("circle") != self.other:
            raise InvalidRequest("That proposal is about another circle")

    @staticmethod
    def _refuse(message: str) -> WrongStage:
        return WrongStage(message)

    # Joining the network.

    def admit_to_network(self, circle: Circle, proposal: Proposal) -> None:
        """This circle consented to admit the other, which asked to join the network."""
        self._check(circle, proposal, Purpose.ADMIT_TO_NETWORK)
        if self.admitted_to_network:
            raise self._refuse("That circle is already admitted to the network")
        self._admitted_to_network(str(proposal.id))

    @event("AdmittedToNetwork")
    def _admitted_to_network(self, proposal_id: str) -> None:
        self.admitted_to_network = True
        # Admission is the start of peering: both sides exchange their records from now on.
        self.peering = Peering.PEERS

    def admitted_us(self) -> None:
        """The other circle admitted this one to the network (its signed introduction)."""
        if self.admitted_to_network or self.peering == Peering.PEERS:
            raise self._refuse("This circle is already in the network through that circle")
        self._was_admitted()

    @event("WasAdmitted")
    def _was_admitted(self) -> None:
        self.admitted_to_network = True
        self.peering = Peering.PEERS

    # Peering.

    def request_peering(self, circle: Circle, proposal: Proposal) -> None:
        self._check(circle, proposal, Purpose.REQUEST_PEERING)
        if self.peering in (Peering.PEERS, Peering.REQUESTED):
            raise self._refuse(f"Peering with that circle is already {self.peering}")
        if self.peering == Peering.ASKED:
            raise self._refuse("That circle asked already: consent to accept its request")
        self._peering_changed(Peering.REQUESTED, str(proposal.id))

    def accept_peering(self, circle: Circle, proposal: Proposal) -> None:
        self._check(circle, proposal, Purpose.ACCEPT_PEERING)
        if self.peering != Peering.ASKED:
            raise self._refuse("That circle has not asked to peer")
        self._peering_changed(Peering.PEERS, str(proposal.id))

    def end_peering(self, circle: Circle, proposal: Proposal) -> None:
        self._check(circle, proposal, Purpose.END_PEERING)
        if self.peering != Peering.PEERS:
            raise self._refuse("This circle does not peer with that circle")
        self._peering_changed(Peering.ENDED, str(proposal.id))

    def peering_requested(self) -> None:
        """The other circle consented to ask this one to peer."""
        if self.peering == Peering.PEERS:
            raise self._refuse("The circles already peer")
        if self.peering == Peering.REQUESTED:
            # Both asked at once: each side's consent to ask is consent to peer.
            self._peering_changed(Peering.PEERS, None)
            return
        self._peering_changed(Peering.ASKED, None)

    def peering_accepted(self) -> None:
        if self.peering != Peering.REQUESTED:
            raise self._refuse("This circle did not ask that circle to peer")
        self._peering_changed(Peering.PEERS, None)

    def peering_ended(self) -> None:
        if self.peering not in (Peering.PEERS, Peering.REQUESTED, Peering.ASKED):
            raise self._refuse("The circles do not peer")
        self._peering_changed(Peering.ENDED, None)

    @event("PeeringChanged")
    def _peering_changed(self, peering: str, proposal_id: str | None) -> None:
        self.peering = peering

    # Being part of a co-op.

    def apply_to_coop(self, circle: Circle, proposal: Proposal) -> LegalEntity | None:
        """Apply to be part of the other circle: a member circle, or, once this circle is
        incorporated, a corporate member. Returns the legal entity the application names."""
        self._check(circle, proposal, Purpose.APPLY_TO_COOP)
        incorporated = circle.status == CircleStatus.INCORPORATED
        if self.coop == CoopLink.MEMBER_OF and incorporated and not self.corporate:
            # Incorporated separately: apply to stay, as a corporate member (the link goes on).
            if self.corporate_pending:
                raise self._refuse("This circle has applied for corporate membership already")
            self._corporate_changed(True, False, circle.legal_entity, str(proposal.id))
            return circle.legal_entity
        if self.coop == CoopLink.APPLYING:
            raise self._refuse("This circle has already applied to be part of that circle")
        if self.coop == CoopLink.MEMBER_OF:
            raise self._refuse("This circle is already part of that circle")
        if self.coop in (CoopLink.APPLIED, CoopLink.HAS_MEMBER):
            raise self._refuse("That circle is part of this one, not the other way round")
        corporate = circle.status == CircleStatus.INCORPORATED
        self._coop_changed(CoopLink.APPLYING, corporate, circle.legal_entity, str(proposal.id))
        return circle.legal_entity if corporate else None

    def applied_to_us(self, corporate: bool, legal_entity: LegalEntity | None) -> None:
        """The other circle applied to be part of this one."""
        if corporate and legal_entity is None:
            raise InvalidRequest("A corporate member names its legal entity")
        if self.coop == CoopLink.HAS_MEMBER and corporate and not self.corporate:
            if self.corporate_pending:
                raise self._refuse("That circle has applied for corporate membership already")
            self._corporate_changed(True, False, legal_entity, None)
            return
        if self.coop == CoopLink.APPLIED:
            raise self._refuse("That circle has already applied to be part of this one")
        if self.coop == CoopLink.HAS_MEMBER:
            raise self._refuse("That circle is already part of this one")
        if self.coop in (CoopLink.APPLYING, CoopLink.MEMBER_OF):
            raise self._refuse("This circle is part of that one, not the other way round")
        self._coop_changed(CoopLink.APPLIED, corporate, legal_entity, None)

    def admit_member(self, circle: Circle, proposal: Proposal) -> None:
        self._check(circle, proposal, Purpose.ADMIT_MEMBER)
        if self.coop == CoopLink.HAS_MEMBER and self.corporate_pending:
            self._corporate_changed(False, True, self.legal_entity, str(proposal.id))
            return
        if self.coop != CoopLink.APPLIED:
            raise self._refuse("That circle has not applied to be part of this one")
        self._coop_changed(CoopLink.HAS_MEMBER, self.corporate, self.legal_entity, str(proposal.id))

    def admitted_as_member(self) -> None:
        """The other circle admitted this one (an admission nobody applied for is refused)."""
        if self.coop == CoopLink.MEMBER_OF and self.corporate_pending:
            self._corporate_changed(False, True, self.legal_entity, None)
            return
        if self.coop != CoopLink.APPLYING:
            raise self._refuse("This circle did not apply to be part of that circle")
        self._coop_changed(CoopLink.MEMBER_OF, self.corporate, self.legal_entity, None)

    def withdraw_from_coop(self, circle: Circle, proposal: Proposal) -> None:
        """Go its own way: a consented proposal to go independent that names the co-op."""
        self._check(circle, proposal, Purpose.GO_INDEPENDENT)
        if self.coop != CoopLink.MEMBER_OF:
            raise self._refuse("This circle is not part of that circle")
        self._coop_changed(CoopLink.WITHDRAWN, self.corporate, self.legal_entity, str(proposal.id))

    def withdrew(self) -> None:
        if self.coop != CoopLink.HAS_MEMBER:
            raise self._refuse("That circle is not part of this one")
        self._coop_changed(CoopLink.WITHDRAWN, self.corporate, self.legal_entity, None)

    @event("CoopLinkChanged")
    def _coop_changed(
        self, coop: str, corporate: bool, legal_entity: LegalEntity | None, proposal_id: str | None
    ) -> None:
        self.coop = coop
        self.corporate = corporate
        self.legal_entity = legal_entity
        if coop == CoopLink.WITHDRAWN:
            self.delegate = None
            self.leader = None
            self.proposed_leader = None
            self.corporate_pending = False
            self.seat_requests = {}

    @event("CorporateMembershipChanged")
    def _corporate_changed(
        self,
        pending: bool,
        corporate: bool,
        legal_entity: LegalEntity | None,
        proposal_id: str | None,
    ) -> None:
        self.corporate_pending = pending
        self.corporate = corporate
        self.legal_entity = legal_entity

    # The double link: the member circle's delegate and leader sit in the co-op's circle too.

    def delegate_named(self, person: str) -> None:
        """The member circle selected its delegate (it tells the co-op)."""
        if self.coop != CoopLink.HAS_MEMBER:
            raise self._refuse("Only a circle that is part of this one sends a delegate")
        self._link_changed("delegate", required_text(person, "Name the delegate"), False)

    def propose_leader(self, circle: Circle, proposal: Proposal) -> str:
        """The co-op proposes who leads its member circle; the circle must agree."""
        self._check(circle, proposal, Purpose.PROPOSE_LEADER)
        if self.coop != CoopLink.HAS_MEMBER:
            raise self._refuse("Leaders are agreed with circles that are part of this one")
        person = str(proposal.subject["person"])
        self._link_changed("proposed_leader", person, True)
        return person

    def leader_proposed(self, person: str) -> None:
        if self.coop != CoopLink.MEMBER_OF:
            raise self._refuse("Only the co-op this circle is part of proposes its leader")
        self._link_changed("proposed_leader", required_text(person, "Name the leader"), False)

    def agree_leader(self, circle: Circle, proposal: Proposal) -> str:
        """This circle consents to the leader the co-op proposed; returns their person id."""
        self._check(circle, proposal, Purpose.AGREE_LEADER)
        person = str(proposal.subject["person"])
        if self.coop != CoopLink.MEMBER_OF or self.proposed_leader is None:
            raise self._refuse("The co-op has not proposed a leader")
        if self.proposed_leader != person:
            raise InvalidRequest("That is not the leader the co-op proposed")
        check_can_wear(circle, LEADER, person)
        self._link_changed("leader", person, True)
        return person

    def leader_agreed(self, person: str) -> None:
        if self.coop != CoopLink.HAS_MEMBER or self.proposed_leader is None:
            raise self._refuse("This circle proposed no leader to that circle")
        if self.proposed_leader != person:
            raise self._refuse("That circle agreed to a leader this circle did not propose")
        self._link_changed("leader", self.proposed_leader, False)

    @event("LinkChanged")
    def _link_changed(self, role: str, person: str, by_us: bool) -> None:
        setattr(self, role, person)
        if role == "leader":
            self.proposed_leader = None

    def seat_vacated(self, role: str, person: str) -> bool:
        """The member circle's delegate or leader no longer wears that hat: the seat has no
        holder until the circle names another. Returns whether they held it here (a hat worn
        before this circle heard of the wearer never seated them)."""
        if self.coop != CoopLink.HAS_MEMBER:
            raise self._refuse("Only a circle that is part of this one vacates its seats")
        if role not in ("delegate", "leader"):
            raise InvalidRequest("There is no such seat")
        if getattr(self, role) != person or not person:
            return False
        self._link_vacated(role, person)
        return True

    @event("LinkVacated")
    def _link_vacated(self, role: str, person: str) -> None:
        setattr(self, role, None)

    def seat_holder(self, role: str) -> str:
        """Who holds a seat of the member circle's in this circle's (its person id there)."""
        holder = self.delegate if role == "delegate" else self.leader if role == "leader" else None
        if holder is None:
            raise self._refuse(f"That circle's {role} seat has no holder here")
        return holder

    # Federated consent and the seats of the double link.

    def consent_requested(
        self, proposal: str, round_number: int, title: str, text: str, seat: str = ""
    ) -> None:
        """The other circle asks this one (or, for a seat, this circle's delegate or leader)
        to consent to its proposal, in a given round."""
        if seat:
            if self.coop != CoopLink.MEMBER_OF or seat not in ("delegate", "leader"):
                raise self._refuse("Only the co-op this circle is part of asks its seats")
        elif self.peering != Peering.PEERS and self.coop not in (
            CoopLink.MEMBER_OF,
            CoopLink.HAS_MEMBER,
        ):
            raise self._refuse("Only linked circles ask for this circle's consent")
        self._consent_requested(
            proposal,
            round_number,
            required_text(title, "A request names the proposal"),
            text,
            seat,
        )

    @event("ConsentRequested")
    def _consent_requested(
        self, proposal: str, round_number: int, title: str, text: str, seat: str
    ) -> None:
        request = {"round": round_number, "title": title, "text": text, "seat": seat}
        (self.seat_requests if seat else self.consent_requests)[f"{proposal}:{seat}"] = request

    def check_consent_request(self, proposal: str, round_number: int, seat: str = "") -> None:
        requests = self.seat_requests if seat else self.consent_requests
        request = requests.get(f"{proposal}:{seat}")
        if request is None:
            raise InvalidRequest("That circle did not ask for this consent")
        if request["round"] != round_number:
            raise WrongStage("That request is for another consent round")

    def answer_consent_request(
        self,
        proposal: str,
        round_number: int,
        consents: bool,
        argument: str,
        seat: str = "",
        person: str = "",
    ) -> None:
        """Record this circle's answer (or its seat holder's, `person`) to the other circle's
        request."""
        self.check_consent_request(proposal, round_number, seat)
        if not consents:
            argument = required_text(argument, "An objection needs its argument")
        self._consent_request_answered(
            proposal, round_number, seat, consents, argument.strip(), person
        )

    @event("ConsentRequestAnswered")
    def _consent_request_answered(
        self,
        proposal: str,
        round_number: int,
        seat: str,
        consents: bool,
        argument: str,
        person: str = "",
    ) -> None:
        (self.seat_requests if seat else self.consent_requests).pop(f"{proposal}:{seat}", None)

    # What did not fit.

    @event("MessageRefused")
    def record_refusal(self, what: str, reason: str) -> None:
        """A message from the other circle did not fit; it changed nothing but this record."""
        self.refusals.append(f"{what}: {reason}")
