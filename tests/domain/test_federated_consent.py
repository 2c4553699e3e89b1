"""Federated consent: a proposal in one circle asks linked circles for their consent; each runs
its own consent process and answers (signed by its node) with a consent or a reasoned objection
that blocks like a full participant's. And the seats of the double link: a member circle's
delegate and leader sit in the co-op's circle as full participants, answering from their node."""

from __future__ import annotations

from datetime import timedelta

import pytest

from domain.consent import circle_seat
from domain.errors import InvalidRequest, NotPermitted, WrongStage
from domain.proposal import Proposal
from domain.records import GoverningRules
from domain.values import (
    AbsenteePolicy,
    CoopLink,
    Integration,
    Level,
    Membership,
    Mode,
    Peering,
    Purpose,
    Stage,
)

GARDEN = "node-garden"  # a peer the kitchen circle asks
ORCHARD = "node-orchard"  # another peer it asks
BAKERY = "node-bakery"  # a circle it did not ask
KITCHEN = "node-kitchen"  # the kitchen circle, as the garden circle refers to it

# Seats of a member circle's delegate and leader in the co-op's circle (the node names them).
DELEGATE_SEAT = f"{KITCHEN}/delegate"
LEADER_SEAT = f"{KITCHEN}/leader"


def everyone_consents(proposal, circle, now):
    for person_id in circle.full_participants():
        proposal.consent(circle, person_id, now)


# Asking linked circles.


def test_a_proposal_names_the_linked_circles_it_asks(circle, now):
    # Cleo's proposal also needs the consent of the garden and orchard circles.
    proposal = Proposal.draft(
        circle,
        "cleo",
        "Shared compost",
        "One compost heap for the three circles.",
        now,
        ask_circles=[f" {ORCHARD} ", GARDEN, ORCHARD, "  "],
    )

    # Each is asked once; blanks name nobody.
    assert proposal.asked_circles == [GARDEN, ORCHARD]

    # A proposal that asks nobody needs only the circle's own consent.
    assert Proposal.draft(circle, "cleo", "Rota", "A new rota.", now).asked_circles == []


def test_a_linked_circles_answer_is_keyed_by_its_seat():
    assert circle_seat(GARDEN) == "circle:node-garden"


def test_the_asked_circles_consent_with_the_circle(circle, now, to_consent_round):
    # Cleo's proposal asks the garden and orchard circles; it reaches the consent round.
    proposal = to_consent_round(circle, ask_circles=[GARDEN, ORCHARD])

    # The circle's full participants consent; each linked circle consents by its own process.
    everyone_consents(proposal, circle, now)
    proposal.record_circle_answer(circle, GARDEN, 1, True)
    proposal.record_circle_answer(circle, ORCHARD, 1, True, " Keep it covered ")
    assert proposal.answers[circle_seat(GARDEN)].consents
    assert proposal.answers[circle_seat(ORCHARD)].text == "Keep it covered"

    # The round closes: consented, the circles' consent on record with the people's.
    assert proposal.close_consent_round(circle, "ben", now) == Stage.CONSENTED
    [record] = proposal.rounds
    assert record.consents == sorted(
        ["ada", "ben", "cleo", "dan", circle_seat(GARDEN), circle_seat(ORCHARD)]
    )
    assert record.concerns == ["Keep it covered"]
    assert record.missing == []


def test_closing_the_round_waits_for_the_asked_circles(circle, now, to_consent_round, unchanged):
    # Cleo's proposal asks the garden and orchard circles; every person consented.
    proposal = to_consent_round(circle, ask_circles=[GARDEN, ORCHARD])
    everyone_consents(proposal, circle, now)

    # The round does not close while the linked circles are deciding.
    with (
        unchanged(proposal, circle),
        pytest.raises(WrongStage, match="Waiting for 2 linked circle"),
    ):
        proposal.close_consent_round(circle, "ben", now)

    # Nor while one of them is.
    proposal.record_circle_answer(circle, GARDEN, 1, True)
    with (
        unchanged(proposal, circle),
        pytest.raises(WrongStage, match="Waiting for 1 linked circle"),
    ):
        proposal.close_consent_round(circle, "ben", now)

    # Once both answered, it closes.
    proposal.record_circle_answer(circle, ORCHARD, 1, True)
    assert proposal.close_consent_round(circle, "ben", now) == Stage.CONSENTED


