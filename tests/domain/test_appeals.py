"""Appeals: three people who took no part in making a decision appeal it; the circle hears it,
then its care and counsel group, then its broader circle, whose answer is final. Each refusal
is a sentence and changes nothing.

Cast (tests/domain/conftest.py): Ada (secretary), Ben (facilitator), Cleo (organiser, who takes
the everyday decision about the rota, and proposes the policy), Dan (full, no hat), Eli
(learning), Gus (guest). Other circles, by reference: the garden circle (peers with the
kitchen), the care circle (its care and counsel group), the co-op (its broader circle).
"""

from __future__ import annotations

import pytest

from domain.appeal import (
    ERASED_GROUNDS,
    Appeal,
    AppealStatus,
    Hearing,
    Role,
    referred_appeal_id,
)
from domain.appeal_rules import check_may_refer, may_hear, took_part
from domain.decision import Decision
from domain.errors import InvalidRequest, NotFound, NotPermitted, WrongStage
from domain.proposal import Proposal
from domain.records import GoverningRules
from domain.values import CoopLink, Peering, Purpose, Stage
from tests.domain.conftest import NOW, ORGANISER, facilitator_of

GARDEN = "node-garden"
CARE = "node-care"
CO_OP = "neighbourhood-co-op"  # the kitchen circle's parent, as the conftest founds it
LINKED = (GARDEN,)
# This circle's relationships (peering, coop): the circles an appeal can be taken to.
REACHED = {
    GARDEN: (Peering.PEERS, CoopLink.NONE),
    CARE: (Peering.PEERS, CoopLink.NONE),
    CO_OP: (Peering.NONE, CoopLink.MEMBER_OF),
}


@pytest.fixture
def rota(circle):
    """Cleo's everyday decision, within her hat's domain."""
    decision = Decision.take_everyday(
        circle, "cleo", ORGANISER, "rota", "Weekend rota", "Two people a shift", NOW.date()
    )
    decision.collect_events()
    return decision


@pytest.fixture
def counselled(found_circle):
    """The kitchen circle whose rules name the care circle as its care and counsel group."""
    return found_circle(rules=GoverningRules(care_and_counsel=CARE))


def policy_by_some(circle, to_consent_round):
    """A policy Cleo proposed, Ada and Ben consented to (Dan did not answer)."""
    proposal = to_consent_round(circle)
    for person in ("ada", "ben"):
        proposal.consent(circle, person, NOW)
    assert proposal.close_consent_round(circle, facilitator_of(circle), NOW) == Stage.CONSENTED
    decision = Decision.adopt(circle, proposal, NOW.date())
    decision.collect_events()
    return proposal, decision


def heard(circle, decision, proposal=None):
    """An appeal by Dan, Eli and the garden circle's Pia: heard by the circle."""
    parties = took_part(decision, proposal)
    appeal = Appeal.lodge(circle, decision, "dan", "Nobody asked the youth club", parties, LINKED)
    appeal.join(circle, decision, "eli", "", parties, LINKED)
    appeal.join(circle, decision, f"{GARDEN}/pia", "We use the kitchen too", parties, LINKED)
    appeal.collect_events()
    return appeal


def amendment(circle, decision, by="ben"):
    return Proposal.draft(
        circle,
        by,
        f"Appeal upheld: {decision.title}",
        "Ask the youth club first",
        NOW,
        purpose=Purpose.AMEND_DECISION,
        subject={"decision_id": str(decision.id)},
    )


# Lodging and joining.


