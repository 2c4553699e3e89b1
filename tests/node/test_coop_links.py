"""A co-op and its member circle on two nodes in one process: what their messages say and
what each side does with them (the summary, federated consent, the seats of the double link).

Cast (the `linked` fixture): the co-op and the kitchen, a circle that is part of it.
"""

from __future__ import annotations

import msgspec

from domain.values import Purpose
from federation.verify import decode_entry
from node.app.node import CircleNode
from node.network.messages import (
    CIRCLE_SUMMARY,
    CONSENT_ANSWER,
    CONSENT_REQUEST,
    DECISION_RECORD,
    LINK_VACATED,
    SEAT_ANSWER,
    SEAT_REQUEST,
    ConsentAnswer,
    ConsentRequest,
    DecisionRecord,
    decode_body,
    encode_body,
)
from tests.node.circles import consent_to, founder, select, send, sync


def _types_sent(node: CircleNode, after: int) -> list[str]:
    return [decode_entry(signed).type for signed in node.feed.own_entries(after, 100)]


def test_a_request_whose_type_and_seat_disagree_is_refused(linked) -> None:  # type: ignore[no-untyped-def]
    """PROTOCOL.md 11.4: `consent.request` asks the circle, `seat.request` a seat; the type
    says which, and a body that says otherwise is refused and changes nothing."""
    coop, kitchen = linked["coop"], linked["kitchen"]
    to = kitchen.feed.node_id
    # Given: a consent.request naming a seat, and a seat.request naming none.
    send(coop, to, CONSENT_REQUEST, encode_body(ConsentRequest(to, "p1", 1, "T", "x", "delegate")))
    send(coop, to, SEAT_REQUEST, encode_body(ConsentRequest(to, "p2", 1, "T", "x")))
    # And a consent.answer naming a seat (the kitchen asked nothing: refused either way).
    send(coop, to, CONSENT_ANSWER, encode_body(ConsentAnswer(to, "p3", 1, True, "", "leader")))
    # When: the kitchen takes them.
    sync(linked)
    # Then: each is refused with its reason, and no request is recorded.
    rel = kitchen.relations.relationship(coop.feed.node_id)
    assert rel.seat_requests == {} and rel.consent_requests == {}
    assert "consent.request: A request for this circle's consent names no seat" in rel.refusals
    assert "seat.request: A request for a seat's answer names the seat" in rel.refusals
    assert (
        "consent.answer: A circle's answer names no seat (a seat answers by seat.answer)"
        in rel.refusals
    )


def test_a_decision_record_without_binding_is_taken_as_not_binding() -> None:
    """PROTOCOL.md 11.7: `binding` came within version 1, so it has a default; a record
    written without it (by a writer of the earlier revision) decodes, binding nothing."""
    record = {
        "decision_id": "d1",
        "kind": "policy",
        "title": "Budgets",
        "text": "Every circle reviews its budget each quarter",
        "status": "in_force",
        "effective": "2026-03-02",
        "review_date": "2026-09-02",
    }
    decoded = decode_body(DECISION_RECORD, msgspec.msgpack.encode(record))
    assert isinstance(decoded, DecisionRecord) and decoded.binding is False
    # Written, `binding` keeps its place: second, after `decision_id`.
    written = encode_body(msgspec.convert({**record, "binding": True}, DecisionRecord))
    assert list(msgspec.msgpack.decode(written))[:2] == ["decision_id", "binding"]


