"""Appeals across nodes, in one process: someone of the co-op appeals the kitchen's decision
from the co-op's node (`appeal.join`); the kitchen takes the appeal to the co-op, its care and
counsel group and its broader circle (`appeal.referral`), whose answers come back
(`appeal.answer`); and the messages that do not fit are refused with their reason.

Cast: the co-op and the kitchen (a circle that is part of it, whose broader circle it is);
the kitchen's founder (facilitator, proposes the policy), Ann and Bo (learning participants,
who took no part in consenting), and the co-op's founder.
"""

from __future__ import annotations

import json
from collections.abc import Callable

import msgspec
import pytest

from domain.appeal import ERASED_GROUNDS, AppealStatus, Hearing, Role
from domain.values import Level, Purpose
from node.app.archive import export_archive
from node.app.logbook import read_logbook
from node.app.node import CircleNode
from node.network.messages import (
    APPEAL_ANSWER,
    APPEAL_JOIN,
    APPEAL_REFERRAL,
    AppealAnswer,
    AppealJoin,
    AppealReferral,
    encode_body,
)
from tests.node.circles import consent_to, founder, make_active, make_member, select, send, sync


@pytest.fixture
def circles(make: Callable[[str], CircleNode]) -> dict[str, CircleNode]:
    """The co-op, and the kitchen founded as part of it (its parent), a member circle whose
    rules name the co-op as its care and counsel group; Ann and Bo learn in the kitchen."""
    coop, kitchen = make("coop"), make("kitchen")
    coop.circle.found_circle(name="Co-op", aim="Care", domain="Care", founder_name="Cy")
    kitchen.circle.found_circle(
        name="Kitchen", aim="Feed", domain="Food", founder_name="Kai", parent=coop.feed.node_id
    )
    nodes = {"coop": coop, "kitchen": kitchen}
    for node in nodes.values():
        make_active(node)
    make_member(nodes, "coop", "kitchen")
    consent_to(kitchen, Purpose.CHANGE_RULES, {"care_and_counsel": coop.feed.node_id})
    for name in ("Ann", "Bo"):
        person = kitchen.people.apply_to_join(name, Level.LEARNING)
        kitchen.people.admit(founder(kitchen), person, Level.LEARNING)
    return nodes


def _people(kitchen: CircleNode) -> tuple[str, str, str]:
    names = kitchen.records.list_people()
    by_name = {name: person for person, name in names.items()}
    return founder(kitchen), by_name["Ann"], by_name["Bo"]


def _policy(kitchen: CircleNode) -> str:
    consent_to(kitchen, Purpose.ADOPT_POLICY, {}, "Close at eight", title="Closing time")
    (decision,) = [d for d in kitchen.records.list_decisions() if d.title == "Closing time"]
    return str(decision.id)