def test_three_people_who_took_no_part_bring_an_appeal_to_the_circle(circle, rota, event_names):
    # Given: Cleo's everyday decision about the rota.
    parties = took_part(rota, None)
    # When: Dan appeals it, and Eli and Pia of the garden circle (linked) join him.
    appeal = Appeal.lodge(circle, rota, "dan", "The rota leaves out the evening", parties, LINKED)
    assert appeal.status == AppealStatus.GATHERING
    appeal.join(circle, rota, "eli", "", parties, LINKED)
    assert appeal.status == AppealStatus.GATHERING
    appeal.join(circle, rota, f"{GARDEN}/pia", "Our volunteers too", parties, LINKED)
    # Then: with the third appellant, the circle hears it.
    assert event_names(appeal) == ["Lodged", "Joined", "Joined"]
    assert appeal.role == Role.AGAINST_US
    assert appeal.status == AppealStatus.BEING_HEARD and appeal.hearing == Hearing.CIRCLE
    assert list(appeal.appellants) == ["dan", "eli", f"{GARDEN}/pia"]
    assert appeal.grounds == "The rota leaves out the evening"
    assert appeal.title == "Weekend rota" and appeal.decision_id == str(rota.id)


@pytest.mark.parametrize(
    ("person", "error", "sentence"),
    [
        ("cleo", NotPermitted, "The hat wearer who took a decision cannot appeal it"),
        ("gus", NotPermitted, "Guests take part in rounds; full and learning participants appeal"),
        ("zed", NotFound, "This person is not a participant of the circle"),
        (
            "node-orchard/olu",
            NotPermitted,
            "Only participants of this circle or of a circle linked to it appeal its decisions",
        ),
    ],
)
def test_who_may_not_appeal_an_everyday_decision(circle, rota, person, error, sentence):
    # Given: Cleo's everyday decision. When: someone who may not appeal it tries.
    with pytest.raises(error, match=sentence):
        Appeal.lodge(circle, rota, person, "Unfair", took_part(rota, None), LINKED)


def test_the_proposer_and_those_who_consented_may_not_appeal_a_policy(
    circle, to_consent_round, unchanged
):
    # Given: Cleo's policy, consented to by Ada and Ben; Dan did not answer.
    proposal, decision = policy_by_some(circle, to_consent_round)
    parties = took_part(decision, proposal)
    appeal = Appeal.lodge(circle, decision, "dan", "Nobody asked the youth club", parties)
    # When: the proposer or a participant who consented joins. Then: refused.
    with unchanged(appeal), pytest.raises(NotPermitted, match="The proposer of a decision"):
        appeal.join(circle, decision, "cleo", "", parties)
    for person in ("ada", "ben"):
        with unchanged(appeal), pytest.raises(NotPermitted, match="Someone who consented"):
            appeal.join(circle, decision, person, "", parties)


def test_a_seat_that_consented_is_its_holder_who_took_part(circle, to_consent_round):
    # Given: a policy whose round a linked circle's delegate seat consented to (held by Kim).
    proposal, decision = policy_by_some(circle, to_consent_round)
    proposal.rounds[-1].consents.append(f"{GARDEN}/delegate")
    parties = took_part(decision, proposal, {f"{GARDEN}/delegate": f"{GARDEN}/kim"})
    # When: Kim appeals from her circle. Then: refused, she consented.
    with pytest.raises(NotPermitted, match="Someone who consented to a decision cannot"):
        Appeal.lodge(circle, decision, f"{GARDEN}/kim", "Too soon", parties, LINKED)


def test_an_appellant_joins_once_and_three_are_enough(circle, rota, unchanged):
    parties = took_part(rota, None)
    appeal = Appeal.lodge(circle, rota, "dan", "Unfair", parties, LINKED)
    # When: Dan joins his own appeal. Then: refused.
    with unchanged(appeal), pytest.raises(WrongStage, match="has appealed this decision already"):
        appeal.join(circle, rota, "dan", "", parties, LINKED)
    appeal.join(circle, rota, "eli", "", parties, LINKED)
    appeal.join(circle, rota, "ada", "", parties, LINKED)
    # When: a fourth joins once it is heard. Then: refused.
    with unchanged(appeal), pytest.raises(WrongStage, match="has its 3 appellants"):
        appeal.join(circle, rota, "ben", "", parties, LINKED)


