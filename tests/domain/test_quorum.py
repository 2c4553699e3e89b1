"""The quorum: enough full participants must take part for a consent round to count.

The kitchen circle has four full participants (Ada, Ben, Cleo, Dan); by default half of them,
two, make the quorum. Asynchronously, taking part is answering; in a meeting it is being there
(an answer given in advance does not make its giver present). A round below quorum never
closes as consented: it stays open, or at its deadline lapses with the reason recorded. When
the deadline of an asynchronous round has come, the calendar closes it with no one asking.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from domain.consent import circle_seat
from domain.errors import WrongStage
from domain.proposal import Proposal
from domain.records import GoverningRules
from domain.round_end import quorum_of
from domain.selection import HatSelection
from domain.values import AbsenteePolicy, DecisionMethod, Mode, Stage

GARDEN = "node-garden"
ORCHARD = "node-orchard"
DELEGATE_SEAT = "node-kitchen/delegate"
LEADER_SEAT = "node-kitchen/leader"


def rules(**fields) -> GoverningRules:
    return GoverningRules(**fields)


# The scenario: an asynchronous proposal nobody answered.


def test_an_unanswered_asynchronous_proposal_closed_after_its_deadline_lapses(
    circle, now, to_consent_round
):
    # Cleo's asynchronous proposal has a week; the absentee policy is "cannot object".
    deadline = now + timedelta(days=7)
    proposal = to_consent_round(circle, mode=Mode.ASYNC, deadline=deadline)
    assert circle.rules.absentee_policy == AbsenteePolicy.CANNOT_OBJECT

    # Nobody answers. After the deadline the facilitator closes the round.
    outcome = proposal.close_consent_round(circle, "ben", deadline + timedelta(hours=1))

    # It lapses below quorum, and never becomes a policy; the round says why.
    assert outcome == Stage.LAPSED
    assert proposal.stage == Stage.LAPSED
    [record] = proposal.rounds
    assert record.consents == []
    assert record.missing == ["ada", "ben", "cleo", "dan"]
    assert record.reason == "Below quorum: 0 of 4 full participant(s) answered, and 2 are needed"


def test_the_calendar_closes_an_unanswered_asynchronous_proposal_as_lapsed(
    circle, now, to_consent_round, event_names
):
    # Cleo's asynchronous proposal has a week, and nobody answers.
    deadline = now + timedelta(days=7)
    proposal = to_consent_round(circle, mode=Mode.ASYNC, deadline=deadline)
    proposal.collect_events()

    # The calendar closes it once the deadline has come: no one asks, no one acts.
    assert proposal.close_at_deadline(circle, deadline + timedelta(minutes=5)) == Stage.LAPSED

    # It lapsed below quorum, recorded as a closed round with its reason.
    assert event_names(proposal) == ["ConsentRoundClosed"]
    assert proposal.stage == Stage.LAPSED
    assert proposal.rounds[0].reason.startswith("Below quorum: 0 of 4")


# Below quorum, the round stays open.


def test_below_quorum_an_asynchronous_round_stays_open_until_its_deadline(
    circle, now, to_consent_round, unchanged
):
    # Only Ada answers Cleo's asynchronous proposal in its first days.
    deadline = now + timedelta(days=7)
    proposal = to_consent_round(circle, mode=Mode.ASYNC, deadline=deadline)
    proposal.consent(circle, "ada", now)
    assert quorum_of(circle, proposal).taking_part == 1
    assert quorum_of(circle, proposal).needed == 2

    # Before the deadline the facilitator cannot close it: the sentence says who is short.
    with (
        unchanged(proposal, circle),
        pytest.raises(
            WrongStage,
            match=r"^Below quorum: 1 of 4 full participant\(s\) answered, and 2 are needed; "
            "the round stays open until its deadline$",
        ),
    ):
        proposal.close_consent_round(circle, "ben", now + timedelta(days=1))
    assert proposal.stage == Stage.CONSENT_ROUND

    # Ben answers too: the quorum is met, and at the deadline silence is no objection.
    proposal.consent(circle, "ben", now + timedelta(days=2))
    assert proposal.close_consent_round(circle, "ben", deadline) == Stage.CONSENTED
    assert proposal.rounds[0].reason == ""


def test_below_quorum_a_meeting_round_stays_open(found_circle, now, to_consent_round, unchanged):
    # Only Ada is at the meeting's round; the others are away.
    circle = found_circle()
    proposal = to_consent_round(circle)
    proposal.consent(circle, "ada", now)

    # The round cannot close consented, whatever the absentee policy says of absentees.
    with (
        unchanged(proposal, circle),
        pytest.raises(
            WrongStage,
            match=r"Below quorum: 1 of 4 full participant\(s\) took part in the meeting's "
            "round, and 2 are needed; the round stays open until the quorum is met",
        ),
    ):
        proposal.close_consent_round(circle, "ben", now)


def test_in_a_meeting_answers_given_in_advance_do_not_make_their_givers_present(
    found_circle, now, unchanged
):
    # The circle takes answers in advance. Cleo and Dan, who will miss the meeting, consent.
    circle = found_circle(rules=rules(absentee_policy=AbsenteePolicy.REACTED_IN_ADVANCE))
    proposal = Proposal.draft(circle, "cleo", "Sunday kitchen", "Open on Sundays", now)
    proposal.present(circle, "cleo")
    proposal.answer_in_advance(circle, "cleo", True)
    proposal.answer_in_advance(circle, "dan", True)
    proposal.open_reactions(circle, "ben")
    proposal.open_consent_round(circle, "ben", now)

    # In the meeting only Ada answers: one present, though three have answered.
    proposal.consent(circle, "ada", now)
    with (
        unchanged(proposal, circle),
        pytest.raises(WrongStage, match=r"Below quorum: 1 of 4 .* and 2 are needed"),
    ):
        proposal.close_consent_round(circle, "ben", now)

    # Ben is there too: two present, the quorum is met, and every answer counts.
    proposal.consent(circle, "ben", now)
    assert proposal.close_consent_round(circle, "ben", now) == Stage.CONSENTED
    assert proposal.rounds[0].consents == ["ada", "ben", "cleo", "dan"]


def test_asynchronously_an_answer_given_in_advance_is_an_answer(found_circle, now):
    # The circle takes answers in advance; Dan consents in advance to an asynchronous proposal.
    circle = found_circle(rules=rules(absentee_policy=AbsenteePolicy.REACTED_IN_ADVANCE))
    deadline = now + timedelta(days=7)
    proposal = Proposal.draft(
        circle, "cleo", "Sunday kitchen", "Open on Sundays", now, mode=Mode.ASYNC, deadline=deadline
    )
    proposal.present(circle, "cleo")
    proposal.answer_in_advance(circle, "dan", True)
    proposal.open_reactions(circle, "ben")
    proposal.open_consent_round(circle, "ben", now)

    # Ada answers in the round: with Dan's answer, two answered, the quorum.
    proposal.consent(circle, "ada", now)
    assert proposal.close_consent_round(circle, "ben", deadline) == Stage.CONSENTED


# The quorum the rules set.


def test_the_circles_rules_set_a_higher_quorum(found_circle, now, to_consent_round):
    # The circle's rules ask three quarters of its full participants: three of four.
    circle = found_circle(rules=rules(quorum_percent=75))
    deadline = now + timedelta(days=7)
    proposal = to_consent_round(circle, mode=Mode.ASYNC, deadline=deadline)

    # Two answer; absentees cannot object, but two is below the quorum.
    proposal.consent(circle, "ada", now)
    proposal.consent(circle, "ben", now)

    # At the deadline the round lapses, below quorum.
    assert proposal.close_consent_round(circle, "ben", deadline) == Stage.LAPSED
    assert proposal.rounds[0].reason == (
        "Below quorum: 2 of 4 full participant(s) answered, and 3 are needed"
    )


def test_an_objection_blocks_below_quorum_too(circle, now, to_consent_round):
    # Dan alone answers Cleo's asynchronous proposal, with a reasoned objection.
    deadline = now + timedelta(days=7)
    proposal = to_consent_round(circle, mode=Mode.ASYNC, deadline=deadline)
    proposal.raise_objection(circle, "dan", "Nobody holds the keys on Sunday", now)

    # At the deadline the round goes to integration, not to a lapse: the objection stands.
    assert proposal.close_at_deadline(circle, deadline) == Stage.INTEGRATING
    assert proposal.rounds[0].objections == [1]
    assert proposal.rounds[0].reason == ""


def test_where_absentees_consent_later_silence_lapses_with_its_reason(
    found_circle, now, to_consent_round
):
    # The circle's policy: absentees consent later. Three answer, above the quorum; Dan does not.
    circle = found_circle(rules=rules(absentee_policy=AbsenteePolicy.CONSENT_LATER))
    deadline = now + timedelta(days=7)
    proposal = to_consent_round(circle, mode=Mode.ASYNC, deadline=deadline)
    for person_id in ("ada", "ben", "cleo"):
        proposal.consent(circle, person_id, now)

    # The calendar closes it at the deadline: lapsed, and the round says why.
    assert proposal.close_at_deadline(circle, deadline + timedelta(hours=1)) == Stage.LAPSED
    assert proposal.rounds[0].reason == (
        "1 full participant(s) did not answer by the deadline, and the absentee policy asks "
        "absentees to consent later"
    )


# Who counts towards the quorum.


def test_linked_circles_asked_to_consent_do_not_count_towards_the_quorum(
    circle, now, to_consent_round, unchanged
):
    # Cleo's asynchronous proposal asks the garden and orchard circles, which both consent.
    deadline = now + timedelta(days=7)
    proposal = to_consent_round(
        circle, mode=Mode.ASYNC, deadline=deadline, ask_circles=[GARDEN, ORCHARD]
    )
    proposal.record_circle_answer(circle, GARDEN, 1, True)
    proposal.record_circle_answer(circle, ORCHARD, 1, True)

    # Of the circle's own full participants only Ada answers: below quorum.
    proposal.consent(circle, "ada", now)
    assert quorum_of(circle, proposal).taking_part == 1
    with unchanged(proposal, circle), pytest.raises(WrongStage, match="Below quorum: 1 of 4"):
        proposal.close_consent_round(circle, "ben", now)

    # At the deadline it lapses: the circles' consent does not stand in for the people's.
    assert proposal.close_at_deadline(circle, deadline) == Stage.LAPSED
    assert proposal.rounds[0].consents == ["ada", circle_seat(GARDEN), circle_seat(ORCHARD)]


def test_the_seats_of_the_double_link_count_towards_the_quorum(
    other_circle, now, today, to_consent_round, unchanged
):
    # The co-op's circle seats a member circle's delegate and leader: six full participants,
    # three of them the quorum.
    co_op = other_circle
    co_op.seat_linked(DELEGATE_SEAT, today)
    co_op.seat_linked(LEADER_SEAT, today)
    assert co_op.rules.quorum(len(co_op.full_participants())) == 3

    # In the meeting Ada and Ben consent: below quorum.
    proposal = to_consent_round(co_op)
    proposal.consent(co_op, "ada", now)
    proposal.consent(co_op, "ben", now)
    with unchanged(proposal, co_op), pytest.raises(WrongStage, match="Below quorum: 2 of 6"):
        proposal.close_consent_round(co_op, "ben", now)

    # The delegate's seat answers from its node: three take part, and it is consented.
    proposal.consent(co_op, DELEGATE_SEAT, now)
    assert proposal.close_consent_round(co_op, "ben", now) == Stage.CONSENTED


def test_someone_no_longer_a_full_participant_does_not_count(
    circle, now, today, to_consent_round, unchanged
):
    # Ada and Ben consent to Cleo's proposal; then Ben steps back.
    proposal = to_consent_round(circle)
    proposal.consent(circle, "ada", now)
    proposal.consent(circle, "ben", now)
    circle.step_back("ben", "ben", today)

    # Of the three full participants left, two are the quorum: only Ada counts.
    assert quorum_of(circle, proposal).taking_part == 1
    with unchanged(proposal, circle), pytest.raises(WrongStage, match="Below quorum: 1 of 3"):
        proposal.close_consent_round(circle, "ada", now)


# The calendar's command.


def test_the_calendar_closes_only_asynchronous_rounds_whose_deadline_has_come(
    circle, now, to_consent_round, unchanged
):
    # A meeting round: the calendar never closes it.
    in_meeting = to_consent_round(circle)
    with unchanged(in_meeting, circle), pytest.raises(WrongStage, match="Only an asynchronous"):
        in_meeting.close_at_deadline(circle, now + timedelta(days=30))

    # An asynchronous round before its deadline: not yet.
    deadline = now + timedelta(days=7)
    late = to_consent_round(circle, mode=Mode.ASYNC, deadline=deadline)
    late.consent(circle, "ada", now)
    late.consent(circle, "ben", now)
    with unchanged(late, circle), pytest.raises(WrongStage, match="whose deadline has come"):
        late.close_at_deadline(circle, deadline - timedelta(seconds=1))

    # At its deadline it closes as the rules say: consented, Cleo and Dan missing.
    assert late.close_at_deadline(circle, deadline) == Stage.CONSENTED
    assert late.rounds[0].missing == ["cleo", "dan"]

    # A closed round does not close again.
    with unchanged(late, circle), pytest.raises(WrongStage, match="while it is consented"):
        late.close_at_deadline(circle, deadline + timedelta(days=1))


def test_the_calendar_leaves_a_formal_vote_to_its_secretary(found_circle, now, unchanged):
    # The circle decides by formal vote: the secretary records the vote's result.
    circle = found_circle(rules=rules(decision_method=DecisionMethod.FORMAL_VOTE))
    deadline = now + timedelta(days=7)
    proposal = Proposal.draft(
        circle, "cleo", "Sunday kitchen", "Open on Sundays", now, mode=Mode.ASYNC, deadline=deadline
    )
    proposal.present(circle, "cleo")
    proposal.open_reactions(circle, "ben")
    proposal.open_consent_round(circle, "ben", now)

    # Its deadline passes: the calendar does not close it as a consent round.
    with unchanged(proposal, circle), pytest.raises(WrongStage, match="formal vote"):
        proposal.close_at_deadline(circle, deadline + timedelta(hours=1))


def test_the_calendar_closes_an_asynchronous_hat_selection_like_a_proposal(circle, now):
    # The facilitator opens an asynchronous selection for the organiser's hat, for a week;
    # Dan is nominated and proposed as candidate.
    deadline = now + timedelta(days=7)
    selection = HatSelection.open(
        circle, "ben", "care-commons-organiser", now, mode=Mode.ASYNC, deadline=deadline
    )
    selection.nominate(circle, "ada", "dan", "Dan knows the suppliers")
    selection.open_change_round(circle, "ben")
    selection.propose_candidate(circle, "ben", "dan", "Most nominated")

    # Only Dan answers: below quorum, so at its deadline the selection lapses.
    selection.consent(circle, "dan", now)
    assert selection.close_at_deadline(circle, deadline) == Stage.LAPSED
    assert selection.rounds[0].reason.startswith("Below quorum: 1 of 4")


def test_a_formal_vote_below_quorum_is_not_recorded(found_circle, now, unchanged):
    # Given: the circle decides by formal vote; four full participants, so two make the quorum.
    circle = found_circle(rules=rules(decision_method=DecisionMethod.FORMAL_VOTE))
    proposal = Proposal.draft(circle, "cleo", "Sunday kitchen", "Open on Sundays", now)
    proposal.present(circle, "cleo")
    proposal.open_reactions(circle, "ben")
    proposal.open_consent_round(circle, "ben", now)

    # When: the secretary records a vote in which one person voted.
    # Then: it is refused, and the vote stays open.
    with unchanged(proposal, circle), pytest.raises(WrongStage, match="Below quorum: 1 vote"):
        proposal.record_vote(circle, "ada", 1, 0, 0)

    # A vote the quorum took part in counts, abstentions included.
    assert proposal.record_vote(circle, "ada", 1, 0, 1) == Stage.CONSENTED
