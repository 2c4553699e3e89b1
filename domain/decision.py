"""Decisions: the circle's policies (by consent) and everyday decisions (by a hat wearer)."""

from __future__ import annotations

from datetime import date, timedelta
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from domain.circle import Circle
from domain.errors import InvalidRequest, NotPermitted, WrongStage
from domain.inputs import required_text
from domain.membership import check_can_act, check_wears
from domain.proposal import Proposal
from domain.records import Copied
from domain.rules import check_consented
from domain.values import IN_FORCE, DecisionKind, DecisionStatus, Purpose

# Review dates when the proposal or the hat wearer names none.
DEFAULT_REVIEW_DAYS = {DecisionKind.POLICY: 365, DecisionKind.OPERATIONAL: 183}


class Decision(Copied, Aggregate):
    """A decision in force until it is reviewed, renewed, amended, superseded or ends."""

    @classmethod
    def adopt(cls, circle: Circle, proposal: Proposal, today: date) -> Decision:
        """A consented policy proposal becomes a policy of the circle."""
        check_consented(circle, proposal, Purpose.ADOPT_POLICY, "makes or changes a policy")
        return cls(
            circle_id=circle.id,
            kind=DecisionKind.POLICY,
            title=proposal.title,
            text=proposal.text,
            area=None,
            hat_id=None,
            taken_by=proposal.proposer,
            proposal_id=str(proposal.id),
            effective=today,
            review_date=proposal.review_date or _default_review(DecisionKind.POLICY, today),
            term_end=None,
            measures=list(proposal.measures),
            binding=bool(proposal.subject.get("binds_member_circles")),
        )

    @classmethod
    def take_everyday(
        cls,
        circle: Circle,
        by: str,
        hat_id: str,
        area: str,
        title: str,
        text: str,
        today: date,
        *,
        review_date: date | None = None,
        term_end: date | None = None,
    ) -> Decision:
        """An everyday decision by a hat wearer, inside the hat's domain."""
        hat = circle.hat(hat_id)
        check_wears(circle, by, hat_id, "take everyday decisions with this hat")
        area = required_text(area, "Say which area of the hat's domain this decision is in")
        if not hat.covers(area):
            raise NotPermitted(
                f"{area!r} is outside the domain of the {hat.name.lower()} hat "
                f"({', '.join(hat.domain) or 'none'}); bring a proposal to the circle instead"
            )
        review_date = review_date or _default_review(DecisionKind.OPERATIONAL, today)
        if review_date <= today:
            raise InvalidRequest("The review date must be in the future")
        if term_end is not None and term_end <= today:
            raise InvalidRequest("The term must end in the future")
        return cls(
            circle_id=circle.id,
            kind=DecisionKind.OPERATIONAL,
            title=required_text(title, "A decision needs a title"),
            text=required_text(text, "A decision needs its text"),
            area=area,
            hat_id=hat_id,
            taken_by=by,
            proposal_id=None,
            effective=today,
            review_date=review_date,
            term_end=term_end,
            measures=[],
        )

    @event("Taken")
    def __init__(
        self,
        circle_id: UUID,
        kind: str,
        title: str,
        text: str,
        area: str | None,
        hat_id: str | None,
        taken_by: str,
        proposal_id: str | None,
        effective: date,
        review_date: date,
        term_end: date | None,
        measures: list[str],
        binding: bool = False,
    ) -> None:
        self.circle_id = circle_id
        self.kind = kind
        self.title = title
        self.text = text
        self.area = area
        self.hat_id = hat_id
        self.taken_by = taken_by
        self.proposal_id = proposal_id
        self.effective = effective
        self.review_date = review_date
        self.term_end = term_end
        self.measures = measures
        # A policy of a co-op that binds the circles that are part of it.
        self.binding = binding
        self.status: str = DecisionStatus.IN_FORCE
        self.challenges: list[str] = []
        self.superseded_by: str | None = None

    @property
    def in_force(self) -> bool:
        return self.status in IN_FORCE

    def is_review_due(self, today: date) -> bool:
        return self.in_force and self.review_date <= today

    def mark_review_due(self, today: date) -> None:
        if not self.in_force or self.status == DecisionStatus.REVIEW_DUE:
            raise WrongStage(f"This decision is {self.status.replace('_', ' ')}")
        if self.review_date > today:
            raise WrongStage(f"This decision is not due for review until {self.review_date}")
        self._review_came_due(today)

    @event("ReviewCameDue")
    def _review_came_due(self, today: date) -> None:
        self.status = DecisionStatus.REVIEW_DUE

    def renew(self, circle: Circle, proposal: Proposal, today: date) -> None:
        self._check_changes_this(circle, proposal, Purpose.RENEW_DECISION)
        review_date = proposal.review_date or _default_review(self.kind, today)
        self._renewed(str(proposal.id), review_date)

    @event("Renewed")
    def _renewed(self, proposal_id: str, review_date: date) -> None:
        self.review_date = review_date
        self.status = DecisionStatus.RENEWED

    def amend(self, circle: Circle, proposal: Proposal, today: date) -> None:
        self._check_changes_this(circle, proposal, Purpose.AMEND_DECISION)
        review_date = proposal.review_date or _default_review(self.kind, today)
        self._amended(str(proposal.id), proposal.text, review_date, list(proposal.measures))

    @event("Amended")
    def _amended(self, proposal_id: str, text: str, review_date: date, measures: list[str]) -> None:
        self.text = text
        self.review_date = review_date
        self.measures = self.measures + measures
        self.status = DecisionStatus.AMENDED

    def revoke(self, circle: Circle, proposal: Proposal) -> None:
        self._check_changes_this(circle, proposal, Purpose.REVOKE_DECISION)
        self._revoked(str(proposal.id))

    @event("Revoked")
    def _revoked(self, proposal_id: str) -> None:
        self.status = DecisionStatus.REVOKED

    def supersede(self, successor: Decision) -> None:
        """A newer policy takes this decision's place."""
        if not self.in_force:
            raise WrongStage(f"This decision is already {self.status.replace('_', ' ')}")
        if successor.circle_id != self.circle_id or successor.id == self.id:
            raise InvalidRequest("A decision is superseded by another decision of its circle")
        if successor.kind != DecisionKind.POLICY:
            raise InvalidRequest("Only a policy the circle consented to supersedes a decision")
        self._superseded(str(successor.id))

    @event("Superseded")
    def _superseded(self, successor_id: str) -> None:
        self.superseded_by = successor_id
        self.status = DecisionStatus.SUPERSEDED

    def expire(self, today: date) -> None:
        if not self.in_force:
            raise WrongStage(f"This decision is already {self.status.replace('_', ' ')}")
        if self.term_end is None or self.term_end > today:
            raise WrongStage("This decision's term has not ended")
        self._expired(today)

    @event("Expired")
    def _expired(self, today: date) -> None:
        self.status = DecisionStatus.EXPIRED

    def challenge(self, circle: Circle, by: str, proposal: Proposal) -> None:
        """Anyone in the circle may challenge an everyday decision; it becomes a proposal."""
        if proposal.circle_id != circle.id or circle.id != self.circle_id:
            raise InvalidRequest("The challenge and the decision belong to different circles")
        check_can_act(circle, by)
        if self.kind != DecisionKind.OPERATIONAL:
            raise WrongStage("A policy is changed by a proposal to amend it, not a challenge")
        if not self.in_force:
            raise WrongStage(f"This decision is already {self.status.replace('_', ' ')}")
        if proposal.purpose not in (Purpose.AMEND_DECISION, Purpose.REVOKE_DECISION) or (
            proposal.subject.get("decision_id") != str(self.id)
        ):
            raise InvalidRequest("A challenge is a proposal to amend or revoke this decision")
        self._challenged(by, str(proposal.id))

    @event("Challenged")
    def _challenged(self, by: str, proposal_id: str) -> None:
        self.challenges.append(proposal_id)

    def _check_changes_this(self, circle: Circle, proposal: Proposal, purpose: str) -> None:
        if circle.id != self.circle_id:
            raise InvalidRequest("That decision belongs to another circle")
        check_consented(circle, proposal, purpose, "makes or changes a policy")
        if proposal.subject.get("decision_id") != str(self.id):
            raise InvalidRequest("That proposal is about another decision")
        if not self.in_force:
            raise WrongStage(f"This decision is already {self.status.replace('_', ' ')}")


def _default_review(kind: str, today: date) -> date:
    return today + timedelta(days=DEFAULT_REVIEW_DAYS[DecisionKind(kind)])