def test_an_appeal_needs_grounds_and_a_decision_in_force(circle, rota, decide):
    parties = took_part(rota, None)
    with pytest.raises(InvalidRequest, match="An appeal says on what grounds"):
        Appeal.lodge(circle, rota, "dan", "  ", parties)
    # Given: the decision was revoked. Then: it can no longer be appealed.
    rota.revoke(circle, decide(circle, Purpose.REVOKE_DECISION, decision_id=str(rota.id)))
    with pytest.raises(WrongStage, match="This decision is revoked"):
        Appeal.lodge(circle, rota, "dan", "Unfair", parties)


def test_joining_names_the_decision_appealed(circle, rota, to_consent_round, unchanged):
    _, other = policy_by_some(circle, to_consent_round)
    appeal = Appeal.lodge(circle, rota, "dan", "Unfair", took_part(rota, None))
    with unchanged(appeal), pytest.raises(InvalidRequest, match="against another decision"):
        appeal.join(circle, other, "eli", "", took_part(other, None))


# The circle hears it.


def test_the_facilitator_records_that_the_circle_did_not_uphold_it(circle, rota, event_names):
    appeal = heard(circle, rota)
    # When: Ben, the facilitator, records the circle's answer.
    appeal.answer_as_circle(circle, "ben", False, "Evenings are covered by the café")
    # Then: not upheld, and the appellants may still take it further.
    assert event_names(appeal) == ["CircleAnswered"]
    assert appeal.status == AppealStatus.NOT_UPHELD and not appeal.is_final
    (answer,) = appeal.answers
    assert (answer.hearing, answer.upheld, answer.by) == (Hearing.CIRCLE, False, "ben")


def test_an_appeal_the_circle_upholds_opens_a_proposal_to_amend_the_decision(circle, rota):
    appeal = heard(circle, rota)
    proposal = amendment(circle, rota)
    # When: the circle upholds it, opening Ben's proposal to amend the rota.
    appeal.answer_as_circle(circle, "ben", True, "The evening was forgotten", proposal)
    # Then: upheld, final, and the proposal named.
    assert appeal.status == AppealStatus.UPHELD and appeal.is_final
    assert appeal.proposal_id == str(proposal.id)


def test_what_the_circle_cannot_answer(circle, rota, unchanged):
    parties = took_part(rota, None)
    gathering = Appeal.lodge(circle, rota, "dan", "Unfair", parties)
    # An appeal is heard once three people appeal.
    with unchanged(gathering), pytest.raises(WrongStage, match="this one has 1"):
        gathering.answer_as_circle(circle, "ben", False, "No")
    appeal = heard(circle, rota)
    # Only the facilitator records the circle's answer.
    with unchanged(appeal), pytest.raises(NotPermitted, match="Only the facilitator"):
        appeal.answer_as_circle(circle, "ada", False, "No")
    # An answer gives its reason.
    with unchanged(appeal), pytest.raises(InvalidRequest, match="gives its reason"):
        appeal.answer_as_circle(circle, "ben", False, " ")
    # Upholding it opens a proposal to amend or revoke that decision.
    with unchanged(appeal), pytest.raises(InvalidRequest, match="opens a proposal to amend"):
        appeal.answer_as_circle(circle, "ben", True, "Yes")
    adopt = Proposal.draft(circle, "ben", "Other", "Other", NOW)
    with unchanged(appeal), pytest.raises(InvalidRequest, match="opens a proposal to amend"):
        appeal.answer_as_circle(circle, "ben", True, "Yes", adopt)
    # Answered once: a second answer finds it no longer before the circle.
    appeal.answer_as_circle(circle, "ben", False, "No")
    with unchanged(appeal), pytest.raises(WrongStage, match="not before the circle"):
        appeal.answer_as_circle(circle, "ben", False, "No again")


# Taking it further.


