"""A proposal's path: drafted, presented, clarified, reacted to, consented; or withdrawn,
escalated, or decided by a formal vote where the circle's rules say so."""

from __future__ import annotations

from datetime import date

import pytest

from domain.errors import InvalidRequest, NotFound, NotPermitted, WrongStage
from domain.proposal import Proposal
from domain.records import GoverningRules
from domain.values import DecisionMethod, Purpose, Stage


def draft(circle, now, by: str = "cleo", **args) -> Proposal:
    return Proposal.draft(
        circle, by, "Sunday kitchen", "Open the kitchen to the youth club on Sundays.", now, **args
    )


def test_a_proposal_goes_from_draft_to_consented(circle, now):
    # Cleo drafts a proposal.
    proposal = draft(circle, now, review_date=date(2027, 3, 1))
    assert proposal.stage == Stage.DRAFT
    assert proposal.proposer == "cleo"
    assert proposal.purpose == Purpose.ADOPT_POLICY
    assert proposal.method == DecisionMethod.CONSENT
    assert proposal.circle_id == circle.id

    # She presents it.
    proposal.present(circle, "cleo")
    assert proposal.stage == Stage.PRESENTED

    # Gus, a guest, and Eli, learning, ask clarifying questions.
    assert proposal.ask_question(circle, "gus", "Who locks up?") == 1
    assert proposal.ask_question(circle, "eli", "Which Sundays?") == 2
    assert proposal.stage == Stage.CLARIFYING

    # Cleo answers the first; Ben, the facilitator, answers the second for her.
    proposal.answer_question(circle, "cleo", 1, "The youth worker")
    proposal.answer_question(circle, "ben", 2, "Every Sunday")
    assert [q.answer for q in proposal.questions] == ["The youth worker", "Every Sunday"]

    # Ben opens the reaction round; everyone, guests included, may react.
    proposal.open_reactions(circle, "ben")
    assert proposal.stage == Stage.REACTIONS
    proposal.react(circle, "gus", "Lovely idea")
    proposal.react(circle, "dan", "Worried about the keys")
    assert [(r.person_id, r.text) for r in proposal.reactions] == [
        ("gus", "Lovely idea"),
        ("dan", "Worried about the keys"),
    ]

    # Having heard the reactions, Cleo amends her proposal.
    proposal.amend(circle, "cleo", "Open on Sundays; the youth worker keeps a key.")
    assert proposal.text == "Open on Sundays; the youth worker keeps a key."
    assert proposal.amendments == ["Open the kitchen to the youth club on Sundays."]

    # The consent round: every full participant consents.
    proposal.open_consent_round(circle, "ben", now)
    assert proposal.stage == Stage.CONSENT_ROUND
    for person_id in ("ada", "ben", "cleo", "dan"):
        proposal.consent(circle, person_id, now)
    assert proposal.close_consent_round(circle, "ben", now) == Stage.CONSENTED
    assert proposal.is_final


def test_a_learning_participant_may_propose_but_a_guest_may_not(circle, now, unchanged):
    # Eli, learning, drafts a proposal.
    assert draft(circle, now, by="eli").proposer == "eli"

    # Gus, a guest, cannot.
    with unchanged(circle), pytest.raises(NotPermitted, match="Guests take part in rounds"):
        draft(circle, now, by="gus")


@pytest.mark.parametrize(
    ("how", "person_id", "error", "match"),
    [
        ("left", "dan", NotPermitted, "has left the circle"),
        ("stepped back", "dan", NotPermitted, "has stepped back"),
        ("applied", "fay", NotPermitted, "not yet an active participant"),
        ("stranger", "zed", NotFound, "not a participant"),
    ],
)
def test_only_acting_participants_propose(circle, now, unchanged, how, person_id, error, match):
    # Dan left or stepped back; Fay has only applied; Zed is no participant at all.
    if how == "left":
        circle.leave("dan", "dan", now.date())
    elif how == "stepped back":
        circle.step_back("dan", "dan", now.date())
    elif how == "applied":
        circle.receive_application("fay", "full", now.date())

    # None of them can draft a proposal.
    with unchanged(circle), pytest.raises(error, match=match):
        draft(circle, now, by=person_id)


