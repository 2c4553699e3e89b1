"""The circle itself: founded, activated, its aim, domain and rules revised by consent, and its
status: forming -> active -> incorporated | independent | dissolved."""

from __future__ import annotations

import pytest

from domain.circle import Circle
from domain.decision import Decision
from domain.errors import InvalidRequest, NotPermitted, WrongStage
from domain.hats import FACILITATOR, SECRETARY
from domain.meeting import Meeting
from domain.proposal import Proposal
from domain.records import GoverningRules, LegalEntity
from domain.selection import HatSelection
from domain.values import CircleKind, CircleStatus, DecisionMethod, Level, Membership, Purpose

INCORPORATION = {
    "registered_name": "Kitchen Co-operative Ltd",
    "number": "RS009876",
    "registry": "FCA Mutuals Public Register",
}


def test_a_circle_is_founded_forming_with_its_founder_and_the_process_hats(today):
    # Ada founds a team circle within the neighbourhood co-op.
    circle = Circle.found(
        name=" Kitchen circle ",
        aim="Feed the neighbourhood",
        domain="The community kitchen",
        founder_id="ada",
        today=today,
        kind="team",
        parent="neighbourhood-co-op",
    )

    # It is forming; Ada is its first full participant; the four process hats are defined.
    assert (circle.name, circle.kind, circle.parent) == (
        "Kitchen circle",
        CircleKind.TEAM,
        "neighbourhood-co-op",
    )
    assert circle.status == CircleStatus.FORMING
    assert circle.full_participants() == ["ada"]
    ada = circle.participant("ada")
    assert (ada.level, ada.status, ada.since) == (Level.FULL, Membership.ACTIVE, today)
    assert sorted(circle.hats) == ["delegate", "facilitator", "leader", "secretary"]
    assert circle.terms == []

    # By default it decides by consent and absent members cannot object.
    assert circle.rules.decision_method == DecisionMethod.CONSENT
    assert circle.rules.absentee_policy == "cannot_object"


@pytest.mark.parametrize(
    ("args", "match"),
    [
        ({"name": " "}, "needs a name"),
        ({"aim": ""}, "needs an aim"),
        ({"domain": "  "}, "needs a domain"),
        ({"founder_id": ""}, "founded by someone"),
        ({"kind": "club"}, "Unknown circle kind 'club'"),
        ({"rules": GoverningRules(absentee_policy="ignore_them")}, "Unknown absentee policy"),
        ({"rules": GoverningRules(methods_by_topic={"budget": "dice"})}, "Unknown decision method"),
    ],
)
def test_a_circle_needs_a_name_an_aim_a_domain_and_valid_rules(today, args, match):
    # Founding a circle that misses something is refused.
    fields = {
        "name": "Kitchen circle",
        "aim": "Feed the neighbourhood",
        "domain": "The community kitchen",
        "founder_id": "ada",
        "today": today,
    } | args
    with pytest.raises(InvalidRequest, match=match):
        Circle.found(**fields)


def test_a_circle_starts_its_work_once_facilitator_and_secretary_are_selected(
    forming_circle, form_aim, today, unchanged
):
    # The kitchen circle is forming, with no hats worn; it has formed its aim together.
    circle = forming_circle
    form_aim(circle)

    # It cannot start without a facilitator.
    with unchanged(circle), pytest.raises(WrongStage, match="Select a facilitator"):
        circle.activate("ada", today)

    # Nor with a facilitator but no secretary.
    circle.put_on_hat(FACILITATOR, "ben", today, today.replace(year=2027))
    with unchanged(circle), pytest.raises(WrongStage, match="Select a secretary"):
        circle.activate("ada", today)

    # With both, a full participant starts it; a learning participant may not.
    circle.put_on_hat(SECRETARY, "ada", today, today.replace(year=2027))
    with unchanged(circle), pytest.raises(NotPermitted, match="Only full participants can start"):
        circle.activate("eli", today)
    circle.activate("dan", today)
    assert circle.status == CircleStatus.ACTIVE

    # It starts only once.
    with unchanged(circle), pytest.raises(WrongStage, match="already active"):
        circle.activate("dan", today)