def test_an_appeal_goes_to_the_care_and_counsel_group_then_the_broader_circle(
    counselled, rota, event_names
):
    circle = counselled
    decision = Decision.take_everyday(
        circle, "cleo", ORGANISER, "rota", "Weekend rota", "Two a shift", NOW.date()
    )
    appeal = heard(circle, decision)
    appeal.answer_as_circle(circle, "ben", False, "Evenings are covered")
    # When: Dan takes it to the care and counsel group the rules name.
    assert appeal.take_further(circle, "dan", REACHED) == (Hearing.CARE_AND_COUNSEL, CARE)
    assert appeal.status == AppealStatus.BEING_HEARD and appeal.referred_to == CARE
    # And: the care circle does not uphold it; Eli takes it to the broader circle.
    appeal.answer_received(CARE, Hearing.CARE_AND_COUNSEL, False, "The café covers evenings")
    assert not appeal.is_final
    assert appeal.take_further(circle, "eli", REACHED) == (Hearing.BROADER_CIRCLE, CO_OP)
    # Then: the co-op's answer is recorded, and final.
    appeal.answer_received(CO_OP, Hearing.BROADER_CIRCLE, True, "The rota must include evenings")
    assert appeal.status == AppealStatus.UPHELD and appeal.is_final
    assert event_names(appeal) == [
        "CircleAnswered",
        "TakenFurther",
        "AnswerReceived",
        "TakenFurther",
        "AnswerReceived",
    ]
    assert [(a.hearing, a.upheld, a.by) for a in appeal.answers] == [
        (Hearing.CIRCLE, False, "ben"),
        (Hearing.CARE_AND_COUNSEL, False, CARE),
        (Hearing.BROADER_CIRCLE, True, CO_OP),
    ]
    # And: the facilitator opens the proposal the upheld appeal calls for.
    proposal = amendment(circle, decision)
    appeal.open_amendment(circle, "ben", proposal)
    assert appeal.proposal_id == str(proposal.id)


def test_an_appeal_goes_further_only_once_the_circle_answered_it(counselled, unchanged):
    circle = counselled
    decision = Decision.take_everyday(
        circle, "cleo", ORGANISER, "rota", "Weekend rota", "Two a shift", NOW.date()
    )
    # Given: an appeal before the circle, which has not answered it yet.
    appeal = heard(circle, decision)
    # When: Dan takes it further at once. Then: refused: the circle hears it first.
    with unchanged(appeal), pytest.raises(WrongStage, match="before the circle; it goes further"):
        appeal.take_further(circle, "dan", REACHED)
    # And: once the circle did not uphold it, it goes to the care circle; and the circle can no
    # longer answer it.
    appeal.answer_as_circle(circle, "ben", False, "We cannot agree on it")
    assert appeal.take_further(circle, "dan", REACHED) == (Hearing.CARE_AND_COUNSEL, CARE)
    with unchanged(appeal), pytest.raises(WrongStage, match="not before the circle"):
        appeal.answer_as_circle(circle, "ben", False, "No")


def test_what_cannot_be_taken_further(circle, counselled, rota, found_circle, unchanged):
    # Only once heard.
    gathering = Appeal.lodge(circle, rota, "dan", "Unfair", took_part(rota, None))
    with unchanged(gathering), pytest.raises(WrongStage, match="this one has 1"):
        gathering.take_further(circle, "dan", REACHED)
    # Only by an appellant.
    appeal = heard(circle, rota)
    with unchanged(appeal), pytest.raises(NotPermitted, match="Only the appellants"):
        appeal.take_further(circle, "ben", REACHED)
    # Not while the circle hears it.
    with unchanged(appeal), pytest.raises(WrongStage, match="before the circle"):
        appeal.take_further(circle, "dan", REACHED)
    # Only where the rules name a care and counsel group.
    not_upheld = heard(circle, rota)
    not_upheld.answer_as_circle(circle, "ben", False, "No")
    with unchanged(not_upheld), pytest.raises(WrongStage, match="name no care and counsel group"):
        not_upheld.take_further(circle, "dan", REACHED)
    # Not once upheld.
    appeal.answer_as_circle(circle, "ben", True, "Yes", amendment(circle, rota))
    with unchanged(appeal), pytest.raises(WrongStage, match="was upheld"):
        appeal.take_further(circle, "dan", REACHED)


