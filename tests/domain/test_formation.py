"""How a circle starts: the founder's aim is a draft; while the circle is forming, any full
participant facilitates, and the circle forms its aim together by consent, saying how it links
to the co-op's mission; it starts its work once its aim is formed and its facilitator and
secretary are selected. Once active, the aim and its link are revised by consent."""

from __future__ import annotations

import pytest

from domain.errors import InvalidRequest, NotPermitted, WrongStage
from domain.hats import FACILITATOR, SECRETARY
from domain.proposal import Proposal
from domain.values import CircleStatus, Purpose, Stage

MISSION = "Every meal we cook is care at home, as the co-op's mission asks"


def _select_process_hats(circle, today):
    circle.put_on_hat(FACILITATOR, "ben", today, today.replace(year=2027))
    circle.put_on_hat(SECRETARY, "ada", today, today.replace(year=2027))


def test_a_forming_circle_forms_its_aim_together_then_starts_its_work(
    forming_circle, now, today, event_names, unchanged
):
    # The kitchen circle is forming: Ada founded it with a draft aim; nobody wears a hat.
    circle = forming_circle
    assert (circle.aim, circle.aim_formed, circle.mission_link) == (
        "Feed the neighbourhood",
        False,
        None,
    )

    # Its facilitator and secretary are selected, but it cannot start: the aim is a draft.
    _select_process_hats(circle, today)
    with unchanged(circle), pytest.raises(WrongStage, match="Form the circle's aim together"):
        circle.activate("ada", today)

    # Cleo proposes the aim, revisited together, and how it links to the co-op's mission;
    # every full participant consents.
    proposal = Proposal.draft(
        circle,
        "cleo",
        "Our aim",
        "We revisited the aim Ada founded us with.",
        now,
        purpose=Purpose.CHANGE_AIM,
        subject={"aim": "Feed the neighbourhood, together", "mission_link": f" {MISSION} "},
    )
    proposal.present(circle, "cleo")
    proposal.open_reactions(circle, "ben")
    proposal.open_consent_round(circle, "ben", now)
    for person_id in circle.full_participants():
        proposal.consent(circle, person_id, now)
    assert proposal.close_consent_round(circle, "ben", now) == Stage.CONSENTED

    # The consented proposal forms the aim: the circle keeps it, and its link to the mission.
    circle.revise_aim(proposal)
    assert event_names(circle) == ["AimFormed"]
    assert (circle.aim, circle.mission_link, circle.aim_formed) == (
        "Feed the neighbourhood, together",
        MISSION,
        True,
    )

    # Now a full participant starts its work.
    circle.activate("dan", today)
    assert circle.status == CircleStatus.ACTIVE


def test_before_the_first_selections_any_full_participant_facilitates_forming_the_aim(
    forming_circle, now, today, unchanged
):
    # Nobody wears the facilitator hat yet. Dan drafts the aim and presents it.
    circle = forming_circle
    proposal = Proposal.draft(
        circle,
        "dan",
        "Our aim",
        "As we said in our first meeting",
        now,
        purpose=Purpose.CHANGE_AIM,
        subject={"aim": "Feed the neighbourhood"},
    )
    proposal.present(circle, "dan")

    # Eli, a learning participant, cannot run the process; Cleo, a full participant, can.
    with unchanged(proposal), pytest.raises(NotPermitted, match="Only full participants can"):
        proposal.open_reactions(circle, "eli")
    proposal.open_reactions(circle, "cleo")
    proposal.open_consent_round(circle, "cleo", now)
    for person_id in circle.full_participants():
        proposal.consent(circle, person_id, now)
    proposal.close_consent_round(circle, "ada", now)

    # The aim is formed; the proposal said nothing of the mission, so no link is kept.
    circle.revise_aim(proposal)
    assert (circle.aim_formed, circle.mission_link) == (True, None)


def test_only_a_consented_change_aim_proposal_forms_the_aim(
    forming_circle, to_consent_round, consented, today, unchanged
):
    circle = forming_circle
    _select_process_hats(circle, today)

    # A proposal to form the aim still in its consent round forms nothing.
    pending = to_consent_round(circle, purpose=Purpose.CHANGE_AIM, subject={"aim": "Cook"})
    with unchanged(circle), pytest.raises(WrongStage, match="Only a consented proposal binds"):
        circle.revise_aim(pending)

    # Nor does a consented proposal of another purpose.
    policy = consented(circle)
    with unchanged(circle), pytest.raises(InvalidRequest, match="That proposal is to adopt"):
        circle.revise_aim(policy)

    # The circle still cannot start.
    with unchanged(circle), pytest.raises(WrongStage, match="Form the circle's aim together"):
        circle.activate("ada", today)


def test_the_link_to_the_mission_is_a_text(forming_circle, now, unchanged):
    # A proposal whose mission link is not a text is refused when drafted.
    with unchanged(forming_circle), pytest.raises(InvalidRequest, match="mission_link is a text"):
        Proposal.draft(
            forming_circle,
            "cleo",
            "Our aim",
            "Linked",
            now,
            purpose=Purpose.CHANGE_AIM,
            subject={"aim": "Feed the neighbourhood", "mission_link": ["care", "food"]},
        )


def test_an_active_circle_revises_its_aim_and_its_link_to_the_mission_by_consent(
    circle, consented, event_names
):
    # The kitchen circle formed its aim while forming and is active.
    assert circle.aim_formed and circle.mission_link

    # It revises its aim alone: the link to the mission stays.
    link = circle.mission_link
    circle.revise_aim(consented(circle, purpose=Purpose.CHANGE_AIM, subject={"aim": "Feed all"}))
    assert event_names(circle) == ["AimRevised"]
    assert (circle.aim, circle.mission_link, circle.aim_formed) == ("Feed all", link, True)

    # It revises both.
    both = {"aim": "Feed all, well", "mission_link": "Good food is good care"}
    circle.revise_aim(consented(circle, purpose=Purpose.CHANGE_AIM, subject=both))
    assert event_names(circle) == ["AimRevised", "MissionLinkChanged"]
    assert (circle.aim, circle.mission_link) == ("Feed all, well", "Good food is good care")

    # An empty link says the aim no longer names one.
    empty = {"aim": "Feed all, well", "mission_link": ""}
    circle.revise_aim(consented(circle, purpose=Purpose.CHANGE_AIM, subject=empty))
    assert circle.mission_link is None