@pytest.mark.parametrize(
    ("args", "match"),
    [
        ({"title": "  "}, "needs a title"),
        ({"text": ""}, "needs its text"),
        ({"purpose": "make_soup"}, "Unknown proposal purpose 'make_soup'"),
        ({"purpose": Purpose.CHANGE_AIM}, "to change aim must name aim"),
        (
            {"purpose": Purpose.INCORPORATE, "subject": {"registered_name": "Kitchen Co-op Ltd"}},
            "to incorporate must name number",
        ),
        (
            {"purpose": Purpose.AMEND_DECISION, "subject": {"decision_id": " "}},
            "must name decision_id",
        ),
        (
            {"purpose": Purpose.CHANGE_RULES, "subject": {"decision_method": "lottery"}},
            "Unknown decision method 'lottery'",
        ),
        ({"review_date": date(2026, 3, 2)}, "review date must be in the future"),
    ],
)
def test_an_incomplete_proposal_is_refused(circle, now, unchanged, args, match):
    # Cleo drafts a proposal that misses something it needs.
    fields = {"title": "Sunday kitchen", "text": "Open on Sundays."} | args
    title, text = fields.pop("title"), fields.pop("text")
    with unchanged(circle), pytest.raises(InvalidRequest, match=match):
        Proposal.draft(circle, "cleo", title, text, now, **fields)


def test_a_removal_proposal_must_name_a_participant(circle, now, unchanged):
    # Cleo proposes to remove someone who never took part.
    with unchanged(circle), pytest.raises(NotFound, match="not a participant"):
        draft(circle, now, purpose=Purpose.REMOVE_PARTICIPANT, subject={"person_id": "zed"})


def test_only_the_proposer_presents_and_only_once(circle, now, unchanged):
    # Cleo drafted a proposal; Ben tries to present it for her.
    proposal = draft(circle, now)
    with unchanged(proposal), pytest.raises(NotPermitted, match="Only the proposer presents"):
        proposal.present(circle, "ben")

    # Cleo presents it; she cannot present it twice.
    proposal.present(circle, "cleo")
    with unchanged(proposal), pytest.raises(WrongStage, match="Cannot present it while it is"):
        proposal.present(circle, "cleo")


def test_an_unanswered_question_blocks_the_reaction_round(circle, now, unchanged):
    # Cleo presents; Gus asks a question nobody has answered yet.
    proposal = draft(circle, now)
    proposal.present(circle, "cleo")
    proposal.ask_question(circle, "gus", "Who locks up?")

    # The reaction round cannot open.
    with (
        unchanged(proposal),
        pytest.raises(WrongStage, match="Answer question 1 before the reaction round"),
    ):
        proposal.open_reactions(circle, "ben")

    # Nobody can react yet either.
    with unchanged(proposal), pytest.raises(WrongStage, match="Cannot react while it is clar"):
        proposal.react(circle, "dan", "Fine by me")

    # Once answered, the reaction round opens.
    proposal.answer_question(circle, "cleo", 1, "The youth worker")
    proposal.open_reactions(circle, "ben")
    assert proposal.stage == Stage.REACTIONS


def test_questions_are_answered_by_the_proposer_or_the_facilitator(circle, now, unchanged):
    # Gus asks a question about Cleo's proposal.
    proposal = draft(circle, now)
    proposal.present(circle, "cleo")
    proposal.ask_question(circle, "gus", "Who locks up?")

    # Dan may not answer for Cleo.
    with (
        unchanged(proposal),
        pytest.raises(NotPermitted, match="Only the facilitator can answer for the proposer"),
    ):
        proposal.answer_question(circle, "dan", 1, "I do")

    # There is no second question, and an answer needs words.
    with unchanged(proposal), pytest.raises(InvalidRequest, match="There is no question 2"):
        proposal.answer_question(circle, "cleo", 2, "Yes")
    with unchanged(proposal), pytest.raises(InvalidRequest, match="An answer needs its words"):
        proposal.answer_question(circle, "cleo", 1, " ")