def test_an_appeal_goes_only_to_a_linked_circle(counselled, unchanged):
    circle = counselled
    decision = Decision.take_everyday(
        circle, "cleo", ORGANISER, "rota", "Weekend rota", "Two a shift", NOW.date()
    )
    appeal = heard(circle, decision)
    appeal.answer_as_circle(circle, "ben", False, "No")
    only_the_garden = {GARDEN: (Peering.PEERS, CoopLink.NONE)}
    with unchanged(appeal), pytest.raises(WrongStage, match="group \\(node-care\\) is not linked"):
        appeal.take_further(circle, "dan", only_the_garden)


@pytest.mark.parametrize(
    ("peering", "coop"),
    [(Peering.PEERS, CoopLink.NONE), (Peering.NONE, CoopLink.HAS_MEMBER), (Peering.NONE, "none")],
)
def test_the_broader_circle_is_a_co_op_this_circle_is_part_of(counselled, peering, coop, unchanged):
    # Given: the care circle did not uphold the appeal, and the circle's parent is linked to it
    # otherwise than as the co-op it is part of (a peer, a member circle of it, or not at all).
    circle = counselled
    decision = Decision.take_everyday(
        circle, "cleo", ORGANISER, "rota", "Weekend rota", "Two a shift", NOW.date()
    )
    appeal = heard(circle, decision)
    appeal.answer_as_circle(circle, "ben", False, "No")
    appeal.take_further(circle, "dan", REACHED)
    appeal.answer_received(CARE, Hearing.CARE_AND_COUNSEL, False, "No")
    links = {**REACHED, CO_OP: (peering, coop)}
    # When: Dan takes it to the broader circle. Then: refused, as the co-op would refuse it.
    with unchanged(appeal), pytest.raises(WrongStage, match="is not a co-op this circle is part"):
        appeal.take_further(circle, "dan", links)


def test_an_appeal_of_a_circle_with_no_broader_circle_stops_at_care_and_counsel(found_circle):
    circle = found_circle(rules=GoverningRules(care_and_counsel=CARE), parent=None)
    decision = Decision.take_everyday(
        circle, "cleo", ORGANISER, "rota", "Weekend rota", "Two a shift", NOW.date()
    )
    appeal = heard(circle, decision)
    appeal.answer_as_circle(circle, "ben", False, "No")
    appeal.take_further(circle, "dan", REACHED)
    # Not while the care circle hears it.
    with pytest.raises(WrongStage, match="before the care and counsel group"):
        appeal.take_further(circle, "dan", REACHED)
    appeal.answer_received(CARE, Hearing.CARE_AND_COUNSEL, False, "No")
    with pytest.raises(WrongStage, match="part of no broader circle"):
        appeal.take_further(circle, "dan", REACHED)


def test_answers_come_only_from_the_circle_that_hears_it(counselled, unchanged):
    circle = counselled
    decision = Decision.take_everyday(
        circle, "cleo", ORGANISER, "rota", "Weekend rota", "Two a shift", NOW.date()
    )
    appeal = heard(circle, decision)
    # Not before it was taken there.
    with unchanged(appeal), pytest.raises(NotPermitted, match="was not asked to hear"):
        appeal.answer_received(CARE, Hearing.CARE_AND_COUNSEL, True, "Yes")
    appeal.answer_as_circle(circle, "ben", False, "No")
    appeal.take_further(circle, "dan", REACHED)
    with unchanged(appeal), pytest.raises(NotPermitted, match="was not asked to hear"):
        appeal.answer_received(GARDEN, Hearing.CARE_AND_COUNSEL, True, "Yes")
    with unchanged(appeal), pytest.raises(WrongStage, match="not before that circle now"):
        appeal.answer_received(CARE, Hearing.BROADER_CIRCLE, True, "Yes")
    with unchanged(appeal), pytest.raises(InvalidRequest, match="gives its reason"):
        appeal.answer_received(CARE, Hearing.CARE_AND_COUNSEL, True, "")
    appeal.answer_received(CARE, Hearing.CARE_AND_COUNSEL, True, "Yes")
    with unchanged(appeal), pytest.raises(WrongStage, match="not before that circle now"):
        appeal.answer_received(CARE, Hearing.CARE_AND_COUNSEL, False, "Changed our mind")