def test_an_asynchronous_round_waits_for_the_asked_circles_until_its_deadline(
    circle, now, to_consent_round, unchanged
):
    # Cleo's proposal runs asynchronously for a week and asks the garden circle.
    deadline = now + timedelta(days=7)
    proposal = to_consent_round(circle, mode=Mode.ASYNC, deadline=deadline, ask_circles=[GARDEN])
    everyone_consents(proposal, circle, now)

    # Before the deadline the round waits for the garden circle.
    with unchanged(proposal, circle), pytest.raises(WrongStage, match="Waiting for 1 linked"):
        proposal.close_consent_round(circle, "ben", now + timedelta(days=6))

    # At the deadline the facilitator closes it: the silent circle, like an absent member,
    # cannot object (the circle's absentee policy).
    assert proposal.close_consent_round(circle, "ben", deadline) == Stage.CONSENTED
    [record] = proposal.rounds
    assert record.missing == [circle_seat(GARDEN)]


def test_a_silent_circle_past_the_deadline_lapses_a_proposal_where_absentees_consent_later(
    found_circle, now, to_consent_round
):
    # The circle's absentees consent later; Cleo's asynchronous proposal asks the garden circle.
    circle = found_circle(rules=GoverningRules(absentee_policy=AbsenteePolicy.CONSENT_LATER))
    deadline = now + timedelta(days=7)
    proposal = to_consent_round(circle, mode=Mode.ASYNC, deadline=deadline, ask_circles=[GARDEN])
    everyone_consents(proposal, circle, now)

    # The garden circle never answered: past the deadline, the proposal lapses.
    assert proposal.close_consent_round(circle, "ben", deadline) == Stage.LAPSED


def test_consent_from_a_circle_that_was_not_asked_is_refused(circle, to_consent_round, unchanged):
    # Cleo's proposal asks the garden circle only.
    proposal = to_consent_round(circle, ask_circles=[GARDEN])

    # The bakery circle's answer, consent or objection, does not count.
    with (
        unchanged(proposal, circle),
        pytest.raises(NotPermitted, match="That circle was not asked to consent to this"),
    ):
        proposal.record_circle_answer(circle, BAKERY, 1, True)
    with (
        unchanged(proposal, circle),
        pytest.raises(NotPermitted, match="That circle was not asked to consent to this"),
    ):
        proposal.record_circle_answer(circle, BAKERY, 1, False, "We want the heap")

    # Nor any circle's, for a proposal that asked none.
    own = to_consent_round(circle)
    with unchanged(own, circle), pytest.raises(NotPermitted, match="was not asked"):
        own.record_circle_answer(circle, GARDEN, 1, True)


def test_a_circles_answer_is_taken_only_while_the_round_is_open(
    circle, now, to_consent_round, unchanged
):
    # Cleo's proposal asks the garden circle; it is only presented.
    proposal = Proposal.draft(
        circle, "cleo", "Shared compost", "One heap.", now, ask_circles=[GARDEN]
    )
    proposal.present(circle, "cleo")
    with (
        unchanged(proposal, circle),
        pytest.raises(WrongStage, match="Cannot take a circle's answer while it is presented"),
    ):
        proposal.record_circle_answer(circle, GARDEN, 1, True)

    # Once consented, the round is over.
    done = to_consent_round(circle, ask_circles=[GARDEN])
    everyone_consents(done, circle, now)
    done.record_circle_answer(circle, GARDEN, 1, True)
    done.close_consent_round(circle, "ben", now)
    with (
        unchanged(done, circle),
        pytest.raises(WrongStage, match="Cannot take a circle's answer while it is consented"),
    ):
        done.record_circle_answer(circle, GARDEN, 1, True)


