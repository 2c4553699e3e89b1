"""What other circles' appeal messages change here (node/app/inbound.py's table calls these):
someone of a linked circle appeals one of this circle's decisions, a linked circle takes an
appeal to this one, or answers an appeal this circle took to it."""

from __future__ import annotations

from domain.appeal import Appeal, referred_appeal_id
from domain.appeal_rules import check_may_refer, is_linked, took_part
from domain.errors import DomainError
from node.app.appeals import appeals_of, gathering_against, seat_holders
from node.app.receiving import RunContext
from node.network import messages as m


def take_appeal_join(c: RunContext, record: m.AppealJoin) -> None:
    """Someone of a linked circle appeals one of this circle's decisions: they join the appeal
    against it that is gathering appellants, or lodge one."""
    if not record.person.strip() or "/" in record.person:
        raise DomainError("Name the person who appeals, by their id in their circle")
    rel = c.relationship()
    linked = [c.other] if is_linked(rel.peering, rel.coop) else []
    decision = c.decision(record.decision)
    proposal = c.proposal(decision.proposal_id) if decision.proposal_id else None
    parties = took_part(decision, proposal, seat_holders([rel]))
    person = f"{c.other}/{record.person}"
    circle = c.circle()
    appeals = (c.appeal(str(appeal_id)) for appeal_id in c.index("appeal").ids())
    gathering = gathering_against(appeals, str(decision.id))
    if gathering is not None:
        gathering.join(circle, decision, person, record.grounds, parties, linked)
        return
    appeal = Appeal.lodge(circle, decision, person, record.grounds, parties, linked)
    c.batch.add(appeal)
    c.index("appeal").file(appeal.id)


def take_appeal_referral(c: RunContext, record: m.AppealReferral) -> None:
    """A linked circle takes an appeal to this one, as its care and counsel group or its
    broader circle: this circle hears it (a second copy changes nothing)."""
    rel = c.relationship()
    check_may_refer(rel.peering, rel.coop, record.hearing)
    circle = c.circle()
    appeal_id = referred_appeal_id(circle.id, c.other, record.appeal, record.hearing)

    def referred() -> Appeal:
        appeal = Appeal.referred(
            circle,
            c.other,
            record.appeal,
            record.hearing,
            record.title,
            record.text,
            record.grounds,
            record.appellants,
            record.delegates,
        )
        c.index("appeal").file(appeal.id)
        return appeal

    c.batch.get(appeal_id, referred)


def take_appeal_answer(c: RunContext, record: m.AppealAnswer) -> None:
    """The circle an appeal was taken to answered it."""
    c.appeal(record.appeal).answer_received(c.other, record.hearing, record.upheld, record.reason)


def erase_remote_appellant(c: RunContext, person: str) -> None:
    """The other circle erased one of its people: the appeals of this circle they are an
    appellant of keep that someone appealed, not who or what they wrote."""
    appeals = (c.appeal(str(appeal_id)) for appeal_id in c.index("appeal").ids())
    reference = f"{c.other}/{person}"
    for appeal in list(appeals_of(reference, appeals)):
        appeal.erase_appellant(reference)