def test_the_broader_circles_answer_is_final(circle, counselled, unchanged):
    circle = counselled
    decision = Decision.take_everyday(
        circle, "cleo", ORGANISER, "rota", "Weekend rota", "Two a shift", NOW.date()
    )
    appeal = heard(circle, decision)
    appeal.answer_as_circle(circle, "ben", False, "No")
    appeal.take_further(circle, "dan", REACHED)
    appeal.answer_received(CARE, Hearing.CARE_AND_COUNSEL, False, "No")
    appeal.take_further(circle, "dan", REACHED)
    appeal.answer_received(CO_OP, Hearing.BROADER_CIRCLE, False, "No")
    assert appeal.is_final
    with unchanged(appeal), pytest.raises(WrongStage, match="its answer is final"):
        appeal.take_further(circle, "dan", REACHED)
    # And no proposal follows an appeal that was not upheld.
    with unchanged(appeal), pytest.raises(WrongStage, match="follows an appeal that was upheld"):
        appeal.open_amendment(circle, "ben", amendment(circle, decision))


# The circle an appeal is taken to.


def test_the_care_circle_hears_an_appeal_taken_to_it_and_answers(other_circle, event_names):
    # Given: the kitchen takes its appeal to this circle (the care circle, say).
    appeal = Appeal.referred(
        other_circle,
        "node-kitchen",
        "appeal-1",
        Hearing.CARE_AND_COUNSEL,
        "Weekend rota",
        "Two a shift",
        "The rota leaves out the evening",
        3,
        ["kim"],
    )
    assert appeal.role == Role.REFERRED and appeal.status == AppealStatus.BEING_HEARD
    assert appeal.id == referred_appeal_id(
        other_circle.id, "node-kitchen", "appeal-1", Hearing.CARE_AND_COUNSEL
    )
    assert appeal.delegates == ["kim"] and appeal.appellant_count == 3
    # When: its facilitator records its answer.
    appeal.answer(other_circle, "ben", False, "The café covers evenings")
    # Then: answered, final here.
    assert event_names(appeal) == ["Lodged", "ReferralAnswered"]
    assert appeal.status == AppealStatus.NOT_UPHELD and appeal.is_final


def test_what_a_circle_an_appeal_is_taken_to_refuses(other_circle, unchanged):
    with pytest.raises(InvalidRequest, match="once 3 people appeal"):
        Appeal.referred(other_circle, "k", "a", Hearing.BROADER_CIRCLE, "T", "x", "g", 2, [])
    appeal = Appeal.referred(other_circle, "k", "a", Hearing.BROADER_CIRCLE, "T", "x", "g", 3, [])
    with unchanged(appeal), pytest.raises(NotPermitted, match="Only the facilitator"):
        appeal.answer(other_circle, "dan", True, "Yes")
    appeal.answer(other_circle, "ben", True, "Yes")
    with unchanged(appeal), pytest.raises(WrongStage, match="answered this appeal already"):
        appeal.answer(other_circle, "ben", False, "No")


@pytest.mark.parametrize(
    ("peering", "coop", "hearing", "sentence"),
    [
        (Peering.PEERS, CoopLink.NONE, Hearing.BROADER_CIRCLE, "Only a circle that is part"),
        (Peering.NONE, CoopLink.MEMBER_OF, Hearing.BROADER_CIRCLE, "Only a circle that is part"),
        (Peering.NONE, CoopLink.NONE, Hearing.CARE_AND_COUNSEL, "Only a linked circle"),
        (Peering.ENDED, CoopLink.WITHDRAWN, Hearing.CARE_AND_COUNSEL, "Only a linked circle"),
        (Peering.PEERS, CoopLink.HAS_MEMBER, Hearing.CIRCLE, "care and counsel group or a broader"),
    ],
)
def test_who_may_take_an_appeal_to_a_circle(peering, coop, hearing, sentence):
    error = InvalidRequest if hearing == Hearing.CIRCLE else NotPermitted
    with pytest.raises(error, match=sentence):
        check_may_refer(peering, coop, hearing)