def test_the_aim_and_the_domain_are_revised_by_consent(
    circle, to_consent_round, consented, unchanged
):
    # A proposal to revise the aim is still in its consent round: the aim stays.
    pending = to_consent_round(circle, purpose=Purpose.CHANGE_AIM, subject={"aim": "Feed everyone"})
    with unchanged(circle), pytest.raises(WrongStage, match="Only a consented proposal binds"):
        circle.revise_aim(pending)

    # A consented proposal of another purpose does not revise it either.
    domain = consented(
        circle, purpose=Purpose.CHANGE_DOMAIN, subject={"domain": "Kitchen and garden"}
    )
    with unchanged(circle), pytest.raises(InvalidRequest, match="is to change domain"):
        circle.revise_aim(domain)

    # Consented proposals revise the aim and the domain.
    aim = consented(circle, purpose=Purpose.CHANGE_AIM, subject={"aim": "Feed everyone"})
    circle.revise_aim(aim)
    circle.change_domain(domain)
    assert (circle.aim, circle.domain) == ("Feed everyone", "Kitchen and garden")


def test_the_circle_consents_to_decide_some_topics_by_formal_vote(
    circle, consented, to_consent_round
):
    # The circle consents to decide its budget by formal vote, as its registered rules require.
    change = consented(
        circle,
        purpose=Purpose.CHANGE_RULES,
        subject={"methods_by_topic": {"budget": "formal_vote"}, "absentee_policy": "consent_later"},
    )
    circle.change_rules(change)
    assert circle.rules.method_for("budget") == DecisionMethod.FORMAL_VOTE
    assert circle.rules.method_for("rota") == DecisionMethod.CONSENT
    assert circle.rules.absentee_policy == "consent_later"

    # A later budget proposal goes to the vote.
    assert to_consent_round(circle, topic="budget").method == DecisionMethod.FORMAL_VOTE


def test_a_rules_proposal_must_name_valid_rules(circle, now, unchanged):
    # A proposal to decide by a method that does not exist is refused at once.
    with unchanged(circle), pytest.raises(InvalidRequest, match="methods_by_topic maps a topic"):
        Proposal.draft(
            circle,
            "cleo",
            "Rules",
            "Decide by lot",
            now,
            purpose=Purpose.CHANGE_RULES,
            subject={"methods_by_topic": ["budget"]},
        )


def test_an_active_circle_incorporates_by_consent_and_records_its_legal_entity(
    circle, forming_circle, consented, unchanged
):
    # A forming circle cannot incorporate, even by consent.
    early = consented(forming_circle, purpose=Purpose.INCORPORATE, subject=INCORPORATION)
    with (
        unchanged(forming_circle),
        pytest.raises(
            WrongStage, match="Only an active circle can incorporate; this one is forming"
        ),
    ):
        forming_circle.incorporate(early)

    # The active circle consents to incorporate.
    proposal = consented(circle, purpose=Purpose.INCORPORATE, subject=INCORPORATION)
    circle.incorporate(proposal)

    # It is incorporated, its legal entity on record.
    assert circle.status == CircleStatus.INCORPORATED
    assert circle.legal_entity == LegalEntity(
        "Kitchen Co-operative Ltd", "RS009876", "FCA Mutuals Public Register"
    )

    # It does not incorporate twice.
    with unchanged(circle), pytest.raises(WrongStage, match="this one is incorporated"):
        circle.incorporate(proposal)


def test_an_incorporation_proposal_names_the_legal_entity(circle, now, unchanged):
    # A proposal to incorporate without the registry is refused.
    with unchanged(circle), pytest.raises(InvalidRequest, match="must name registry"):
        Proposal.draft(
            circle,
            "cleo",
            "Incorporate",
            "Register as a co-op",
            now,
            purpose=Purpose.INCORPORATE,
            subject={"registered_name": "Kitchen Co-operative Ltd", "number": "RS009876"},
        )