def test_questions_are_asked_before_the_reaction_round(circle, now, unchanged):
    # Nobody asks about a draft that was not presented.
    proposal = draft(circle, now)
    with unchanged(proposal), pytest.raises(WrongStage, match="Cannot ask a clarifying question"):
        proposal.ask_question(circle, "gus", "Is it a draft?")

    # Once presented, a question needs words.
    proposal.present(circle, "cleo")
    with unchanged(proposal), pytest.raises(InvalidRequest, match="A question needs its words"):
        proposal.ask_question(circle, "gus", "")

    # Once the reactions are open, it is too late for clarifying questions.
    proposal.open_reactions(circle, "ben")
    with unchanged(proposal), pytest.raises(WrongStage, match="while it is reactions"):
        proposal.ask_question(circle, "gus", "Who locks up?")

    # And a reaction needs words too.
    with unchanged(proposal), pytest.raises(InvalidRequest, match="A reaction needs its words"):
        proposal.react(circle, "gus", "  ")


def test_the_facilitator_runs_the_rounds(circle, now, unchanged):
    # A draft has no reaction round yet.
    proposal = draft(circle, now)
    with unchanged(proposal), pytest.raises(WrongStage, match="Cannot open the reaction round"):
        proposal.open_reactions(circle, "ben")

    # Cleo presents; Dan, not the facilitator, tries to open the reaction round.
    proposal.present(circle, "cleo")
    with (
        unchanged(proposal),
        pytest.raises(NotPermitted, match="Only the facilitator can open the reaction round"),
    ):
        proposal.open_reactions(circle, "dan")

    # The consent round opens only after the reaction round.
    with unchanged(proposal), pytest.raises(WrongStage, match="Cannot open a consent round"):
        proposal.open_consent_round(circle, "ben", now)


def test_while_nobody_wears_the_facilitator_hat_any_full_participant_runs_the_rounds(
    forming_circle, now, unchanged
):
    # The circle is forming; nobody wears the facilitator hat yet.
    circle = forming_circle
    proposal = draft(circle, now, by="eli")
    proposal.present(circle, "eli")

    # Dan, a full participant, opens the reactions; Eli, learning, may not.
    with unchanged(proposal), pytest.raises(NotPermitted, match="Only full participants"):
        proposal.open_reactions(circle, "eli")
    proposal.open_reactions(circle, "dan")
    assert proposal.stage == Stage.REACTIONS


def test_only_the_proposer_amends_and_only_before_the_consent_round(
    circle, now, to_consent_round, unchanged
):
    # Cleo presents; Dan cannot amend her proposal.
    proposal = draft(circle, now)
    with unchanged(proposal), pytest.raises(WrongStage, match="Cannot amend it before consent"):
        proposal.amend(circle, "cleo", "Too early")
    proposal.present(circle, "cleo")
    with unchanged(proposal), pytest.raises(NotPermitted, match="Only the proposer amends"):
        proposal.amend(circle, "dan", "Open on Saturdays instead")
    with unchanged(proposal), pytest.raises(InvalidRequest, match="needs its text"):
        proposal.amend(circle, "cleo", "")

    # In the consent round, amending is integration's job.
    in_round = to_consent_round(circle)
    with unchanged(in_round), pytest.raises(WrongStage, match="while it is consent round"):
        in_round.amend(circle, "cleo", "Open on Saturdays instead")