def test_an_answer_for_another_round_is_refused(circle, to_consent_round, unchanged):
    # Cleo's proposal, asking the garden circle, is in its first consent round.
    proposal = to_consent_round(circle, ask_circles=[GARDEN])

    # An answer for a round that has not opened does not count.
    with (
        unchanged(proposal, circle),
        pytest.raises(WrongStage, match="That answer is for consent round 2; round 1 is open"),
    ):
        proposal.record_circle_answer(circle, GARDEN, 2, True)
    assert circle_seat(GARDEN) not in proposal.answers


def test_a_circle_answers_once_per_round(circle, to_consent_round, unchanged):
    # The garden circle consented in this round.
    proposal = to_consent_round(circle, ask_circles=[GARDEN])
    proposal.record_circle_answer(circle, GARDEN, 1, True)

    # A second answer, of either kind, is refused.
    with (
        unchanged(proposal, circle),
        pytest.raises(WrongStage, match="That circle has already answered in this round"),
    ):
        proposal.record_circle_answer(circle, GARDEN, 1, True)
    with (
        unchanged(proposal, circle),
        pytest.raises(WrongStage, match="That circle has already answered in this round"),
    ):
        proposal.record_circle_answer(circle, GARDEN, 1, False, "We changed our minds")
    assert proposal.objections == []


@pytest.mark.parametrize("argument", ["", "   "])
def test_a_circles_objection_needs_its_argument(circle, to_consent_round, unchanged, argument):
    proposal = to_consent_round(circle, ask_circles=[GARDEN])
    with (
        unchanged(proposal, circle),
        pytest.raises(InvalidRequest, match="A circle's objection needs its argument"),
    ):
        proposal.record_circle_answer(circle, GARDEN, 1, False, argument)
    assert proposal.answers == {}


def test_an_answer_for_another_circles_proposal_is_refused(
    circle, other_circle, to_consent_round, unchanged
):
    # The other circle's proposal asks the garden circle.
    theirs = to_consent_round(other_circle, ask_circles=[GARDEN])

    # It takes no answer through the kitchen circle.
    with (
        unchanged(theirs, circle),
        pytest.raises(InvalidRequest, match="That belongs to another circle"),
    ):
        theirs.record_circle_answer(circle, GARDEN, 1, True)


def test_a_circles_objection_blocks_until_it_is_integrated(
    circle, now, to_consent_round, unchanged
):
    # Cleo's proposal asks the garden circle; every person consents, the garden circle objects.
    proposal = to_consent_round(circle, ask_circles=[GARDEN])
    everyone_consents(proposal, circle, now)
    proposal.record_circle_answer(
        circle, GARDEN, 1, False, " The heap would sit by our kitchen door "
    )
    [objection] = proposal.objections
    assert (objection.number, objection.person_id, objection.argument, objection.round) == (
        1,
        circle_seat(GARDEN),
        "The heap would sit by our kitchen door",
        1,
    )

    # Its objection blocks like a full participant's: the proposal goes to integration.
    assert proposal.close_consent_round(circle, "ben", now) == Stage.INTEGRATING
    assert proposal.rounds[0].objections == [1]

    # The round cannot repeat until the objection is integrated.
    with (
        unchanged(proposal, circle),
        pytest.raises(WrongStage, match="Integrate objection 1 before the consent round repeats"),
    ):
        proposal.open_consent_round(circle, "ben", now)

    # Cleo amends the proposal; the second round opens and asks again.
    proposal.integrate(
        circle, "cleo", Integration.AMEND, "The heap goes behind the shed, away from doors.", [1]
    )
    proposal.open_consent_round(circle, "ben", now)
    assert proposal.round_number == 2
    assert proposal.answers == {}

    # The garden circle's first-round answer no longer counts; its second-round answer does.
    with unchanged(proposal, circle), pytest.raises(WrongStage, match="round 2 is open"):
        proposal.record_circle_answer(circle, GARDEN, 1, True)
    everyone_consents(proposal, circle, now)
    with unchanged(proposal, circle), pytest.raises(WrongStage, match="Waiting for 1 linked"):
        proposal.close_consent_round(circle, "ben", now)
    proposal.record_circle_answer(circle, GARDEN, 2, True)
    assert proposal.close_consent_round(circle, "ben", now) == Stage.CONSENTED