def test_an_active_or_incorporated_circle_may_go_its_own_way(
    circle, found_circle, forming_circle, consented, unchanged
):
    # The active circle consents to go its own way.
    circle.go_independent(consented(circle, purpose=Purpose.GO_INDEPENDENT))
    assert circle.status == CircleStatus.INDEPENDENT

    # An incorporated circle may too.
    incorporated = found_circle()
    incorporated.incorporate(
        consented(incorporated, purpose=Purpose.INCORPORATE, subject=INCORPORATION)
    )
    incorporated.go_independent(consented(incorporated, purpose=Purpose.GO_INDEPENDENT))
    assert incorporated.status == CircleStatus.INDEPENDENT
    assert incorporated.legal_entity is not None

    # A forming circle, or one already independent, cannot.
    for other in (forming_circle, circle):
        proposal = consented(other, purpose=Purpose.GO_INDEPENDENT)
        with unchanged(other), pytest.raises(WrongStage, match="circle cannot go its own way"):
            other.go_independent(proposal)


def test_a_dissolved_circle_keeps_its_records_but_nothing_new_happens(
    circle, now, today, consented, to_consent_round, unchanged
):
    # A proposal is in its consent round when the circle consents to dissolve.
    pending = to_consent_round(circle)
    dissolution = consented(circle, purpose=Purpose.DISSOLVE)
    circle.dissolve(dissolution)

    # It is dissolved; its records are kept; its hats are no longer worn.
    assert circle.status == CircleStatus.DISSOLVED
    assert circle.aim == "Feed the neighbourhood"
    assert sorted(circle.participants) == ["ada", "ben", "cleo", "dan", "eli", "gus"]
    assert circle.terms == []

    # Nothing new can happen in it.
    dissolved = "dissolved; its records are kept but nothing new happens"
    with unchanged(circle), pytest.raises(WrongStage, match=dissolved):
        Proposal.draft(circle, "cleo", "Reopen", "Open again", now)
    with unchanged(circle), pytest.raises(WrongStage, match=dissolved):
        circle.receive_application("fay", "full", today)
    with unchanged(circle), pytest.raises(WrongStage, match=dissolved):
        circle.put_on_hat(FACILITATOR, "ben", today, today.replace(year=2027))
    with unchanged(circle), pytest.raises(WrongStage, match=dissolved):
        circle.define_hat("ada", "Archivist", "Keeps the archive", [], ["archive"], 12)
    with unchanged(circle), pytest.raises(WrongStage, match=dissolved):
        HatSelection.open(circle, "ben", FACILITATOR, now)
    with unchanged(circle), pytest.raises(WrongStage, match=dissolved):
        Meeting.schedule(circle, "ben", "Farewell", now, now)
    with unchanged(circle), pytest.raises(WrongStage, match=dissolved):
        Decision.take_everyday(circle, "cleo", "care-commons-organiser", "rota", "T", "T", today)
    with unchanged(circle), pytest.raises(WrongStage, match=dissolved):
        circle.leave("dan", "dan", today)

    # The proposal that was under way cannot go on either.
    with unchanged(pending, circle), pytest.raises(WrongStage, match=dissolved):
        pending.consent(circle, "dan", now)

    # And it is not dissolved twice.
    with unchanged(circle), pytest.raises(WrongStage, match=dissolved):
        circle.dissolve(dissolution)


def test_a_forming_circle_may_dissolve(forming_circle, consented):
    # The circle never got going; it consents to dissolve.
    forming_circle.dissolve(consented(forming_circle, purpose=Purpose.DISSOLVE))
    assert forming_circle.status == CircleStatus.DISSOLVED


@pytest.mark.parametrize("change", ["incorporate", "go_independent", "dissolve"])
def test_a_status_changes_only_by_a_consented_proposal_of_that_purpose(
    circle, to_consent_round, consented, unchanged, change
):
    # A proposal of the right purpose, still in its consent round, changes nothing.
    subject = INCORPORATION if change == "incorporate" else {}
    pending = to_consent_round(circle, purpose=change, subject=subject)
    with unchanged(circle), pytest.raises(WrongStage, match="Only a consented proposal binds"):
        getattr(circle, change)(pending)

    # A consented proposal of another purpose changes nothing either.
    policy = consented(circle)
    with unchanged(circle), pytest.raises(InvalidRequest, match="That proposal is to adopt policy"):
        getattr(circle, change)(policy)
    assert circle.status == CircleStatus.ACTIVE