def test_the_proposer_withdraws_their_proposal(circle, now, to_consent_round, unchanged):
    # Cleo's proposal is in its consent round; Dan cannot withdraw it.
    proposal = to_consent_round(circle)
    with (
        unchanged(proposal),
        pytest.raises(
            NotPermitted, match="Only the facilitator can withdraw someone else's proposal"
        ),
    ):
        proposal.withdraw(circle, "dan")

    # Cleo withdraws it; then nothing more happens to it.
    proposal.withdraw(circle, "cleo")
    assert proposal.stage == Stage.WITHDRAWN
    with unchanged(proposal), pytest.raises(WrongStage, match="it is already withdrawn"):
        proposal.withdraw(circle, "cleo")
    with unchanged(proposal), pytest.raises(WrongStage, match="Cannot answer the consent round"):
        proposal.consent(circle, "dan", now)


def test_the_facilitator_may_withdraw_someone_elses_proposal(circle, now):
    # Dan drafted a proposal; Ben, the facilitator, withdraws it.
    proposal = draft(circle, now, by="dan")
    proposal.withdraw(circle, "ben")
    assert proposal.stage == Stage.WITHDRAWN


def test_a_consented_proposal_cannot_be_withdrawn(circle, consented, unchanged):
    # Cleo's proposal is consented.
    proposal = consented(circle)

    # It cannot be withdrawn any more.
    with unchanged(proposal), pytest.raises(WrongStage, match="it is already consented"):
        proposal.withdraw(circle, "cleo")


def test_a_proposer_who_left_cannot_withdraw_their_proposal(circle, now, unchanged):
    # Dan drafts a proposal and then leaves the circle.
    proposal = draft(circle, now, by="dan")
    circle.leave("dan", "dan", now.date())

    # Having left, Dan can no longer act: the facilitator may withdraw it, not Dan.
    with unchanged(proposal, circle), pytest.raises(NotPermitted, match="has left the circle"):
        proposal.withdraw(circle, "dan")


def test_the_facilitator_escalates_a_deadlock_to_the_broader_circle(
    circle, now, to_consent_round, unchanged
):
    # Dan objects; the circle is stuck in integration.
    proposal = to_consent_round(circle)
    proposal.raise_objection(circle, "dan", "Nobody holds the keys", now)
    proposal.close_consent_round(circle, "ben", now)

    # Only the facilitator passes it on, and only with a reason.
    with (
        unchanged(proposal, circle),
        pytest.raises(
            NotPermitted, match="Only the facilitator can pass a decision to the broader circle"
        ),
    ):
        proposal.escalate(circle, "ada", "Stuck after three meetings")
    with unchanged(proposal), pytest.raises(InvalidRequest, match="Say why the circle is stuck"):
        proposal.escalate(circle, "ben", " ")

    # Ben escalates it to the neighbourhood co-op; the process ends here.
    proposal.escalate(circle, "ben", "Stuck after three meetings")
    assert proposal.stage == Stage.ESCALATED
    assert proposal.is_final
    with unchanged(proposal), pytest.raises(WrongStage, match="Cannot open a consent round"):
        proposal.open_consent_round(circle, "ben", now)


def test_escalation_needs_a_broader_circle(found_circle, to_consent_round, unchanged):
    # A circle with no parent circle is in a consent round.
    circle = found_circle(parent=None)
    proposal = to_consent_round(circle)

    # There is nobody to pass the decision to.
    with unchanged(proposal), pytest.raises(WrongStage, match="no broader circle"):
        proposal.escalate(circle, "ben", "Stuck")


def test_escalation_happens_only_in_the_consent_round_or_integration(circle, now, unchanged):
    # Cleo's proposal is only presented.
    proposal = draft(circle, now)
    proposal.present(circle, "cleo")

    # It is too early to call it a deadlock.
    with unchanged(proposal), pytest.raises(WrongStage, match="Cannot escalate while it is"):
        proposal.escalate(circle, "ben", "Stuck")