def test_an_appeal_crosses_to_the_co_op_and_its_answers_come_back(circles, tmp_path) -> None:  # type: ignore[no-untyped-def]
    coop, kitchen = circles["coop"], circles["kitchen"]
    kai, ann, bo = _people(kitchen)
    decision = _policy(kitchen)
    # Given: Ann appeals the kitchen's policy, and Bo joins her.
    appeal_id = kitchen.appeals.lodge(ann, decision, "Evening volunteers were not asked")
    kitchen.appeals.join(bo, appeal_id, "Nor the youth club")
    assert kitchen.appeals.get_appeal(appeal_id).status == AppealStatus.GATHERING
    # When: the co-op's founder appeals it from the co-op's node.
    sent = coop.appeals.appeal_elsewhere(
        founder(coop), kitchen.feed.node_id, decision, "It shuts out our members"
    )
    assert coop.appeals.get_appeal(sent).role == Role.SENT
    sync(circles)
    # Then: the kitchen hears it, with three appellants, the third by reference alone.
    appeal = kitchen.appeals.get_appeal(appeal_id)
    assert appeal.status == AppealStatus.BEING_HEARD
    assert list(appeal.appellants)[2] == f"{coop.feed.node_id}/{founder(coop)}"
    # When: the circle does not uphold it, and Ann takes it to the care and counsel group.
    kitchen.appeals.answer_as_circle(kai, appeal_id, False, "Evenings are for cleaning")
    assert kitchen.appeals.take_further(ann, appeal_id) == (
        Hearing.CARE_AND_COUNSEL,
        coop.feed.node_id,
    )
    sync(circles)
    # Then: the co-op hears it as an appeal referred to it.
    (referred,) = [a for a in coop.appeals.appeals() if a.role == Role.REFERRED]
    assert (referred.origin, referred.origin_id) == (kitchen.feed.node_id, appeal_id)
    assert referred.hearing == Hearing.CARE_AND_COUNSEL and referred.appellant_count == 3
    assert referred.title == "Closing time" and referred.text == "Close at eight"
    # When: the co-op does not uphold it either; Bo takes it to the broader circle.
    coop.appeals.answer_referral(founder(coop), str(referred.id), False, "Ask again in spring")
    sync(circles)
    assert kitchen.appeals.get_appeal(appeal_id).status == AppealStatus.NOT_UPHELD
    kitchen.appeals.take_further(bo, appeal_id)
    sync(circles)
    (broader,) = [a for a in coop.appeals.appeals() if a.hearing == Hearing.BROADER_CIRCLE]
    coop.appeals.answer_referral(founder(coop), str(broader.id), True, "Open until ten")
    sync(circles)
    # Then: the broader circle's answer is the kitchen's, final; a proposal follows.
    appeal = kitchen.appeals.get_appeal(appeal_id)
    assert appeal.status == AppealStatus.UPHELD and appeal.is_final
    assert [(a.hearing, a.upheld, a.by) for a in appeal.answers] == [
        (Hearing.CIRCLE, False, kai),
        (Hearing.CARE_AND_COUNSEL, False, coop.feed.node_id),
        (Hearing.BROADER_CIRCLE, True, coop.feed.node_id),
    ]
    proposal = kitchen.appeals.open_amendment(kai, appeal_id, "Open until ten")
    assert kitchen.records.get_proposal(proposal).subject == {"decision_id": decision}
    # And: both logbooks tell it.
    entries = list(read_logbook(kitchen))
    kitchen_lines = [entry.text for entry in entries]
    actors = {entry.text: entry.actor for entry in entries}
    assert actors["Ann appealed 'Closing time': Evening volunteers were not asked"] == ann
    assert [a for t, a in actors.items() if "the broader circle, upheld" in t] == [None]
    assert "Ann appealed 'Closing time': Evening volunteers were not asked" in kitchen_lines
    assert any("the broader circle, upheld the appeal against" in t for t in kitchen_lines)
    coop_lines = [entry.text for entry in read_logbook(coop)]
    assert any("took its appeal against 'Closing time' to this circle" in t for t in coop_lines)
    assert any("This circle upheld the appeal against" in t for t in coop_lines)
    # And: the kitchen's export carries the appeal's story.
    export_archive(kitchen, tmp_path / "kitchen.archive")
    document = msgspec.msgpack.decode((tmp_path / "kitchen.archive").read_bytes()[:-32])
    exported = [line["text"] for line in json.loads(document["logbook.json"])]
    assert "Ann appealed 'Closing time': Evening volunteers were not asked" in exported
    (kept,) = json.loads(document["appeals.json"])
    assert kept["id"] == appeal_id and kept["status"] == "upheld"
    assert [answer["hearing"] for answer in kept["answers"]] == [
        "circle",
        "care_and_counsel",
        "broader_circle",
    ]


def _refusals(node: CircleNode, other: CircleNode) -> list[str]:
    return node.relations.relationship(other.feed.node_id).refusals


def test_appeal_messages_that_do_not_fit_are_refused(circles) -> None:  # type: ignore[no-untyped-def]
    coop, kitchen = circles["coop"], circles["kitchen"]
    _, ann, _ = _people(kitchen)
    decision = _policy(kitchen)
    to = kitchen.feed.node_id
    # Given: appeals naming no decision of the kitchen's, or a person by a path.
    send(coop, to, APPEAL_JOIN, encode_body(AppealJoin(to, "nothing", "Unfair", "cy")))
    send(coop, to, APPEAL_JOIN, encode_body(AppealJoin(to, decision, "Unfair", "a/b")))
    # And: a referral to the kitchen as the co-op's broader circle (the co-op is not part of it).
    referral = AppealReferral(to, "appeal-1", "broader_circle", "T", "x", "Unfair", 3, [])
    send(coop, to, APPEAL_REFERRAL, encode_body(referral))
    # And: an answer to an appeal the kitchen never took to the co-op.
    appeal_id = kitchen.appeals.lodge(ann, decision, "Unfair")
    answer = AppealAnswer(to, appeal_id, "care_and_counsel", True, "Yes")
    send(coop, to, APPEAL_ANSWER, encode_body(answer))
    # When: the kitchen takes them.
    sync(circles)
    # Then: each is refused with its reason, and nothing changed.
    refusals = _refusals(kitchen, coop)
    assert "appeal.join: That names nothing here" in refusals
    assert "appeal.join: Name the person who appeals, by their id in their circle" in refusals
    assert (
        "appeal.referral: Only a circle that is part of this one takes an appeal to it" in refusals
    )
    assert "appeal.answer: That circle was not asked to hear this appeal" in refusals
    appeal = kitchen.appeals.get_appeal(appeal_id)
    assert list(appeal.appellants) == [ann] and appeal.answers == []
    assert [a for a in kitchen.appeals.appeals() if a.role == Role.REFERRED] == []


