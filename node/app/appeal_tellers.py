"""What a circle's appeals tell other circles: an appeal lodged here against a linked circle's
decision, an appeal taken to the care and counsel group or the broader circle, and this
circle's answer to an appeal taken to it (node/app/publishing.py holds the table of every
aggregate's tellers)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from domain.appeal import Appeal, Role
from domain.hats import DELEGATE
from node.app import event_classes
from node.app.published_records import Publishing, addressed_to
from node.network.batch import Outgoing
from node.network.messages import (
    APPEAL_ANSWER,
    APPEAL_JOIN,
    APPEAL_REFERRAL,
    AppealAnswer,
    AppealJoin,
    AppealReferral,
)


def _appeal_lodged(node: Publishing, appeal: Appeal, event: Any) -> list[Outgoing]:
    """Someone of this circle appealed a linked circle's decision: the appeal goes there, with
    the person by their id here (no name: PROTOCOL.md 11.6)."""
    if appeal.role != Role.SENT or appeal.origin is None:
        return []
    (person,) = appeal.appellants
    body = AppealJoin(appeal.origin, appeal.decision_id, appeal.grounds, person)
    return [addressed_to(appeal.origin, APPEAL_JOIN, body)]


def _appeal_taken_further(node: Publishing, appeal: Appeal, event: Any) -> list[Outgoing]:
    """The appellants took the appeal to the care and counsel group or the broader circle: it
    goes there, with the circle's delegates (who hear it with them), by id."""
    referral = AppealReferral(
        event.to,
        str(appeal.id),
        event.hearing,
        appeal.title,
        appeal.text,
        appeal.grounds,
        len(appeal.appellants),
        node.get_circle().wearers(DELEGATE),
    )
    return [addressed_to(event.to, APPEAL_REFERRAL, referral)]


def _referral_answered(node: Publishing, appeal: Appeal, event: Any) -> list[Outgoing]:
    """This circle answered an appeal taken to it: the answer goes back."""
    assert appeal.origin is not None and appeal.origin_id is not None
    answer = AppealAnswer(
        appeal.origin, appeal.origin_id, appeal.hearing, event.upheld, event.reason
    )
    return [addressed_to(appeal.origin, APPEAL_ANSWER, answer)]


APPEAL_TELLERS: dict[type[Any], Callable[[Publishing, Any, Any], list[Outgoing]]] = {
    event_classes.Appeal.Lodged: _appeal_lodged,
    event_classes.Appeal.TakenFurther: _appeal_taken_further,
    event_classes.Appeal.ReferralAnswered: _referral_answered,
}