# The asked circle answers by its own consent process.


def test_a_circle_answers_a_linked_circles_request_by_its_own_consent(
    circle, other_circle, now, decide, meet, to_consent_round
):
    # The garden circle (here `other_circle`) and the kitchen circle peer.
    garden = other_circle
    asked_side = meet(circle, GARDEN)
    asked_side.request_peering(circle, decide(circle, Purpose.REQUEST_PEERING, circle=GARDEN))
    asked_side.peering_accepted()
    assert asked_side.peering == Peering.PEERS

    # The garden circle's proposal asks the kitchen circle; its request reaches the kitchen.
    proposal = to_consent_round(garden, ask_circles=[KITCHEN])
    asked_side.consent_requested(str(proposal.id), 1, proposal.title, proposal.text)

    # The kitchen circle consents to answer that it consents.
    answer = decide(
        circle,
        Purpose.ANSWER_CONSENT_REQUEST,
        circle=GARDEN,
        request=str(proposal.id),
        round=1,
        consents=True,
    )
    asked_side.check_consent_request(answer.subject["request"], answer.subject["round"])
    asked_side.answer_consent_request(str(proposal.id), 1, True, "")
    assert asked_side.consent_requests == {}

    # Its signed answer counts in the garden circle's round, which then closes consented.
    proposal.record_circle_answer(garden, KITCHEN, 1, True)
    everyone_consents(proposal, garden, now)
    assert proposal.close_consent_round(garden, "ben", now) == Stage.CONSENTED


@pytest.mark.parametrize(
    ("subject", "match"),
    [
        ({}, "An answer to a consent request says whether we consent"),
        ({"consents": "yes"}, "An answer to a consent request says whether we consent"),
        ({"consents": 1}, "An answer to a consent request says whether we consent"),
        ({"consents": False}, "An objection to another circle's proposal needs its argument"),
        (
            {"consents": False, "argument": "  "},
            "An objection to another circle's proposal needs its argument",
        ),
        ({"consents": True, "circle": ""}, "must name circle"),
        ({"consents": True, "request": None}, "must name request"),
    ],
    ids=["no answer", "a word", "a number", "objection", "blank argument", "circle", "request"],
)
def test_an_answer_to_a_consent_request_says_whether_the_circle_consents(
    circle, now, unchanged, subject, match
):
    # A proposal answering the garden circle's request must say yes or no, and why not.
    subject = {"circle": GARDEN, "request": "p-1"} | subject
    with unchanged(circle), pytest.raises(InvalidRequest, match=match):
        Proposal.draft(
            circle,
            "cleo",
            "Our answer",
            "What we say to the garden circle",
            now,
            purpose=Purpose.ANSWER_CONSENT_REQUEST,
            subject=subject,
        )


@pytest.mark.parametrize(
    "subject",
    [{"consents": True}, {"consents": False, "argument": "The heap would sit by our door"}],
    ids=["consents", "objects"],
)
def test_a_circle_may_answer_yes_or_a_reasoned_no(circle, now, subject):
    proposal = Proposal.draft(
        circle,
        "cleo",
        "Our answer",
        "What we say to the garden circle",
        now,
        purpose=Purpose.ANSWER_CONSENT_REQUEST,
        subject={"circle": GARDEN, "request": "p-1"} | subject,
    )
    assert proposal.subject["consents"] is subject["consents"]


# The seats of the double link in the co-op's circle.


def test_a_member_circles_delegate_and_leader_sit_as_full_participants(
    other_circle, today, event_names
):
    # The kitchen circle is part of the co-op; its delegate and leader take their seats.
    co_op = other_circle
    co_op.seat_linked(DELEGATE_SEAT, today)
    co_op.seat_linked(LEADER_SEAT, today)
    assert event_names(co_op) == ["LinkedSeatTaken", "LinkedSeatTaken"]

    # Each seat is a full participant of the co-op's circle.
    seat = co_op.participant(DELEGATE_SEAT)
    assert (seat.level, seat.status, seat.since) == (Level.FULL, Membership.ACTIVE, today)
    assert {DELEGATE_SEAT, LEADER_SEAT} <= set(co_op.full_participants())

    # A seat already taken is not taken again.
    co_op.seat_linked(DELEGATE_SEAT, today)
    assert event_names(co_op) == []


