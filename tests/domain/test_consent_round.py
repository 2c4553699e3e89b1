"""The consent round: who may answer, reasoned objections, integration, and the round repeated."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from domain.errors import InvalidRequest, NotPermitted, WrongStage
from domain.proposal import Proposal
from domain.values import Integration, Stage


def test_full_participants_consent_and_the_proposal_is_consented(circle, now, to_consent_round):
    # Cleo's proposal reaches the consent round.
    proposal = to_consent_round(circle)
    assert proposal.stage == Stage.CONSENT_ROUND
    assert proposal.round_number == 1

    # Every full participant consents; Dan voices a concern that does not block.
    proposal.consent(circle, "ada", now)
    proposal.consent(circle, "ben", now)
    proposal.consent(circle, "cleo", now)
    proposal.consent(circle, "dan", now, concern="  Watch the cleaning rota  ")

    # The facilitator closes the round: consented, and the round is on record, with who
    # gave the concern.
    assert proposal.close_consent_round(circle, "ben", now) == Stage.CONSENTED
    assert proposal.stage == Stage.CONSENTED
    [record] = proposal.rounds
    assert record.consents == ["ada", "ben", "cleo", "dan"]
    assert record.concerns == ["Watch the cleaning rota"]
    assert record.concerns_by == ["dan"]
    assert record.objections == []
    assert record.missing == []


@pytest.mark.parametrize("person_id", ["gus", "eli"], ids=["guest", "learning participant"])
def test_guests_and_learning_participants_cannot_object(
    circle, now, to_consent_round, unchanged, person_id
):
    # Cleo's proposal reaches the consent round.
    proposal = to_consent_round(circle)

    # A guest or a learning participant tries to object: they speak, they do not block.
    with (
        unchanged(proposal, circle),
        pytest.raises(NotPermitted, match="Only full participants can consent or object"),
    ):
        proposal.raise_objection(circle, person_id, "We have no volunteers on Sundays", now)
    assert proposal.objections == []
    assert proposal.answers == {}


@pytest.mark.parametrize("person_id", ["gus", "eli"], ids=["guest", "learning participant"])
def test_guests_and_learning_participants_cannot_consent(
    circle, now, to_consent_round, unchanged, person_id
):
    # Cleo's proposal reaches the consent round.
    proposal = to_consent_round(circle)

    # A guest or a learning participant tries to consent: refused, nothing recorded.
    with (
        unchanged(proposal, circle),
        pytest.raises(NotPermitted, match="learning participants and guests speak, not block"),
    ):
        proposal.consent(circle, person_id, now)
    assert proposal.answers == {}


@pytest.mark.parametrize("argument", ["", "   ", "\n\t"])
def test_an_objection_needs_its_argument(circle, now, to_consent_round, unchanged, argument):
    # Cleo's proposal reaches the consent round.
    proposal = to_consent_round(circle)

    # Dan objects without saying why: refused.
    with (
        unchanged(proposal, circle),
        pytest.raises(InvalidRequest, match="An objection needs its argument"),
    ):
        proposal.raise_objection(circle, "dan", argument, now)

    # His answer is still open: he may object with an argument.
    number = proposal.raise_objection(circle, "dan", "  Nobody holds the keys on Sunday ", now)
    assert proposal.objections[number - 1].argument == "Nobody holds the keys on Sunday"


def test_each_full_participant_answers_once_per_round(circle, now, to_consent_round, unchanged):
    # Cleo's proposal reaches the consent round and Dan consents.
    proposal = to_consent_round(circle)
    proposal.consent(circle, "dan", now)

    # Dan cannot answer again in this round, neither to consent nor to object: a conflict
    # with where the round stands (he changes his answer instead), not a faulty request.
    with unchanged(proposal), pytest.raises(WrongStage, match=r"already answered.*change your"):
        proposal.consent(circle, "dan", now)
    with unchanged(proposal), pytest.raises(WrongStage, match="already answered"):
        proposal.raise_objection(circle, "dan", "Changed my mind", now)


def test_answers_only_while_the_consent_round_is_open(circle, now, unchanged):
    # Cleo drafts a proposal and presents it; no consent round is open yet.
    proposal = Proposal.draft(circle, "cleo", "Sunday kitchen", "Open on Sundays", now)
    proposal.present(circle, "cleo")

    # Nobody can consent or object before the round.
    with unchanged(proposal), pytest.raises(WrongStage, match="Cannot answer the consent round"):
        proposal.consent(circle, "dan", now)
    with unchanged(proposal), pytest.raises(WrongStage, match="while it is presented"):
        proposal.raise_objection(circle, "dan", "Too soon", now)


def test_only_the_facilitator_opens_and_closes_the_round(circle, now, unchanged):
    # Cleo's proposal has had its reactions.
    proposal = Proposal.draft(circle, "cleo", "Sunday kitchen", "Open on Sundays", now)
    proposal.present(circle, "cleo")
    proposal.open_reactions(circle, "ben")

    # Dan, who does not wear the facilitator hat, cannot open the consent round.
    with (
        unchanged(proposal),
        pytest.raises(NotPermitted, match="Only the facilitator can open the consent round"),
    ):
        proposal.open_consent_round(circle, "dan", now)

    # Ben, the facilitator, opens it; Dan cannot close it either.
    proposal.open_consent_round(circle, "ben", now)
    for person_id in ("ada", "ben", "cleo", "dan"):
        proposal.consent(circle, person_id, now)
    with (
        unchanged(proposal),
        pytest.raises(NotPermitted, match="Only the facilitator can close the consent round"),
    ):
        proposal.close_consent_round(circle, "dan", now)
    assert proposal.close_consent_round(circle, "ben", now) == Stage.CONSENTED


def test_an_unresolved_objection_blocks_consent_until_it_is_integrated(
    circle, now, to_consent_round, unchanged
):
    # Cleo's proposal reaches the consent round; three consent, Dan objects with his reason.
    proposal = to_consent_round(circle)
    for person_id in ("ada", "ben", "cleo"):
        proposal.consent(circle, person_id, now)
    number = proposal.raise_objection(circle, "dan", "Nobody holds the keys on Sunday", now)
    assert number == 1

    # Closing the round does not consent it: the objection goes to integration.
    assert proposal.close_consent_round(circle, "ben", now) == Stage.INTEGRATING
    assert proposal.stage == Stage.INTEGRATING
    assert proposal.rounds[0].objections == [1]
    assert proposal.rounds[0].outcome == Stage.INTEGRATING

    # The facilitator cannot repeat the round while objection 1 is open.
    with (
        unchanged(proposal, circle),
        pytest.raises(WrongStage, match="Integrate objection 1 before the consent round repeats"),
    ):
        proposal.open_consent_round(circle, "ben", now)

    # The objection is integrated by amending the proposal.
    proposal.integrate(
        circle, "cleo", Integration.AMEND, "Open on Sundays; Dan's neighbour keeps a key", [1]
    )
    assert not proposal.objections[0].is_open
    assert proposal.objections[0].resolved_by == 1
    assert proposal.stage == Stage.INTEGRATING

    # The round repeats, with fresh answers, and now everyone consents.
    proposal.open_consent_round(circle, "ben", now)
    assert proposal.round_number == 2
    assert proposal.answers == {}
    for person_id in ("ada", "ben", "cleo", "dan"):
        proposal.consent(circle, person_id, now)
    assert proposal.close_consent_round(circle, "ben", now) == Stage.CONSENTED
    assert [r.outcome for r in proposal.rounds] == [Stage.INTEGRATING, Stage.CONSENTED]


def test_an_objection_withdrawn_by_its_objector_lets_the_round_repeat(
    circle, now, to_consent_round, unchanged
):
    # Dan objects and the round goes to integration.
    proposal = to_consent_round(circle)
    for person_id in ("ada", "ben", "cleo"):
        proposal.consent(circle, person_id, now)
    proposal.raise_objection(circle, "dan", "Nobody holds the keys on Sunday", now)
    proposal.close_consent_round(circle, "ben", now)

    # Only Dan can withdraw his objection; Ben, the facilitator, cannot.
    with (
        unchanged(proposal, circle),
        pytest.raises(
            NotPermitted, match="Only the person who raised an objection can withdraw it"
        ),
    ):
        proposal.withdraw_objection(circle, "ben", 1)

    # Dan withdraws it, after talking it through; it cannot be withdrawn twice.
    proposal.withdraw_objection(circle, "dan", 1)
    assert proposal.objections[0].withdrawn
    with unchanged(proposal), pytest.raises(WrongStage, match="Objection 1 is already resolved"):
        proposal.withdraw_objection(circle, "dan", 1)

    # The round repeats and consents.
    proposal.open_consent_round(circle, "ben", now)
    for person_id in ("ada", "ben", "cleo", "dan"):
        proposal.consent(circle, person_id, now)
    assert proposal.close_consent_round(circle, "ben", now) == Stage.CONSENTED


def test_an_objection_withdrawn_during_the_round_does_not_block(circle, now, to_consent_round):
    # Dan objects, then withdraws his objection before the round closes.
    proposal = to_consent_round(circle)
    for person_id in ("ada", "ben", "cleo"):
        proposal.consent(circle, person_id, now)
    proposal.raise_objection(circle, "dan", "Nobody holds the keys", now)
    proposal.withdraw_objection(circle, "dan", 1)

    # The round closes consented: no open objection, and Dan answered.
    assert proposal.close_consent_round(circle, "ben", now) == Stage.CONSENTED
    assert proposal.rounds[0].objections == []


def test_every_open_objection_must_be_integrated_before_the_round_repeats(
    circle, now, to_consent_round, unchanged
):
    # Ada and Dan both object.
    proposal = to_consent_round(circle)
    proposal.consent(circle, "ben", now)
    proposal.consent(circle, "cleo", now)
    proposal.raise_objection(circle, "ada", "The budget is spent", now)
    proposal.raise_objection(circle, "dan", "Nobody holds the keys", now)
    assert proposal.close_consent_round(circle, "ben", now) == Stage.INTEGRATING

    # Integrating Dan's objection alone is not enough.
    proposal.integrate(circle, "cleo", Integration.ADD_MEASURE, "Dan's neighbour keeps a key", [2])
    with unchanged(proposal), pytest.raises(WrongStage, match="Integrate objection 1"):
        proposal.open_consent_round(circle, "ben", now)

    # Once Ada's objection is integrated too, the round repeats.
    proposal.integrate(circle, "cleo", Integration.AMEND, "Open on Sundays, within budget", [1])
    proposal.open_consent_round(circle, "ben", now)
    assert proposal.stage == Stage.CONSENT_ROUND


def test_integrating_by_amending_changes_the_text_and_keeps_the_old_one(
    circle, now, to_consent_round
):
    # Dan objects to Cleo's proposal.
    proposal = to_consent_round(circle, text="Open the kitchen on Sundays.")
    proposal.raise_objection(circle, "dan", "Nobody holds the keys", now)
    for person_id in ("ada", "ben", "cleo"):
        proposal.consent(circle, person_id, now)
    proposal.close_consent_round(circle, "ben", now)

    # Cleo amends the proposal to integrate it.
    proposal.integrate(
        circle, "cleo", "amend", "Open the kitchen on Sundays; Dan's neighbour keeps a key.", [1]
    )

    # The text changed, the former text is kept, and the integration is on record.
    assert proposal.text == "Open the kitchen on Sundays; Dan's neighbour keeps a key."
    assert proposal.amendments == ["Open the kitchen on Sundays."]
    [integration] = proposal.integrations
    assert (integration.how, integration.objections, integration.by) == ("amend", [1], "cleo")


def test_integrating_by_shortening_the_term_needs_an_earlier_review_date(
    circle, now, to_consent_round, unchanged
):
    # Cleo's proposal, to be reviewed in a year, meets Dan's objection.
    review = date(2027, 3, 1)
    proposal = to_consent_round(circle, review_date=review)
    proposal.raise_objection(circle, "dan", "Too long to try it untested", now)
    for person_id in ("ada", "ben", "cleo"):
        proposal.consent(circle, person_id, now)
    proposal.close_consent_round(circle, "ben", now)

    # Shortening the term without a date, or to the same or a later date, is refused.
    with unchanged(proposal), pytest.raises(InvalidRequest, match="needs the new, earlier"):
        proposal.integrate(circle, "cleo", Integration.SHORTEN_TERM, "Try it first", [1])
    for later in (review, review + timedelta(days=1)):
        with (
            unchanged(proposal),
            pytest.raises(InvalidRequest, match="must end before the current review date"),
        ):
            proposal.integrate(
                circle, "cleo", Integration.SHORTEN_TERM, "Try it first", [1], review_date=later
            )

    # A review in three months integrates it.
    proposal.integrate(
        circle,
        "cleo",
        Integration.SHORTEN_TERM,
        "Try it for three months",
        [1],
        review_date=date(2026, 6, 1),
    )
    assert proposal.review_date == date(2026, 6, 1)
    assert not proposal.objections[0].is_open


def test_integrating_by_adding_a_measure_appends_it(circle, now, to_consent_round):
    # Dan objects; the round goes to integration.
    proposal = to_consent_round(circle)
    proposal.raise_objection(circle, "dan", "We will not know if it harms the rota", now)
    for person_id in ("ada", "ben", "cleo"):
        proposal.consent(circle, person_id, now)
    proposal.close_consent_round(circle, "ben", now)

    # Cleo adds a measure: the text stays, the measure is appended.
    text = proposal.text
    proposal.integrate(circle, "cleo", "add_measure", "Check the rota after four Sundays", [1])
    assert proposal.text == text
    assert proposal.measures == ["Check the rota after four Sundays"]


@pytest.mark.parametrize("how", ["amend", "shorten_term", "add_measure"])
def test_guests_do_not_integrate_objections_learning_participants_do(
    circle, now, to_consent_round, unchanged, how
):
    # Dan objects; the round goes to integration.
    proposal = to_consent_round(circle)
    proposal.raise_objection(circle, "dan", "Nobody holds the keys", now)
    for person_id in ("ada", "ben", "cleo"):
        proposal.consent(circle, person_id, now)
    proposal.close_consent_round(circle, "ben", now)
    review = date(2026, 5, 1)

    # Gus, a guest, tries to integrate it: integrating changes what is decided, and guests
    # take part in the rounds without proposing or amending. Refused, nothing changes.
    with (
        unchanged(proposal, circle),
        pytest.raises(
            NotPermitted,
            match="Guests take part in the rounds; full and learning participants integrate",
        ),
    ):
        proposal.integrate(circle, "gus", how, "A key holder on Sundays", [1], review)
    assert proposal.objections[0].is_open and proposal.integrations == []

    # Eli, a learning participant, may (learning participants propose too).
    proposal.integrate(circle, "eli", how, "A key holder on Sundays", [1], review)
    assert not proposal.objections[0].is_open
    assert proposal.integrations[0].by == "eli"


def test_integration_is_refused_when_incomplete_or_out_of_place(
    circle, now, to_consent_round, unchanged
):
    # Cleo's proposal is in its consent round: nothing to integrate yet.
    proposal = to_consent_round(circle)
    with unchanged(proposal), pytest.raises(WrongStage, match="Cannot integrate objections"):
        proposal.integrate(circle, "cleo", "amend", "New text", [1])

    # Dan objects and the round goes to integration.
    proposal.raise_objection(circle, "dan", "Nobody holds the keys", now)
    for person_id in ("ada", "ben", "cleo"):
        proposal.consent(circle, person_id, now)
    proposal.close_consent_round(circle, "ben", now)

    # An unknown way, no objection named, an unknown objection, or no text: all refused.
    with unchanged(proposal), pytest.raises(InvalidRequest, match="Unknown way to integrate"):
        proposal.integrate(circle, "cleo", "vote_it_through", "New text", [1])
    with unchanged(proposal), pytest.raises(InvalidRequest, match="Name the objection"):
        proposal.integrate(circle, "cleo", "amend", "New text", [])
    with unchanged(proposal), pytest.raises(InvalidRequest, match="There is no objection 7"):
        proposal.integrate(circle, "cleo", "amend", "New text", [7])
    with unchanged(proposal), pytest.raises(InvalidRequest, match="Say how the objection"):
        proposal.integrate(circle, "cleo", "amend", "  ", [1])

    # Once integrated, the same objection cannot be integrated again.
    proposal.integrate(circle, "cleo", "add_measure", "A key holder on Sundays", [1])
    with unchanged(proposal), pytest.raises(WrongStage, match="Objection 1 is already resolved"):
        proposal.integrate(circle, "cleo", "amend", "Again", [1])


def test_someone_who_left_cannot_answer_the_round(circle, now, to_consent_round, unchanged):
    # Cleo's proposal reaches the consent round; then Dan leaves the circle.
    proposal = to_consent_round(circle)
    circle.leave("dan", "dan", now.date(), note="Thank you for the Sunday soups")

    # Dan can neither consent nor object any more.
    with unchanged(proposal, circle), pytest.raises(NotPermitted, match="has left the circle"):
        proposal.consent(circle, "dan", now)
    with unchanged(proposal, circle), pytest.raises(NotPermitted, match="has left the circle"):
        proposal.raise_objection(circle, "dan", "I still object", now)

    # Quorum is recomputed: the other three full participants consent and it is consented.
    for person_id in ("ada", "ben", "cleo"):
        proposal.consent(circle, person_id, now)
    assert proposal.close_consent_round(circle, "ben", now) == Stage.CONSENTED
    assert proposal.rounds[0].missing == []


def test_someone_who_stepped_back_cannot_answer_the_round(circle, now, to_consent_round, unchanged):
    # Cleo's proposal reaches the consent round; Dan steps back for a while.
    proposal = to_consent_round(circle)
    circle.step_back("dan", "dan", now.date())

    # Dan cannot object while stepped back.
    with unchanged(proposal, circle), pytest.raises(NotPermitted, match="has stepped back"):
        proposal.raise_objection(circle, "dan", "I object", now)


def test_someone_who_left_cannot_withdraw_their_objection(circle, now, to_consent_round, unchanged):
    # Dan objects and the round goes to integration; then Dan leaves the circle.
    proposal = to_consent_round(circle)
    for person_id in ("ada", "ben", "cleo"):
        proposal.consent(circle, person_id, now)
    proposal.raise_objection(circle, "dan", "Nobody holds the keys", now)
    proposal.close_consent_round(circle, "ben", now)
    circle.leave("dan", "dan", now.date())

    # Having left, Dan can no longer act in the circle, not even to withdraw his objection.
    with unchanged(proposal, circle), pytest.raises(NotPermitted, match="has left the circle"):
        proposal.withdraw_objection(circle, "dan", 1)