def test_someone_who_took_part_is_refused_from_another_circle(circles) -> None:  # type: ignore[no-untyped-def]
    """A seat of the double link consented for its holder: the holder's appeal, from their
    own circle, is refused as that of someone who consented."""
    coop, kitchen = circles["coop"], circles["kitchen"]
    _, ann, _ = _people(kitchen)
    # Given: a policy of the co-op that the kitchen's delegate (Ann) consented to, in her seat.
    kitchen.people.change_level(founder(kitchen), ann, Level.FULL)
    select(kitchen, "delegate", ann)
    sync(circles)
    asking = consent_to(coop, Purpose.ADOPT_POLICY, {}, "Shared vans", title="Vans", close=False)
    sync(circles)
    kitchen.relations.answer_seat(ann, coop.feed.node_id, asking, True)
    sync(circles)
    host = founder(coop)
    coop.consent.close_consent_round(host, asking)
    (decision,) = [d for d in coop.records.list_decisions() if d.title == "Vans"]
    # When: Ann appeals it from the kitchen.
    kitchen.appeals.appeal_elsewhere(ann, coop.feed.node_id, str(decision.id), "Too costly")
    sync(circles)
    # Then: the co-op refuses it: she consented.
    assert "appeal.join: Someone who consented to a decision cannot appeal it" in _refusals(
        coop, kitchen
    )
    assert coop.appeals.appeals() == []


def test_erased_appellants_leave_that_someone_appealed_not_what_they_wrote(circles) -> None:  # type: ignore[no-untyped-def]
    coop, kitchen = circles["coop"], circles["kitchen"]
    _, ann, bo = _people(kitchen)
    decision = _policy(kitchen)
    # Given: Ann and Bo appeal the kitchen's policy, and Pia of the co-op joins them from there.
    pia = coop.people.apply_to_join("Pia Park")
    coop.people.admit(founder(coop), pia)
    appeal_id = kitchen.appeals.lodge(ann, decision, "Evening volunteers were not asked")
    kitchen.appeals.join(bo, appeal_id, "Nor the youth club")
    sent = coop.appeals.appeal_elsewhere(pia, kitchen.feed.node_id, decision, "It shuts us out")
    sync(circles)
    # When: Pia leaves the co-op, which erases her data (its person.erased reaches the
    # kitchen); and Ann leaves the kitchen, which erases hers.
    coop.people.leave(pia, pia)
    coop.erasure.erase_person(founder(coop), pia)
    sync(circles)
    kitchen.people.leave(ann, ann)
    kitchen.erasure.erase_person(founder(kitchen), ann)
    # Then: the kitchen's appeal keeps three appellants, two of them nameless and without
    # grounds; the appeal's grounds (Ann's) are gone too.
    appeal = kitchen.appeals.get_appeal(appeal_id)
    assert appeal.appellants == {"erased-1": "", bo: "Nor the youth club", "erased-3": ""}
    assert appeal.grounds == ERASED_GROUNDS and appeal.status == AppealStatus.BEING_HEARD
    # And: so does the appeal the co-op sent for Pia.
    assert coop.appeals.get_appeal(sent).appellants == {"erased-1": ""}
    # And: neither logbook tells what they wrote, or who Ann was.
    kitchen_lines = [entry.text for entry in read_logbook(kitchen)]
    told = " ".join(kitchen_lines + [entry.text for entry in read_logbook(coop)])
    for written in ("Evening volunteers were not asked", "It shuts us out", "Ann appealed"):
        assert written not in told
    assert "Bo joined the appeal against 'Closing time': Nor the youth club" in kitchen_lines
    assert "Someone whose personal data was erased appealed 'Closing time'" in kitchen_lines
