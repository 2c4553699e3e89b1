"""Appeals: against this circle's decisions (lodged, joined, heard by the circle, taken to its
care and counsel group and its broader circle), taken to this circle by another one to hear,
and made from here against a linked circle's decision. What crosses nodes goes out with the
save (node/app/publishing.py) and comes in through node/app/inbound.py."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from domain.appeal import Appeal, AppealStatus, Role
from domain.appeal_rules import is_linked, took_part
from domain.circle import Circle
from domain.decision import Decision
from domain.errors import WrongStage
from domain.proposal import Proposal
from domain.relationships import Relationship
from domain.values import CoopLink, Purpose
from node.app.proposals import draft
from node.app.records import CircleRecords
from node.app.relations import Relations, seat_of
from node.app.work import UnitOfWork
from node.store.retry import retry_on_conflict as command


def linked_circles(relationships: Iterable[Relationship]) -> list[str]:
    """The circles whose people may appeal this circle's decisions (and whose decisions this
    circle's people may appeal): those it peers with, or is part of, or has as a member."""
    return [rel.other for rel in relationships if is_linked(rel.peering, rel.coop)]


def links_of(relationships: Iterable[Relationship]) -> dict[str, tuple[str, str]]:
    """This circle's relationship with each other circle, as (peering, coop): where an appeal
    may be taken further (domain/appeal_rules.py, `may_hear`)."""
    return {rel.other: (rel.peering, rel.coop) for rel in relationships}


def gathering_against(appeals: Iterable[Appeal], decision_id: str) -> Appeal | None:
    """The appeal against this decision still gathering appellants, if there is one."""
    return next(
        (
            appeal
            for appeal in appeals
            if appeal.role == Role.AGAINST_US
            and appeal.decision_id == decision_id
            and appeal.status == AppealStatus.GATHERING
        ),
        None,
    )


def appeals_of(appellant: str, appeals: Iterable[Appeal]) -> Iterator[Appeal]:
    """The appeals `appellant` is an appellant of (to erase what they wrote)."""
    return (appeal for appeal in appeals if appellant in appeal.appellants)


def seat_holders(relationships: Iterable[Relationship]) -> dict[str, str]:
    """Each seat of a member circle in this one, with the person holding it there
    ("<node id>/<person id>"): a seat that consented is its holder who took part."""
    holders: dict[str, str] = {}
    for rel in relationships:
        if rel.coop != CoopLink.HAS_MEMBER:
            continue
        for role, person in (("delegate", rel.delegate), ("leader", rel.leader)):
            if person:
                holders[seat_of(rel.other, role)] = f"{rel.other}/{person}"
    return holders


