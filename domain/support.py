"""Support between circles: a request, offers, one accepted, delivery and reflections.

A circle's own request (`origin` is None) is opened by a consented proposal and gathers offers
from other circles; a request seen from another circle (`origin` names it) is where this circle
makes its offer. Both sides record the delivery and both reflections. Facts from the other
circle that do not fit (an offer for a closed request, say) are refused and change nothing.
"""

from __future__ import annotations

from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid4, uuid5

from eventsourcing.domain import Aggregate, event

from domain.circle import Circle
from domain.errors import InvalidRequest, NotPermitted, WrongStage
from domain.inputs import choice, required_text
from domain.membership import check_can_act, check_records_keeper
from domain.proposal import Proposal
from domain.records import Copied
from domain.rules import check_consented
from domain.values import Purpose, SupportKind, SupportStatus

NETWORK = "network"  # a request to every circle in the network rather than chosen ones


def seen_request_id(circle_id: UUID, origin: str, origin_id: str) -> UUID:
    return uuid5(NAMESPACE_URL, f"circle-node:support:{circle_id}:{origin}:{origin_id}")


class SupportRequest(Copied, Aggregate):
    @classmethod
    def ask(cls, circle: Circle, proposal: Proposal) -> SupportRequest:
        """This circle consented to ask for support; the proposal names the kind and whom."""
        check_consented(circle, proposal, Purpose.REQUEST_SUPPORT)
        to = proposal.subject.get("circles") or [NETWORK]
        if not isinstance(to, list) or not all(isinstance(ref, str) for ref in to):
            raise InvalidRequest("Name the circles to ask, or ask the network")
        return cls(
            circle_id=circle.id,
            origin=None,
            origin_id=None,
            kind=choice(SupportKind, str(proposal.subject["kind"]), "kind of support"),
            text=proposal.text,
            to=sorted(to),
        )

    @classmethod
    def seen(
        cls, circle: Circle, origin: str, origin_id: str, kind: str, text: str
    ) -> SupportRequest:
        """Another circle's request, as it reached this one."""
        return cls(
            circle_id=circle.id,
            origin=required_text(origin, "Name the circle asking"),
            origin_id=required_text(origin_id, "Name the request"),
            kind=choice(SupportKind, kind, "kind of support"),
            text=required_text(text, "A request for support says what is needed"),
            to=[],
        )

    @staticmethod
    def create_id(
        circle_id: UUID, origin: str | None, origin_id: str | None, **kwargs: Any
    ) -> UUID:
        # A request seen from another circle has an id derived from where it came from, so
        # that the same request arriving twice is the same aggregate.
        if origin is None or origin_id is None:
            return uuid4()
        return seen_request_id(circle_id, origin, origin_id)

    @event("SupportRequested")
    def __init__(
        self,
        circle_id: UUID,
        origin: str | None,
        origin_id: str | None,
        kind: str,
        text: str,
        to: list[str],
    ) -> None:
        self.circle_id = circle_id
        self.origin = origin
        self.origin_id = origin_id
        self.kind = kind
        self.text = text
        self.to = to
        self.status: str = SupportStatus.OPEN
        self.offers: dict[str, str] = {}  # ours: offering circle -> its offer
        self.accepted: str | None = None  # ours: the circle whose offer was accepted
        self.our_offer: str | None = None  # theirs: what this circle offered
        self.delivery: str | None = None
        self.reflections: dict[str, str] = {}  # circle ("us" or its reference) -> reflection

    @property
    def is_ours(self) -> bool:
        return self.origin is None

    # The asking circle's side.

    def offer_received(self, helper: str, text: str) -> None:
        self._check_ours("receive an offer")
        if self.status != SupportStatus.OPEN:
            raise WrongStage(f"An offer came for a request that is {self.status}")
        if NETWORK not in self.to and helper not in self.to:
            raise NotPermitted("That circle was not asked for this support")
        if helper in self.offers:
            raise InvalidRequest("That circle has offered already")
        self._offer_received(helper, required_text(text, "An offer says what it offers"))

    @event("OfferReceived")
    def _offer_received(self, helper: str, text: str) -> None:
        self.offers[helper] = text

    def accept_offer(self, circle: Circle, proposal: Proposal) -> str:
        """This circle consented to accept one offer; returns the circle whose it was."""
        check_consented(circle, proposal, Purpose.ACCEPT_OFFER)
        self._check_circle(circle)
        self._check_ours("accept an offer")
        if proposal.subject.get("request") != str(self.id):
            raise InvalidRequest("That proposal is about another request")
        helper = str(proposal.subject["offer"])
        if self.status != SupportStatus.OPEN:
            raise WrongStage(f"This request is already {self.status}")
        if helper not in self.offers:
            raise InvalidRequest("That circle made no offer")
        self._offer_accepted(helper)
        return helper

    @event("OfferAccepted")
    def _offer_accepted(self, helper: str) -> None:
        self.accepted = helper
        self.status = SupportStatus.ACCEPTED

    # The offering circle's side.

    def make_offer(self, circle: Circle, proposal: Proposal) -> None:
        check_consented(circle, proposal, Purpose.OFFER_SUPPORT)
        self._check_circle(circle)
        self._check_theirs("offer support")
        if proposal.subject.get("request") != str(self.id):
            raise InvalidRequest("That proposal is about another request")
        if self.status != SupportStatus.OPEN:
            raise WrongStage(f"That request is already {self.status}")
        if self.our_offer is not None:
            raise InvalidRequest("This circle has offered already")
        self._offer_made(proposal.text)

    @event("OfferMade")
    def _offer_made(self, text: str) -> None:
        self.our_offer = text

    def outcome_received(self, accepted_helper: str, this_circle_accepted: bool) -> None:
        """The asking circle accepted an offer: ours, or another circle's (then it closes)."""
        self._check_theirs("hear which offer was accepted")
        if self.status != SupportStatus.OPEN:
            raise WrongStage(f"That request is already {self.status}")
        if this_circle_accepted and self.our_offer is None:
            raise WrongStage("An acceptance came for an offer this circle never made")
        self._outcome(
            accepted_helper,
            SupportStatus.ACCEPTED if this_circle_accepted else SupportStatus.CLOSED,
        )

    @event("OutcomeReceived")
    def _outcome(self, helper: str, status: str) -> None:
        self.accepted = helper
        self.status = status

    def closure_received(self) -> bool:
        """The asking circle accepted an offer, and told every circle it asked: the request
        takes no more offers. Heard when it is settled here already (this circle offered and
        heard which offer was accepted), it changes nothing; returns whether it closed."""
        self._check_theirs("hear that the request closed")
        if self.status != SupportStatus.OPEN:
            return False
        self._closure()
        return True

    @event("ClosureReceived")
    def _closure(self) -> None:
        self.status = SupportStatus.CLOSED

    # Both sides: delivery and reflections.

    def record_delivery(self, circle: Circle, by: str, note: str) -> None:
        self._check_circle(circle)
        check_records_keeper(circle, by, "record that support was delivered")
        self._check_deliverable()
        self._delivered(required_text(note, "Say what was delivered"), True)

    def delivery_reported(self, note: str) -> None:
        """The other side recorded the delivery."""
        self._check_deliverable()
        self._delivered(required_text(note, "Say what was delivered"), False)

    def _check_deliverable(self) -> None:
        if self.status != SupportStatus.ACCEPTED:
            raise WrongStage(
                f"Support is delivered once an offer is accepted; this is {self.status}"
            )

    @event("Delivered")
    def _delivered(self, note: str, by_us: bool) -> None:
        self.delivery = note
        self.status = SupportStatus.DELIVERED

    def reflect(self, circle: Circle, by: str, text: str) -> None:
        self._check_circle(circle)
        check_can_act(circle, by)
        self._check_delivered()
        if "us" in self.reflections:
            raise InvalidRequest("This circle has recorded its reflection")
        self._reflected("us", required_text(text, "A reflection needs its words"))

    def reflection_received(self, other: str, text: str) -> None:
        self._check_delivered()
        if other in self.reflections:
            raise InvalidRequest("That circle has sent its reflection already")
        self._reflected(other, required_text(text, "A reflection needs its words"))

    def _check_delivered(self) -> None:
        if self.status != SupportStatus.DELIVERED:
            raise WrongStage("Reflections follow the delivery")

    @event("Reflected")
    def _reflected(self, who: str, text: str) -> None:
        self.reflections[who] = text

    def _check_circle(self, circle: Circle) -> None:
        if circle.id != self.circle_id:
            raise InvalidRequest("That request belongs to another circle")

    def _check_ours(self, doing: str) -> None:
        if not self.is_ours:
            raise WrongStage(f"Only the circle that asked can {doing}")

    def _check_theirs(self, doing: str) -> None:
        if self.is_ours:
            raise WrongStage(f"Only a circle that was asked can {doing}")