def test_linked_circles_may_take_an_appeal_to_a_circle():
    check_may_refer(Peering.PEERS, CoopLink.NONE, Hearing.CARE_AND_COUNSEL)
    check_may_refer(Peering.NONE, CoopLink.HAS_MEMBER, Hearing.CARE_AND_COUNSEL)
    check_may_refer(Peering.NONE, CoopLink.HAS_MEMBER, Hearing.BROADER_CIRCLE)


# Appealing a linked circle's decision from here.


def test_someone_appeals_a_linked_circles_decision_from_their_own_circle(circle):
    appeal = Appeal.send(circle, "dan", GARDEN, "decision-9", "It shuts us out", LINKED)
    assert appeal.role == Role.SENT and appeal.status == AppealStatus.SENT
    assert appeal.origin == GARDEN and appeal.appellants == {"dan": "It shuts us out"}


def test_only_a_linked_circles_decision_is_appealed_from_here(circle):
    with pytest.raises(WrongStage, match="circles linked to this one"):
        Appeal.send(circle, "dan", "node-orchard", "decision-9", "Unfair", LINKED)
    with pytest.raises(NotPermitted, match="Guests take part in rounds"):
        Appeal.send(circle, "gus", GARDEN, "decision-9", "Unfair", LINKED)
    with pytest.raises(InvalidRequest, match="on what grounds"):
        Appeal.send(circle, "dan", GARDEN, "decision-9", "", LINKED)


@pytest.mark.parametrize("coop", list(CoopLink))
@pytest.mark.parametrize("peering", list(Peering))
@pytest.mark.parametrize("hearing", [Hearing.CARE_AND_COUNSEL, Hearing.BROADER_CIRCLE])
def test_a_circle_takes_an_appeal_only_where_it_is_heard(hearing, peering, coop):
    # One rule on both sides: the sender takes it (with its relationship) exactly where the
    # receiver hears it (with its own, the mirror of the sender's).
    mirror = {CoopLink.MEMBER_OF: CoopLink.HAS_MEMBER, CoopLink.HAS_MEMBER: CoopLink.MEMBER_OF}
    try:
        check_may_refer(peering, mirror.get(coop, coop), hearing)
        heard_there = True
    except NotPermitted:
        heard_there = False
    assert may_hear(hearing, peering, coop) == heard_there


# Who records the circle's answer.


def test_a_facilitator_who_appeals_does_not_record_the_circles_answer(circle, rota, unchanged):
    # Given: Ben, the facilitator, appeals Cleo's rota with Dan and Eli.
    parties = took_part(rota, None)
    appeal = Appeal.lodge(circle, rota, "ben", "Nobody asked the youth club", parties, LINKED)
    for person in ("dan", "eli"):
        appeal.join(circle, rota, person, "", parties, LINKED)
    # When: Ben records the circle's answer. Then: refused, with who records it instead.
    with unchanged(appeal), pytest.raises(NotPermitted, match="the secretary records it"):
        appeal.answer_as_circle(circle, "ben", False, "No")
    # And: Dan, who appeals too and wears no hat, may not either.
    with unchanged(appeal), pytest.raises(NotPermitted, match="Only the secretary"):
        appeal.answer_as_circle(circle, "dan", False, "No")
    # Then: Ada, the secretary, records it.
    appeal.answer_as_circle(circle, "ada", False, "The rota was agreed with the youth club")
    assert appeal.answers[0].by == "ada" and appeal.status == AppealStatus.NOT_UPHELD


def test_the_secretary_records_nothing_while_the_facilitator_does_not_appeal(
    circle, rota, unchanged
):
    appeal = heard(circle, rota)
    with unchanged(appeal), pytest.raises(NotPermitted, match="Only the facilitator"):
        appeal.answer_as_circle(circle, "ada", False, "No")


# Withdrawing.