def test_escalation_needs_the_facilitator_hat_to_be_worn(
    forming_circle, to_consent_round, unchanged
):
    # A forming circle, nobody wearing the facilitator hat, has a proposal in its round.
    circle = forming_circle
    proposal = to_consent_round(circle)

    # Even a full participant cannot escalate: that is the facilitator's call.
    with unchanged(proposal), pytest.raises(NotPermitted, match="Only the facilitator can pass"):
        proposal.escalate(circle, "ada", "Stuck")


# A formal vote, where the circle's registered rules require one.


def voting_circle(found_circle):
    """The circle consented to decide its budget by formal vote, as its registered rules say."""
    return found_circle(rules=GoverningRules(methods_by_topic={"budget": "formal_vote"}))


def test_a_topic_the_rules_decide_by_vote_is_decided_by_recording_the_vote(
    found_circle, now, to_consent_round, unchanged
):
    # A budget proposal reaches its round: it is decided by formal vote.
    circle = voting_circle(found_circle)
    proposal = to_consent_round(circle, topic="budget")
    assert proposal.method == DecisionMethod.FORMAL_VOTE

    # Nobody consents, objects or closes a consent round on it.
    with unchanged(proposal), pytest.raises(WrongStage, match="formal vote"):
        proposal.consent(circle, "dan", now)
    with unchanged(proposal), pytest.raises(WrongStage, match="formal vote"):
        proposal.raise_objection(circle, "dan", "Too costly", now)
    with unchanged(proposal), pytest.raises(WrongStage, match="formal vote"):
        proposal.close_consent_round(circle, "ben", now)

    # Only the secretary records the vote, and counts are never negative.
    with (
        unchanged(proposal, circle),
        pytest.raises(NotPermitted, match="Only the secretary can record a vote's result"),
    ):
        proposal.record_vote(circle, "ben", 5, 2, 1)
    with unchanged(proposal), pytest.raises(InvalidRequest, match="cannot be negative"):
        proposal.record_vote(circle, "ada", 5, -1, 0)

    # Ada, the secretary, records 5 for, 2 against, 1 abstaining: carried.
    assert proposal.record_vote(circle, "ada", 5, 2, 1) == Stage.CONSENTED
    assert proposal.stage == Stage.CONSENTED
    assert (proposal.vote.in_favour, proposal.vote.against, proposal.vote.abstentions) == (5, 2, 1)

    # The vote is recorded once.
    with unchanged(proposal), pytest.raises(WrongStage, match="Cannot record a vote"):
        proposal.record_vote(circle, "ada", 5, 2, 1)


def test_a_tied_vote_is_not_carried(found_circle, to_consent_round):
    # A budget proposal put to the vote: 3 for, 3 against.
    circle = voting_circle(found_circle)
    proposal = to_consent_round(circle, topic="budget")

    # Not carried.
    assert proposal.record_vote(circle, "ada", 3, 3, 0) == Stage.NOT_CARRIED
    assert proposal.stage == Stage.NOT_CARRIED
    assert proposal.is_final


def test_other_topics_stay_decided_by_consent(found_circle, to_consent_round, unchanged):
    # In the same circle, a proposal about the rota is decided by consent.
    circle = voting_circle(found_circle)
    proposal = to_consent_round(circle, topic="rota")
    assert proposal.method == DecisionMethod.CONSENT

    # No vote can be recorded on it.
    with unchanged(proposal), pytest.raises(WrongStage, match="decided by consent, not by vote"):
        proposal.record_vote(circle, "ada", 5, 0, 0)


def test_a_vote_is_recorded_only_in_the_round(found_circle, now, unchanged):
    # A budget proposal, presented but not yet in its round.
    circle = voting_circle(found_circle)
    proposal = draft(circle, now, topic="budget")
    proposal.present(circle, "cleo")

    # No vote yet.
    with unchanged(proposal), pytest.raises(WrongStage, match="Cannot record a vote while"):
        proposal.record_vote(circle, "ada", 5, 0, 0)