def test_admission_sends_a_summary_and_withdrawal_none(linked) -> None:  # type: ignore[no-untyped-def]
    """PROTOCOL.md 11.4: the summary goes to the co-ops the circle is part of as the save
    leaves it. Admitted, the kitchen's summary reaches the co-op in the admission's run;
    withdrawing, it sends the co-op it leaves no summary (which the co-op would refuse)."""
    coop, kitchen = linked["coop"], linked["kitchen"]
    # Given: the kitchen was admitted (the fixture), and has changed nothing since.
    view = coop.relations.peer_view(kitchen.feed.feed_id)
    assert view is not None and view.summary is not None and view.summary["aim"] == "Care"
    # When: the kitchen goes its own way.
    head = kitchen.feed.own_feed().head
    consent_to(kitchen, Purpose.GO_INDEPENDENT, {"circle": coop.feed.node_id})
    sync(linked)
    # Then: no summary is sent, and the co-op refuses nothing.
    assert CIRCLE_SUMMARY not in _types_sent(kitchen, head)
    assert coop.relations.relationship(kitchen.feed.node_id).refusals == []


def test_an_answer_decided_by_formal_vote_is_sent(linked) -> None:  # type: ignore[no-untyped-def]
    """PROTOCOL.md 11.4: the kitchen's rules decide its answers to other circles by formal
    vote; the vote consents to the answer, which is sent, and the co-op counts it."""
    coop, kitchen = linked["coop"], linked["kitchen"]
    kitchen_founder = next(iter(kitchen.records.get_circle().participants))
    consent_to(kitchen, Purpose.CHANGE_RULES, {"methods_by_topic": {"answers": "formal_vote"}})
    # Given: the co-op asks the kitchen's consent.
    asking = consent_to(
        coop, Purpose.ADOPT_POLICY, {}, ask_circles=[kitchen.feed.node_id], close=False
    )
    sync(linked)
    # When: the kitchen's answer is decided by a vote.
    answer = kitchen.proposals.draft_proposal(
        kitchen_founder,
        "Our answer",
        "Yes",
        purpose=Purpose.ANSWER_CONSENT_REQUEST,
        subject={"circle": coop.feed.node_id, "request": asking, "round": 1, "consents": True},
        topic="answers",
    )
    kitchen.proposals.present(kitchen_founder, answer)
    kitchen.proposals.open_reactions(kitchen_founder, answer)
    kitchen.consent.open_consent_round(kitchen_founder, answer)
    head = kitchen.feed.own_feed().head
    assert kitchen.proposals.record_vote(kitchen_founder, answer, 1, 0) == "consented"
    # Then: the answer goes out, and the co-op counts the kitchen's consent.
    assert CONSENT_ANSWER in _types_sent(kitchen, head)
    sync(linked)
    answers = coop.records.get_proposal(asking).answers
    assert answers[f"circle:{kitchen.feed.node_id}"].consents


def _kim_delegates(kitchen: CircleNode) -> str:
    kim = kitchen.people.apply_to_join("Kim Cook")
    kitchen.people.admit(founder(kitchen), kim)
    select(kitchen, "delegate", kim)
    return kim


def test_a_seat_answers_by_its_holder(linked) -> None:  # type: ignore[no-untyped-def]
    """PROTOCOL.md 11.4, `seat.answer`: the answer names who answers, and the co-op takes it
    only from the holder it records for that seat."""
    coop, kitchen = linked["coop"], linked["kitchen"]
    kim = _kim_delegates(kitchen)
    sync(linked)
    first = consent_to(coop, Purpose.ADOPT_POLICY, {}, close=False)
    second = consent_to(coop, Purpose.ADOPT_POLICY, {}, title="Another", close=False)
    sync(linked)
    # When: Kim answers for the delegate seat, and the kitchen's node (faulty, say) sends an
    # answer to the second proposal as someone else.
    head = kitchen.feed.own_feed().head
    kitchen.relations.answer_seat(kim, coop.feed.node_id, first, True)
    (signed,) = kitchen.feed.own_entries(head, 10)
    body = kitchen.feed.body_for(decode_entry(signed).body_hash, coop.feed.feed_id)
    assert decode_body(SEAT_ANSWER, body) == ConsentAnswer(  # type: ignore[arg-type]
        coop.feed.node_id, first, 1, True, "", "delegate", kim
    )
    to = coop.feed.node_id
    stranger = ConsentAnswer(to, second, 1, True, "", "delegate", "someone else")
    send(kitchen, to, SEAT_ANSWER, encode_body(stranger))
    sync(linked)
    # Then: Kim's answer counts; the other is refused and counts nowhere.
    seat = f"{kitchen.feed.node_id}/delegate"
    assert coop.records.get_proposal(first).answers[seat].consents
    assert seat not in coop.records.get_proposal(second).answers
    assert (
        "seat.answer: That answer is not from the holder of the delegate seat"
        in coop.relations.relationship(kitchen.feed.node_id).refusals
    )