def test_an_appellant_withdraws_an_appeal_before_its_final_answer(
    counselled, unchanged, event_names
):
    circle = counselled
    decision = Decision.take_everyday(
        circle, "cleo", ORGANISER, "rota", "Weekend rota", "Two a shift", NOW.date()
    )
    # Given: an appeal taken to the care circle, whose node refused the referral.
    appeal = heard(circle, decision)
    appeal.answer_as_circle(circle, "ben", False, "No")
    appeal.take_further(circle, "dan", REACHED)
    # Only an appellant withdraws it, with a reason.
    with unchanged(appeal), pytest.raises(NotPermitted, match="Only an appellant withdraws"):
        appeal.withdraw(circle, "ben", "Stuck")
    with unchanged(appeal), pytest.raises(InvalidRequest, match="Say why"):
        appeal.withdraw(circle, "eli", " ")
    # When: Eli withdraws it.
    appeal.withdraw(circle, "eli", "The care circle's node refused it")
    # Then: withdrawn; nothing more happens to it, and a late answer is refused.
    assert appeal.status == AppealStatus.WITHDRAWN and event_names(appeal)[-1] == "Withdrawn"
    with unchanged(appeal), pytest.raises(WrongStage, match="was withdrawn"):
        appeal.withdraw(circle, "dan", "Again")
    with unchanged(appeal), pytest.raises(WrongStage, match="was withdrawn"):
        appeal.take_further(circle, "dan", REACHED)
    with unchanged(appeal), pytest.raises(WrongStage, match="not before that circle now"):
        appeal.answer_received(CARE, Hearing.CARE_AND_COUNSEL, False, "No")


def test_what_cannot_be_withdrawn(circle, rota, other_circle, unchanged):
    # A final answer stands.
    upheld = heard(circle, rota)
    upheld.answer_as_circle(circle, "ben", True, "Yes", amendment(circle, rota))
    with unchanged(upheld), pytest.raises(WrongStage, match="has its final answer"):
        upheld.withdraw(circle, "dan", "Changed my mind")
    # An appeal taken to this circle is withdrawn by no one here.
    referred = Appeal.referred(other_circle, "k", "a", Hearing.BROADER_CIRCLE, "T", "x", "g", 3, [])
    with unchanged(referred), pytest.raises(NotPermitted, match="Only an appellant"):
        referred.withdraw(other_circle, "ben", "No")


def test_a_sent_appeal_is_withdrawn_by_its_appellant(circle):
    appeal = Appeal.send(circle, "dan", GARDEN, "decision-9", "It shuts us out", LINKED)
    appeal.withdraw(circle, "dan", "The garden circle changed it")
    assert appeal.status == AppealStatus.WITHDRAWN


def test_a_gathering_appeal_withdrawn_leaves_room_for_another(circle, rota):
    appeal = Appeal.lodge(circle, rota, "dan", "Unfair", took_part(rota, None))
    appeal.withdraw(circle, "dan", "Talked it over with Cleo")
    with pytest.raises(WrongStage, match="was withdrawn"):
        appeal.join(circle, rota, "eli", "", took_part(rota, None))


# Erasing an appellant's personal data.


def test_an_erased_appellant_leaves_that_someone_appealed_not_what_they_wrote(
    circle, rota, event_names
):
    # Given: Dan lodged the appeal; Pia of the garden circle joined with grounds of her own.
    appeal = heard(circle, rota)
    # When: Pia's circle erases her data, then this circle erases Dan's.
    appeal.erase_appellant(f"{GARDEN}/pia")
    appeal.erase_appellant("dan")
    # Then: three appellants still, two of them nameless and without grounds; the appeal's
    # grounds (Dan's) are gone too.
    assert appeal.appellants == {"erased-1": "", "eli": "", "erased-3": ""}
    assert appeal.appellant_count == 3
    assert appeal.grounds == ERASED_GROUNDS
    # And: someone who is not an appellant changes nothing.
    appeal.erase_appellant("ada")
    assert event_names(appeal) == ["AppellantErased", "AppellantErased"]