class Appeals:
    """The circle's appeals, in every role (domain/appeal.py)."""

    def __init__(self, records: CircleRecords, relations: Relations) -> None:
        self._work = records
        self._relations = relations

    def appeals(self) -> list[Appeal]:
        """The circle's appeals as stored, shared: to read, never to change."""
        return list(self._work.all("appeal", Appeal))

    def get_appeal(self, appeal_id: str) -> Appeal:
        appeal: Appeal = self._work.get_record(Appeal, appeal_id, "appeal")
        return appeal

    def parties(self, decision: Decision) -> dict[str, str]:
        """Who took part in making `decision`, each with the sentence refusing their appeal."""
        proposal = self._work.get_proposal(decision.proposal_id) if decision.proposal_id else None
        return took_part(decision, proposal, seat_holders(self._relations.relationships()))

    def open_against(self, decision_id: str) -> Appeal | None:
        """The appeal against this decision still gathering appellants, if there is one."""
        return gathering_against(self.appeals(), decision_id)

    @command
    def lodge(self, by: str, decision_id: str, grounds: str) -> str:
        """`by` appeals one of the circle's decisions (the first of three appellants)."""
        with UnitOfWork(self._work) as uow:
            decision = self._work.get_decision(decision_id)
            if self.open_against(str(decision.id)) is not None:
                raise WrongStage("An appeal against this decision is gathering appellants: join it")
            appeal = Appeal.lodge(
                uow.shared_circle(),
                decision,
                by,
                grounds,
                self.parties(decision),
                linked_circles(self._relations.relationships()),
            )
            uow.file("appeal", appeal)
            return str(appeal.id)

    @command
    def join(self, by: str, appeal_id: str, grounds: str = "") -> None:
        with UnitOfWork(self._work) as uow:
            appeal: Appeal = uow.record(Appeal, appeal_id, "appeal")
            if appeal.role != Role.AGAINST_US:
                raise WrongStage("Only an appeal against this circle's decision can be joined")
            decision = self._work.get_decision(appeal.decision_id)
            appeal.join(
                uow.shared_circle(),
                decision,
                by,
                grounds,
                self.parties(decision),
                linked_circles(self._relations.relationships()),
            )

    @command
    def answer_as_circle(
        self, by: str, appeal_id: str, upheld: bool, reason: str, *, revoke: bool = False
    ) -> str | None:
        """The facilitator records the circle's answer. Upheld, it opens a proposal (by the
        facilitator) to amend the decision, or to revoke it; returns the proposal's id."""
        with UnitOfWork(self._work) as uow:
            circle = uow.shared_circle()
            appeal: Appeal = uow.record(Appeal, appeal_id, "appeal")
            appeal.check_circle_may_answer(circle, by, reason)
            proposal = self._amendment(circle, by, appeal, reason, revoke, uow) if upheld else None
            appeal.answer_as_circle(circle, by, upheld, reason, proposal)
            if proposal is not None:
                uow.file("proposal", proposal)
            return str(proposal.id) if proposal is not None else None

    @command
    def open_amendment(self, by: str, appeal_id: str, text: str, *, revoke: bool = False) -> str:
        """After the care and counsel group or the broader circle upheld the appeal: the
        facilitator opens the proposal to amend (or revoke) the decision."""
        with UnitOfWork(self._work) as uow:
            circle = uow.shared_circle()
            appeal: Appeal = uow.record(Appeal, appeal_id, "appeal")
            appeal.check_may_open_amendment(circle, by)
            proposal = self._amendment(circle, by, appeal, text, revoke, uow)
            appeal.open_amendment(circle, by, proposal)
            uow.file("proposal", proposal)
            return str(proposal.id)

    def _amendment(
        self, circle: Circle, by: str, appeal: Appeal, text: str, revoke: bool, uow: UnitOfWork
    ) -> Proposal:
        return draft(
            uow,
            self._relations,
            circle,
            by,
            f"Appeal upheld: {appeal.title}",
            text,
            purpose=Purpose.REVOKE_DECISION if revoke else Purpose.AMEND_DECISION,
            subject={"decision_id": appeal.decision_id},
        )

    @command
    def take_further(self, by: str, appeal_id: str) -> tuple[str, str]:
        """An appellant takes the appeal to its next step (the referral goes out with the
        save); returns the step and the circle that hears it."""
        with UnitOfWork(self._work) as uow:
            appeal: Appeal = uow.record(Appeal, appeal_id, "appeal")
            links = links_of(self._relations.relationships())
            return appeal.take_further(uow.shared_circle(), by, links)

    @command
    def withdraw(self, by: str, appeal_id: str, reason: str) -> None:
        """An appellant withdraws the appeal before its final answer."""
        with UnitOfWork(self._work) as uow:
            appeal: Appeal = uow.record(Appeal, appeal_id, "appeal")
            appeal.withdraw(uow.shared_circle(), by, reason)

    @command
    def answer_referral(self, by: str, appeal_id: str, upheld: bool, reason: str) -> None:
        """This circle's answer to an appeal taken to it (the answer goes back with the save)."""
        with UnitOfWork(self._work) as uow:
            appeal: Appeal = uow.record(Appeal, appeal_id, "appeal")
            appeal.answer(uow.shared_circle(), by, upheld, reason)

    @command
    def appeal_elsewhere(self, by: str, circle: str, decision_id: str, grounds: str) -> str:
        """`by` appeals a linked circle's decision: the appeal goes there, with the save."""
        with UnitOfWork(self._work) as uow:
            appeal = Appeal.send(
                uow.shared_circle(),
                by,
                circle,
                decision_id,
                grounds,
                linked_circles(self._relations.relationships()),
            )
            uow.file("appeal", appeal)
            return str(appeal.id)