def test_a_hat_taken_off_vacates_the_seat(linked) -> None:  # type: ignore[no-untyped-def]
    """PROTOCOL.md 11.4, `link.vacated`: the kitchen's delegate takes the hat off; the co-op
    forgets them as the seat's holder, unseats them, and asks the seat nothing more."""
    coop, kitchen = linked["coop"], linked["kitchen"]
    kim = _kim_delegates(kitchen)
    sync(linked)
    seat = f"{kitchen.feed.node_id}/delegate"
    assert seat in coop.records.get_circle().full_participants()
    # When: Kim takes the delegate hat off.
    head = kitchen.feed.own_feed().head
    kitchen.hats.take_off_hat(kim, "delegate", kim, "Too busy this year")
    assert LINK_VACATED in _types_sent(kitchen, head)
    sync(linked)
    # Then: the co-op records no delegate, the seat has left its circle, and a new round
    # asks it nothing; an answer the kitchen's node sends for it all the same is refused.
    rel = coop.relations.relationship(kitchen.feed.node_id)
    assert rel.delegate is None and rel.refusals == []
    assert seat not in coop.records.get_circle().full_participants()
    head = coop.feed.own_feed().head
    proposal = consent_to(coop, Purpose.ADOPT_POLICY, {}, close=False)
    assert SEAT_REQUEST not in _types_sent(coop, head)
    to = coop.feed.node_id
    send(
        kitchen, to, SEAT_ANSWER, encode_body(ConsentAnswer(to, proposal, 1, True, "", "delegate"))
    )
    sync(linked)
    assert "seat.answer: That circle's delegate seat has no holder here" in (
        coop.relations.relationship(kitchen.feed.node_id).refusals
    )
    # And a delegate selected again takes the seat again.
    select(kitchen, "delegate", kim)
    sync(linked)
    assert seat in coop.records.get_circle().full_participants()


def test_seats_are_asked_in_hat_selections(linked) -> None:  # type: ignore[no-untyped-def]
    """PROTOCOL.md 11.4, `seat.request`: a hat selection's consent round asks the seats as a
    proposal's does, so a co-op whose absent members consent later can close it."""
    coop, kitchen = linked["coop"], linked["kitchen"]
    consent_to(coop, Purpose.CHANGE_RULES, {"absentee_policy": "consent_later"})
    kim = _kim_delegates(kitchen)
    sync(linked)
    # Given: the co-op selects its treasurer; its own members consent.
    host = founder(coop)
    hat = coop.hats.define_hat(host, "Treasurer", "Keeps the accounts", [], ["money"])
    selection = coop.hats.open_selection(host, hat)
    coop.hats.nominate(host, selection, host, "Good with numbers")
    coop.hats.open_change_round(host, selection)
    coop.hats.propose_candidate(host, selection, host, "Good with numbers")
    coop.consent.consent(host, selection)
    sync(linked)
    # When: the kitchen's delegate answers for the seat.
    request = kitchen.relations.relationship(coop.feed.node_id).seat_requests
    assert request[f"{selection}:delegate"]["title"] == "Selection for the hat Treasurer"
    kitchen.relations.answer_seat(kim, coop.feed.node_id, selection, True)
    sync(linked)
    # Then: the seat's consent counts, and the round closes.
    assert coop.consent.close_consent_round(host, selection) == "consented"