def test_a_seat_answers_the_co_ops_consent_round_like_any_full_participant(
    other_circle, now, today, to_consent_round, unchanged
):
    # The kitchen circle's delegate sits in the co-op's circle.
    co_op = other_circle
    co_op.seat_linked(DELEGATE_SEAT, today)

    # The co-op's proposal reaches its consent round; the seat objects, from its node.
    proposal = to_consent_round(co_op)
    for person_id in ("ada", "ben", "cleo", "dan"):
        proposal.consent(co_op, person_id, now)
    proposal.raise_objection(co_op, DELEGATE_SEAT, "The kitchen cannot carry this", now)
    assert proposal.objections[0].person_id == DELEGATE_SEAT

    # It answers once per round, like anyone.
    with unchanged(proposal), pytest.raises(WrongStage, match="already answered"):
        proposal.consent(co_op, DELEGATE_SEAT, now)

    # The objection blocks: the proposal goes to integration.
    assert proposal.close_consent_round(co_op, "ben", now) == Stage.INTEGRATING


def test_a_seat_is_given_up_when_the_member_circle_leaves(
    other_circle, now, today, to_consent_round, unchanged, event_names
):
    # The kitchen circle's delegate sits in the co-op's circle; the kitchen circle withdraws.
    co_op = other_circle
    co_op.seat_linked(DELEGATE_SEAT, today)
    co_op.collect_events()
    co_op.unseat_linked(DELEGATE_SEAT, today)

    # The seat is left: no longer a full participant, and it answers no round.
    assert co_op.participant(DELEGATE_SEAT).status == Membership.LEFT
    assert DELEGATE_SEAT not in co_op.full_participants()
    assert event_names(co_op) == ["MembershipChanged"]
    proposal = to_consent_round(co_op)
    with unchanged(proposal, co_op), pytest.raises(NotPermitted, match="has left the circle"):
        proposal.consent(co_op, DELEGATE_SEAT, now)

    # Giving up a seat that is empty, or never was, changes nothing.
    co_op.unseat_linked(DELEGATE_SEAT, today)
    co_op.unseat_linked(LEADER_SEAT, today)
    assert event_names(co_op) == []

    # When the kitchen circle names a delegate again, the seat is taken again.
    co_op.seat_linked(DELEGATE_SEAT, today)
    assert co_op.participant(DELEGATE_SEAT).status == Membership.ACTIVE


def test_no_seat_is_taken_in_a_dissolved_circle(other_circle, today, dissolve, unchanged):
    co_op = other_circle
    dissolve(co_op)
    with unchanged(co_op), pytest.raises(WrongStage, match="dissolved"):
        co_op.seat_linked(DELEGATE_SEAT, today)


def test_no_seat_is_given_up_in_a_dissolved_circle(other_circle, today, dissolve, unchanged):
    # The kitchen circle's delegate sat in the co-op's circle when it dissolved.
    co_op = other_circle
    co_op.seat_linked(DELEGATE_SEAT, today)
    dissolve(co_op)

    # Its records are kept as they were: the seat is not changed afterwards.
    with unchanged(co_op), pytest.raises(WrongStage, match="dissolved"):
        co_op.unseat_linked(DELEGATE_SEAT, today)


def test_the_seats_answer_what_the_co_op_asked_them(circle, meet, decide):
    # The kitchen circle is part of the co-op, which asks its delegate's seat about a proposal.
    rel = meet(circle, "node-co-op")
    rel.apply_to_coop(circle, decide(circle, Purpose.APPLY_TO_COOP, circle="node-co-op"))
    rel.admitted_as_member()
    assert rel.coop == CoopLink.MEMBER_OF
    rel.consent_requested("p-7", 1, "Co-op budget", "The budget for 2027.", seat="delegate")

    # The delegate answers from the kitchen circle's node, for the seat only.
    rel.answer_consent_request("p-7", 1, True, "", seat="delegate")
    assert rel.seat_requests == {}
