"""A circle's relationship with another circle: joining the network, peering, being part of a
co-op (as a member circle or a corporate member), going its own way, the double link, and the
other circle's requests for consent. Each side keeps its own relationship: driven by its own
consent decisions, and by what the other circle said (a fact that does not fit is refused)."""

from __future__ import annotations

from datetime import date

import pytest

from domain.decision import Decision
from domain.errors import InvalidRequest, NotFound, NotPermitted, WrongStage
from domain.hats import DELEGATE, LEADER
from domain.proposal import SUBJECT_KEYS, Proposal
from domain.records import LegalEntity
from domain.relationships import ADDED, APPLIED, Relationship, relationship_id
from domain.values import CircleStatus, CoopLink, Membership, Peering, Purpose, Stage

# Other circles, by their opaque references (node ids, as far as the domain knows).
CO_OP = "node-neighbourhood-co-op"  # the co-op the kitchen circle becomes part of
KITCHEN = "node-kitchen"  # the kitchen circle, as the co-op refers to it
GARDEN = "node-garden"  # a circle the kitchen circle peers with
ORCHARD = "node-orchard"  # an independent co-op that joins the network

INCORPORATION = {
    "registered_name": "Kitchen Co-operative Ltd",
    "number": "RS009876",
    "registry": "FCA Mutuals Public Register",
}
ENTITY = LegalEntity("Kitchen Co-operative Ltd", "RS009876", "FCA Mutuals Public Register")
REVIEW = date(2026, 9, 1)


# Ways to bring a relationship to a state, by the steps that lead there.


def peering_at(rel, circle, decide, state):
    """Peering `state` with the other circle: none, requested, asked, peers or ended."""
    if state in (Peering.REQUESTED, Peering.PEERS, Peering.ENDED):
        rel.request_peering(circle, decide(circle, Purpose.REQUEST_PEERING, circle=rel.other))
    if state == Peering.ASKED:
        rel.peering_requested()
    if state in (Peering.PEERS, Peering.ENDED):
        rel.peering_accepted()
    if state == Peering.ENDED:
        rel.end_peering(circle, decide(circle, Purpose.END_PEERING, circle=rel.other))
    rel.collect_events()
    assert rel.peering == state


def coop_at(rel, circle, decide, link):
    """The co-op link `link`: none, applying, applied, member of, has member or withdrawn."""
    if link in (CoopLink.APPLYING, CoopLink.MEMBER_OF, CoopLink.WITHDRAWN):
        rel.apply_to_coop(circle, decide(circle, Purpose.APPLY_TO_COOP, circle=rel.other))
    if link in (CoopLink.MEMBER_OF, CoopLink.WITHDRAWN):
        rel.admitted_as_member()
    if link == CoopLink.WITHDRAWN:
        rel.withdraw_from_coop(circle, decide(circle, Purpose.GO_INDEPENDENT, circle=rel.other))
    if link in (CoopLink.APPLIED, CoopLink.HAS_MEMBER):
        rel.applied_to_us(False, None)
    if link == CoopLink.HAS_MEMBER:
        rel.admit_member(circle, decide(circle, Purpose.ADMIT_MEMBER, circle=rel.other))
    rel.collect_events()
    assert rel.coop == link


def incorporate(circle, decide):
    circle.incorporate(decide(circle, Purpose.INCORPORATE, **INCORPORATION))
    circle.collect_events()


NOT_MEMBER_OF = [CoopLink.NONE, CoopLink.APPLYING, CoopLink.APPLIED, CoopLink.HAS_MEMBER]
NOT_HAS_MEMBER = [CoopLink.NONE, CoopLink.APPLYING, CoopLink.APPLIED, CoopLink.MEMBER_OF]


# Meeting another circle.


def test_a_circle_meets_another_circle_by_its_reference(circle, event_names):
    # An independent co-op asks to join the network through the kitchen circle.
    rel = Relationship.meet(circle, ORCHARD, "  Orchard co-op ", APPLIED)

    # The kitchen circle keeps a relationship with it, found again by the two references.
    assert rel.id == relationship_id(circle.id, ORCHARD)
    assert (rel.circle_id, rel.other, rel.name, rel.how) == (
        circle.id,
        ORCHARD,
        "Orchard co-op",
        APPLIED,
    )
    assert event_names(rel) == ["Met"]

    # Nothing binds the two circles yet.
    assert not rel.admitted_to_network
    assert (rel.peering, rel.coop) == (Peering.NONE, CoopLink.NONE)
    assert (rel.corporate, rel.corporate_pending, rel.legal_entity) == (False, False, None)
    assert (rel.delegate, rel.leader, rel.proposed_leader) == (None, None, None)
    assert (rel.refusals, rel.consent_requests, rel.seat_requests) == ([], {}, {})

    # The relationship with another circle is another relationship.
    assert relationship_id(circle.id, GARDEN) != rel.id


def test_a_relationship_names_the_other_circle(circle, unchanged):
    # A relationship with nobody is refused.
    with unchanged(circle), pytest.raises(InvalidRequest, match="Name the other circle"):
        Relationship.meet(circle, "  ", "Nobody", ADDED)


# Every step that binds the circle is one of its consent decisions.

BINDING = [
    ("admit_to_network", Purpose.ADMIT_TO_NETWORK, {}),
    ("request_peering", Purpose.REQUEST_PEERING, {}),
    ("accept_peering", Purpose.ACCEPT_PEERING, {}),
    ("end_peering", Purpose.END_PEERING, {}),
    ("apply_to_coop", Purpose.APPLY_TO_COOP, {}),
    ("admit_member", Purpose.ADMIT_MEMBER, {}),
    ("withdraw_from_coop", Purpose.GO_INDEPENDENT, {}),
    ("propose_leader", Purpose.PROPOSE_LEADER, {"person": "dan"}),
    ("agree_leader", Purpose.AGREE_LEADER, {"person": "dan"}),
]
BINDING_IDS = [command for command, _, _ in BINDING]


@pytest.mark.parametrize(("command", "purpose", "subject"), BINDING, ids=BINDING_IDS)
def test_a_proposal_still_in_its_consent_round_binds_nothing(
    circle, meet, to_consent_round, unchanged, command, purpose, subject
):
    # The kitchen circle's proposal about the garden circle is still in its consent round.
    rel = meet(circle, GARDEN)
    pending = to_consent_round(circle, purpose=purpose, subject={"circle": GARDEN, **subject})
    assert pending.stage == Stage.CONSENT_ROUND

    # It binds nothing yet.
    with (
        unchanged(rel, circle, pending),
        pytest.raises(WrongStage, match="Only a consented proposal binds the circle"),
    ):
        getattr(rel, command)(circle, pending)


@pytest.mark.parametrize(("command", "purpose", "subject"), BINDING, ids=BINDING_IDS)
def test_a_consented_proposal_of_another_purpose_binds_nothing(
    circle, meet, decide, unchanged, command, purpose, subject
):
    # The circle consented to something else about the garden circle.
    rel = meet(circle, GARDEN)
    other = Purpose.END_PEERING if purpose != Purpose.END_PEERING else Purpose.REQUEST_PEERING
    proposal = decide(circle, other, circle=GARDEN, **subject)

    # It does not stand in for the decision this step needs.
    words = other.replace("_", " ")
    with (
        unchanged(rel, circle),
        pytest.raises(InvalidRequest, match=f"That proposal is to {words}"),
    ):
        getattr(rel, command)(circle, proposal)


@pytest.mark.parametrize(("command", "purpose", "subject"), BINDING, ids=BINDING_IDS)
def test_a_consented_proposal_about_another_circle_binds_nothing_here(
    circle, meet, decide, unchanged, command, purpose, subject
):
    # The circle consented to this step, but with the orchard co-op, not the garden circle.
    rel = meet(circle, GARDEN)
    proposal = decide(circle, purpose, circle=ORCHARD, **subject)

    # The relationship with the garden circle does not change.
    with (
        unchanged(rel, circle),
        pytest.raises(InvalidRequest, match="That proposal is about another circle"),
    ):
        getattr(rel, command)(circle, proposal)


@pytest.mark.parametrize(("command", "purpose", "subject"), BINDING, ids=BINDING_IDS)
def test_another_circles_decision_does_not_bind_this_circle(
    circle, other_circle, meet, decide, unchanged, command, purpose, subject
):
    # Another circle consented to this step about the garden circle.
    rel = meet(circle, GARDEN)
    theirs = decide(other_circle, purpose, circle=GARDEN, **subject)

    # Its decision does not bind the kitchen circle's relationship, whichever circle is given.
    with (
        unchanged(rel, circle, other_circle),
        pytest.raises(InvalidRequest, match="That proposal belongs to another circle"),
    ):
        getattr(rel, command)(circle, theirs)
    with (
        unchanged(rel, circle, other_circle),
        pytest.raises(InvalidRequest, match="That proposal belongs to another circle"),
    ):
        getattr(rel, command)(other_circle, theirs)


@pytest.mark.parametrize(("command", "purpose", "subject"), BINDING, ids=BINDING_IDS)
def test_a_dissolved_circle_takes_no_new_step_with_another(
    circle, meet, decide, dissolve, unchanged, command, purpose, subject
):
    # The circle consented to a step with the garden circle, then dissolved.
    rel = meet(circle, GARDEN)
    proposal = decide(circle, purpose, circle=GARDEN, **subject)
    dissolve(circle)

    # Nothing new happens in a dissolved circle.
    with (
        unchanged(rel, circle),
        pytest.raises(WrongStage, match="dissolved; its records are kept but nothing new happens"),
    ):
        getattr(rel, command)(circle, proposal)


@pytest.mark.parametrize(
    ("purpose", "key"),
    [
        (purpose, key)
        for purpose in (
            Purpose.REQUEST_PEERING,
            Purpose.ACCEPT_PEERING,
            Purpose.END_PEERING,
            Purpose.ADMIT_TO_NETWORK,
            Purpose.APPLY_TO_COOP,
            Purpose.ADMIT_MEMBER,
            Purpose.PROPOSE_LEADER,
            Purpose.AGREE_LEADER,
        )
        for key in SUBJECT_KEYS[purpose]
    ],
)
@pytest.mark.parametrize("missing", [None, "  "], ids=["absent", "blank"])
def test_a_proposal_about_another_circle_names_it(circle, now, unchanged, purpose, key, missing):
    # Each of these proposals names the other circle (and, for a leader, the person).
    subject = {"circle": GARDEN, "person": "dan"}
    assert set(SUBJECT_KEYS[purpose]) <= set(subject)

    # Drafting one without what it must name is refused at once.
    if missing is None:
        del subject[key]
    else:
        subject[key] = missing
    words = purpose.replace("_", " ")
    with unchanged(circle), pytest.raises(InvalidRequest, match=f"to {words} must name {key}"):
        Proposal.draft(circle, "cleo", "Title", "Text", now, purpose=purpose, subject=subject)


# Joining the network.


def test_a_circle_admits_another_to_the_network_by_consent(circle, meet, decide, unchanged):
    # The orchard co-op asked to join the network through the kitchen circle.
    rel = meet(circle, ORCHARD, how=APPLIED)

    # The kitchen circle consents to admit it: it is in the network and the circles peer.
    admission = decide(circle, Purpose.ADMIT_TO_NETWORK, circle=ORCHARD)
    rel.admit_to_network(circle, admission)
    assert rel.admitted_to_network
    assert rel.peering == Peering.PEERS
    [admitted] = rel.collect_events()
    assert type(admitted).__name__ == "AdmittedToNetwork"
    assert admitted.proposal_id == str(admission.id)

    # It is admitted once.
    again = decide(circle, Purpose.ADMIT_TO_NETWORK, circle=ORCHARD)
    with (
        unchanged(rel, circle),
        pytest.raises(WrongStage, match="That circle is already admitted to the network"),
    ):
        rel.admit_to_network(circle, again)


def test_a_circle_hears_that_another_admitted_it_to_the_network(circle, meet, unchanged):
    # The kitchen circle asked the co-op to let it join; the co-op's signed introduction came.
    rel = meet(circle, CO_OP)
    rel.admitted_us()
    assert rel.admitted_to_network
    assert rel.peering == Peering.PEERS
    assert [type(e).__name__ for e in rel.collect_events()] == ["WasAdmitted"]

    # A second admission does not fit.
    with (
        unchanged(rel),
        pytest.raises(WrongStage, match="already in the network through that circle"),
    ):
        rel.admitted_us()


def test_an_admission_from_a_circle_already_peered_with_is_refused(circle, meet, decide, unchanged):
    # The kitchen and garden circles already peer.
    rel = meet(circle, GARDEN)
    peering_at(rel, circle, decide, Peering.PEERS)

    # The garden circle's admission of the kitchen circle does not fit.
    with (
        unchanged(rel),
        pytest.raises(WrongStage, match="already in the network through that circle"),
    ):
        rel.admitted_us()
    assert not rel.admitted_to_network


# Peering.


def test_a_circle_asks_to_peer_and_the_other_accepts(circle, meet, decide):
    # The kitchen circle consents to ask the garden circle to peer.
    rel = meet(circle, GARDEN)
    request = decide(circle, Purpose.REQUEST_PEERING, circle=GARDEN)
    rel.request_peering(circle, request)
    assert rel.peering == Peering.REQUESTED
    [asked] = rel.collect_events()
    assert (asked.peering, asked.proposal_id) == (Peering.REQUESTED, str(request.id))

    # The garden circle consents to accept: they peer.
    rel.peering_accepted()
    assert rel.peering == Peering.PEERS
    [accepted] = rel.collect_events()
    assert (accepted.peering, accepted.proposal_id) == (Peering.PEERS, None)


def test_a_circle_accepts_another_circles_request_to_peer_by_consent(circle, meet, decide):
    # The garden circle asks the kitchen circle to peer.
    rel = meet(circle, GARDEN)
    rel.peering_requested()
    assert rel.peering == Peering.ASKED
    [asked] = rel.collect_events()
    assert (asked.peering, asked.proposal_id) == (Peering.ASKED, None)

    # The kitchen circle consents to accept: they peer.
    acceptance = decide(circle, Purpose.ACCEPT_PEERING, circle=GARDEN)
    rel.accept_peering(circle, acceptance)
    assert rel.peering == Peering.PEERS
    [accepted] = rel.collect_events()
    assert accepted.proposal_id == str(acceptance.id)


def test_two_circles_that_ask_each_other_at_once_peer(circle, meet, decide):
    # The kitchen circle asks the garden circle to peer...
    rel = meet(circle, GARDEN)
    rel.request_peering(circle, decide(circle, Purpose.REQUEST_PEERING, circle=GARDEN))

    # ...while the garden circle asks too: each side's consent to ask is consent to peer.
    rel.peering_requested()
    assert rel.peering == Peering.PEERS


def test_a_circle_that_was_asked_accepts_rather_than_asks(circle, meet, decide, unchanged):
    # The garden circle's request to peer has reached the kitchen circle.
    rel = meet(circle, GARDEN)
    peering_at(rel, circle, decide, Peering.ASKED)

    # Asking in turn is refused: the kitchen circle consents to accept instead.
    request = decide(circle, Purpose.REQUEST_PEERING, circle=GARDEN)
    with (
        unchanged(rel, circle),
        pytest.raises(WrongStage, match="That circle asked already: consent to accept its request"),
    ):
        rel.request_peering(circle, request)
    assert rel.peering == Peering.ASKED


@pytest.mark.parametrize("state", [Peering.REQUESTED, Peering.PEERS])
def test_a_circle_does_not_ask_twice_nor_ask_a_peer(circle, meet, decide, unchanged, state):
    # The kitchen circle has asked the garden circle already, or they peer.
    rel = meet(circle, GARDEN)
    peering_at(rel, circle, decide, state)

    # Another request is refused.
    request = decide(circle, Purpose.REQUEST_PEERING, circle=GARDEN)
    with (
        unchanged(rel, circle),
        pytest.raises(WrongStage, match=f"Peering with that circle is already {state}"),
    ):
        rel.request_peering(circle, request)


@pytest.mark.parametrize("state", [Peering.NONE, Peering.REQUESTED, Peering.PEERS, Peering.ENDED])
def test_a_circle_accepts_only_a_request_it_received(circle, meet, decide, unchanged, state):
    # The garden circle has not asked to peer (or its request is settled).
    rel = meet(circle, GARDEN)
    peering_at(rel, circle, decide, state)

    # The kitchen circle's consent to accept has nothing to accept.
    acceptance = decide(circle, Purpose.ACCEPT_PEERING, circle=GARDEN)
    with (
        unchanged(rel, circle),
        pytest.raises(WrongStage, match="That circle has not asked to peer"),
    ):
        rel.accept_peering(circle, acceptance)


def test_peering_ends_by_consent_and_may_start_again(circle, meet, decide, unchanged):
    # The kitchen and garden circles peer; the kitchen circle consents to end it.
    rel = meet(circle, GARDEN)
    peering_at(rel, circle, decide, Peering.PEERS)
    ending = decide(circle, Purpose.END_PEERING, circle=GARDEN)
    rel.end_peering(circle, ending)
    assert rel.peering == Peering.ENDED
    [ended] = rel.collect_events()
    assert ended.proposal_id == str(ending.id)

    # It ends once.
    again = decide(circle, Purpose.END_PEERING, circle=GARDEN)
    with (
        unchanged(rel, circle),
        pytest.raises(WrongStage, match="This circle does not peer with that circle"),
    ):
        rel.end_peering(circle, again)

    # Later the circles may peer again, by consent.
    rel.request_peering(circle, decide(circle, Purpose.REQUEST_PEERING, circle=GARDEN))
    assert rel.peering == Peering.REQUESTED


@pytest.mark.parametrize("state", [Peering.NONE, Peering.REQUESTED, Peering.ASKED])
def test_only_peers_end_peering(circle, meet, decide, unchanged, state):
    # The kitchen and garden circles do not peer (yet).
    rel = meet(circle, GARDEN)
    peering_at(rel, circle, decide, state)

    # A consent to end peering has nothing to end.
    ending = decide(circle, Purpose.END_PEERING, circle=GARDEN)
    with (
        unchanged(rel, circle),
        pytest.raises(WrongStage, match="This circle does not peer with that circle"),
    ):
        rel.end_peering(circle, ending)


def test_a_request_to_peer_from_a_peer_is_refused(circle, meet, decide, unchanged):
    # The circles peer; a request to peer from the garden circle does not fit.
    rel = meet(circle, GARDEN)
    peering_at(rel, circle, decide, Peering.PEERS)
    with unchanged(rel), pytest.raises(WrongStage, match="The circles already peer"):
        rel.peering_requested()


def test_a_request_to_peer_after_peering_ended_is_heard(circle, meet, decide):
    # The circles peered, then the kitchen circle ended it; the garden circle asks again.
    rel = meet(circle, GARDEN)
    peering_at(rel, circle, decide, Peering.ENDED)
    rel.peering_requested()
    assert rel.peering == Peering.ASKED


@pytest.mark.parametrize("state", [Peering.NONE, Peering.ASKED, Peering.PEERS, Peering.ENDED])
def test_an_acceptance_of_a_request_never_made_is_refused(circle, meet, decide, unchanged, state):
    # The kitchen circle has no request to peer waiting with the garden circle.
    rel = meet(circle, GARDEN)
    peering_at(rel, circle, decide, state)

    # The garden circle's acceptance does not fit.
    with (
        unchanged(rel),
        pytest.raises(WrongStage, match="This circle did not ask that circle to peer"),
    ):
        rel.peering_accepted()


@pytest.mark.parametrize("state", [Peering.PEERS, Peering.REQUESTED, Peering.ASKED])
def test_the_other_circle_ends_peering_or_a_request_to_peer(circle, meet, decide, state):
    # The circles peer, or one asked the other; the garden circle ends it (or declines).
    rel = meet(circle, GARDEN)
    peering_at(rel, circle, decide, state)
    rel.peering_ended()
    assert rel.peering == Peering.ENDED
    [ended] = rel.collect_events()
    assert ended.proposal_id is None


@pytest.mark.parametrize("state", [Peering.NONE, Peering.ENDED])
def test_an_end_of_peering_that_never_was_is_refused(circle, meet, decide, unchanged, state):
    # The circles do not peer: the garden circle's end of peering does not fit.
    rel = meet(circle, GARDEN)
    peering_at(rel, circle, decide, state)
    with unchanged(rel), pytest.raises(WrongStage, match="The circles do not peer"):
        rel.peering_ended()


# Being part of a co-op.


def test_a_circle_applies_to_be_part_of_a_co_op_and_is_admitted(circle, other_circle, meet, decide):
    # Each side keeps its relationship: the kitchen circle with the co-op, and the other way.
    kitchen_side = meet(circle, CO_OP)
    co_op_side = meet(other_circle, KITCHEN)
    co_op = other_circle

    # The kitchen circle consents to apply to be part of the co-op.
    application = decide(circle, Purpose.APPLY_TO_COOP, circle=CO_OP)
    assert kitchen_side.apply_to_coop(circle, application) is None
    assert kitchen_side.coop == CoopLink.APPLYING
    assert not kitchen_side.corporate
    [applied] = kitchen_side.collect_events()
    assert (applied.coop, applied.proposal_id) == (CoopLink.APPLYING, str(application.id))

    # The co-op hears of it.
    co_op_side.applied_to_us(False, None)
    assert co_op_side.coop == CoopLink.APPLIED
    assert not co_op_side.corporate

    # The co-op consents to admit it.
    admission = decide(co_op, Purpose.ADMIT_MEMBER, circle=KITCHEN)
    co_op_side.admit_member(co_op, admission)
    assert co_op_side.coop == CoopLink.HAS_MEMBER
    admitted = co_op_side.collect_events()[-1]
    assert admitted.proposal_id == str(admission.id)

    # The kitchen circle hears it is part of the co-op.
    kitchen_side.admitted_as_member()
    assert kitchen_side.coop == CoopLink.MEMBER_OF
    assert (kitchen_side.corporate, kitchen_side.legal_entity) == (False, None)


@pytest.mark.parametrize(
    "link",
    [CoopLink.NONE, CoopLink.APPLIED, CoopLink.HAS_MEMBER, CoopLink.MEMBER_OF, CoopLink.WITHDRAWN],
)
def test_an_admission_nobody_applied_for_is_refused(circle, meet, decide, unchanged, link):
    # The kitchen circle has not applied to be part of the co-op (or that is settled).
    rel = meet(circle, CO_OP)
    coop_at(rel, circle, decide, link)

    # The co-op's admission does not fit.
    with (
        unchanged(rel),
        pytest.raises(WrongStage, match="This circle did not apply to be part of that circle"),
    ):
        rel.admitted_as_member()
    assert rel.coop == link


@pytest.mark.parametrize(
    "link",
    [
        CoopLink.NONE,
        CoopLink.APPLYING,
        CoopLink.MEMBER_OF,
        CoopLink.HAS_MEMBER,
        CoopLink.WITHDRAWN,
    ],
)
def test_a_co_op_admits_only_a_circle_that_applied(other_circle, meet, decide, unchanged, link):
    # The kitchen circle has no application waiting with the co-op.
    co_op = other_circle
    rel = meet(co_op, KITCHEN)
    coop_at(rel, co_op, decide, link)

    # The co-op's consent to admit it has nothing to admit.
    admission = decide(co_op, Purpose.ADMIT_MEMBER, circle=KITCHEN)
    with (
        unchanged(rel, co_op),
        pytest.raises(WrongStage, match="That circle has not applied to be part of this one"),
    ):
        rel.admit_member(co_op, admission)


@pytest.mark.parametrize("link", [CoopLink.APPLYING, CoopLink.MEMBER_OF])
def test_a_circle_applies_to_a_co_op_once(circle, meet, decide, unchanged, link):
    # The kitchen circle applied already, or is part of the co-op (not being incorporated).
    rel = meet(circle, CO_OP)
    coop_at(rel, circle, decide, link)

    # Another application is refused.
    application = decide(circle, Purpose.APPLY_TO_COOP, circle=CO_OP)
    with (
        unchanged(rel, circle),
        pytest.raises(WrongStage, match=r"This circle (is already part|has already applied)"),
    ):
        rel.apply_to_coop(circle, application)


@pytest.mark.parametrize("link", [CoopLink.APPLIED, CoopLink.HAS_MEMBER])
def test_a_circle_does_not_apply_to_a_circle_that_is_part_of_it(
    circle, meet, decide, unchanged, link
):
    # The garden circle applied to be part of the kitchen circle, or is part of it.
    rel = meet(circle, GARDEN)
    coop_at(rel, circle, decide, link)

    # The kitchen circle cannot apply to be part of the garden circle in turn.
    application = decide(circle, Purpose.APPLY_TO_COOP, circle=GARDEN)
    with (
        unchanged(rel, circle),
        pytest.raises(WrongStage, match="That circle is part of this one, not the other way round"),
    ):
        rel.apply_to_coop(circle, application)


@pytest.mark.parametrize("link", [CoopLink.APPLIED, CoopLink.HAS_MEMBER])
def test_a_circles_application_is_heard_once(other_circle, meet, decide, unchanged, link):
    # The kitchen circle's application has reached the co-op (and may have been admitted).
    co_op = other_circle
    rel = meet(co_op, KITCHEN)
    coop_at(rel, co_op, decide, link)

    # Another application from it does not fit.
    with (
        unchanged(rel),
        pytest.raises(WrongStage, match=r"That circle (is already part|has already applied)"),
    ):
        rel.applied_to_us(False, None)


def test_a_second_application_from_a_member_circle_is_refused_in_plain_words(
    other_circle, meet, decide, unchanged
):
    # The kitchen circle is part of the co-op; an application from it arrives again.
    co_op = other_circle
    rel = meet(co_op, KITCHEN)
    coop_at(rel, co_op, decide, CoopLink.HAS_MEMBER)

    # The refusal says so in words a person can read.
    with unchanged(rel), pytest.raises(WrongStage, match="That circle is already") as refused:
        rel.applied_to_us(False, None)
    assert "already has member" not in str(refused.value)


@pytest.mark.parametrize("link", [CoopLink.APPLYING, CoopLink.MEMBER_OF])
def test_an_application_from_the_co_op_this_circle_is_part_of_is_refused(
    circle, meet, decide, unchanged, link
):
    # The kitchen circle applied to the co-op, or is part of it.
    rel = meet(circle, CO_OP)
    coop_at(rel, circle, decide, link)

    # An application from the co-op to be part of the kitchen circle does not fit.
    with (
        unchanged(rel),
        pytest.raises(WrongStage, match="This circle is part of that one, not the other way round"),
    ):
        rel.applied_to_us(False, None)


def test_a_corporate_application_names_its_legal_entity(other_circle, meet, unchanged):
    # An application to be a corporate member that names no legal entity is refused.
    rel = meet(other_circle, KITCHEN)
    with (
        unchanged(rel),
        pytest.raises(InvalidRequest, match="A corporate member names its legal entity"),
    ):
        rel.applied_to_us(True, None)


def test_a_circle_goes_its_own_way_and_both_sides_record_it(
    circle, other_circle, meet, decide, event_names
):
    # The kitchen circle is part of the co-op; the circles peer too.
    co_op = other_circle
    kitchen_side = meet(circle, CO_OP)
    co_op_side = meet(co_op, KITCHEN)
    peering_at(kitchen_side, circle, decide, Peering.PEERS)
    peering_at(co_op_side, co_op, decide, Peering.ASKED)
    co_op_side.accept_peering(co_op, decide(co_op, Purpose.ACCEPT_PEERING, circle=KITCHEN))
    coop_at(kitchen_side, circle, decide, CoopLink.MEMBER_OF)
    coop_at(co_op_side, co_op, decide, CoopLink.HAS_MEMBER)

    # The double link is in place: its delegate and leader sit in the co-op's circle.
    co_op_side.delegate_named("cleo")
    co_op_side.propose_leader(
        co_op, decide(co_op, Purpose.PROPOSE_LEADER, circle=KITCHEN, person="dan")
    )
    kitchen_side.leader_proposed("dan")
    kitchen_side.agree_leader(
        circle, decide(circle, Purpose.AGREE_LEADER, circle=CO_OP, person="dan")
    )
    co_op_side.leader_agreed("dan")
    co_op_side.propose_leader(
        co_op, decide(co_op, Purpose.PROPOSE_LEADER, circle=KITCHEN, person="ben")
    )
    kitchen_side.leader_proposed("ben")

    # The kitchen circle consents to go its own way, leaving the co-op.
    independence = decide(circle, Purpose.GO_INDEPENDENT, circle=CO_OP)
    circle.go_independent(independence)
    kitchen_side.collect_events()
    kitchen_side.withdraw_from_coop(circle, independence)
    assert circle.status == CircleStatus.INDEPENDENT
    assert kitchen_side.coop == CoopLink.WITHDRAWN
    [withdrawn] = kitchen_side.collect_events()
    assert withdrawn.proposal_id == str(independence.id)
    assert (kitchen_side.leader, kitchen_side.proposed_leader) == (None, None)

    # The co-op hears of it: the double link ends there too.
    co_op_side.withdrew()
    assert co_op_side.coop == CoopLink.WITHDRAWN
    assert (co_op_side.delegate, co_op_side.leader, co_op_side.proposed_leader) == (
        None,
        None,
        None,
    )
    assert event_names(co_op_side)[-1] == "CoopLinkChanged"

    # They remain peers.
    assert kitchen_side.peering == co_op_side.peering == Peering.PEERS


def test_a_circle_that_left_the_co_op_answers_no_more_for_its_seats(
    circle, meet, decide, unchanged
):
    # The kitchen circle is part of the co-op, which asked its delegate about its budget.
    rel = meet(circle, CO_OP)
    coop_at(rel, circle, decide, CoopLink.MEMBER_OF)
    rel.consent_requested("p-7", 1, "Co-op budget", "The budget for 2027.", seat="delegate")

    # The kitchen circle goes its own way before its delegate answers.
    rel.withdraw_from_coop(circle, decide(circle, Purpose.GO_INDEPENDENT, circle=CO_OP))
    rel.collect_events()

    # Its delegate no longer sits in the co-op's circle: there is nothing left to answer.
    with (
        unchanged(rel),
        pytest.raises(InvalidRequest, match="That circle did not ask for this consent"),
    ):
        rel.answer_consent_request("p-7", 1, True, "", seat="delegate")


def test_going_its_own_way_leaves_only_the_co_op_the_decision_names(
    circle, meet, decide, unchanged
):
    # The kitchen circle is part of the co-op.
    rel = meet(circle, CO_OP)
    coop_at(rel, circle, decide, CoopLink.MEMBER_OF)

    # A consent to go independent that names no co-op does not take it out of this one.
    independence = decide(circle, Purpose.GO_INDEPENDENT)
    with (
        unchanged(rel, circle),
        pytest.raises(InvalidRequest, match="That proposal is about another circle"),
    ):
        rel.withdraw_from_coop(circle, independence)
    assert rel.coop == CoopLink.MEMBER_OF


@pytest.mark.parametrize("link", [*NOT_MEMBER_OF, CoopLink.WITHDRAWN])
def test_only_a_member_circle_withdraws_from_a_co_op(circle, meet, decide, unchanged, link):
    # The kitchen circle is not part of the co-op.
    rel = meet(circle, CO_OP)
    coop_at(rel, circle, decide, link)

    # Its consent to leave has nothing to leave.
    independence = decide(circle, Purpose.GO_INDEPENDENT, circle=CO_OP)
    with unchanged(rel, circle), pytest.raises(WrongStage, match="This circle is not part of"):
        rel.withdraw_from_coop(circle, independence)


@pytest.mark.parametrize("link", [*NOT_HAS_MEMBER, CoopLink.WITHDRAWN])
def test_a_withdrawal_from_a_circle_that_is_not_a_member_is_refused(
    other_circle, meet, decide, unchanged, link
):
    # The kitchen circle is not part of the co-op: its withdrawal does not fit.
    co_op = other_circle
    rel = meet(co_op, KITCHEN)
    coop_at(rel, co_op, decide, link)
    with unchanged(rel), pytest.raises(WrongStage, match="That circle is not part of this one"):
        rel.withdrew()


def test_a_circle_that_left_a_co_op_may_apply_again(circle, meet, decide):
    # The kitchen circle left the co-op; later it consents to apply again.
    rel = meet(circle, CO_OP)
    coop_at(rel, circle, decide, CoopLink.WITHDRAWN)
    rel.apply_to_coop(circle, decide(circle, Purpose.APPLY_TO_COOP, circle=CO_OP))
    assert rel.coop == CoopLink.APPLYING


# Corporate members.


def test_an_incorporated_circle_applies_to_be_a_corporate_member(
    circle, other_circle, meet, decide
):
    # The kitchen circle incorporated separately before applying to the co-op.
    co_op = other_circle
    kitchen_side = meet(circle, CO_OP)
    co_op_side = meet(co_op, KITCHEN)
    incorporate(circle, decide)

    # Its application is for corporate membership, naming its legal entity.
    application = decide(circle, Purpose.APPLY_TO_COOP, circle=CO_OP)
    assert kitchen_side.apply_to_coop(circle, application) == ENTITY
    assert (kitchen_side.coop, kitchen_side.corporate) == (CoopLink.APPLYING, True)
    assert kitchen_side.legal_entity == ENTITY

    # The co-op hears of it and consents to admit it.
    co_op_side.applied_to_us(True, ENTITY)
    assert (co_op_side.coop, co_op_side.corporate, co_op_side.legal_entity) == (
        CoopLink.APPLIED,
        True,
        ENTITY,
    )
    co_op_side.admit_member(co_op, decide(co_op, Purpose.ADMIT_MEMBER, circle=KITCHEN))
    assert (co_op_side.coop, co_op_side.corporate) == (CoopLink.HAS_MEMBER, True)

    # The kitchen circle is a corporate member of the co-op.
    kitchen_side.admitted_as_member()
    assert (kitchen_side.coop, kitchen_side.corporate) == (CoopLink.MEMBER_OF, True)
    assert not kitchen_side.corporate_pending


def test_a_member_circle_incorporates_and_stays_as_a_corporate_member(
    circle, other_circle, meet, decide, unchanged, event_names
):
    # The kitchen circle is part of the co-op; it consents to incorporate separately.
    co_op = other_circle
    kitchen_side = meet(circle, CO_OP)
    co_op_side = meet(co_op, KITCHEN)
    coop_at(kitchen_side, circle, decide, CoopLink.MEMBER_OF)
    coop_at(co_op_side, co_op, decide, CoopLink.HAS_MEMBER)
    incorporate(circle, decide)

    # It applies to stay, as a corporate member: the link goes on meanwhile.
    application = decide(circle, Purpose.APPLY_TO_COOP, circle=CO_OP)
    assert kitchen_side.apply_to_coop(circle, application) == ENTITY
    assert (kitchen_side.coop, kitchen_side.corporate_pending) == (CoopLink.MEMBER_OF, True)
    assert not kitchen_side.corporate
    assert kitchen_side.legal_entity == ENTITY
    [pending] = kitchen_side.collect_events()
    assert type(pending).__name__ == "CorporateMembershipChanged"
    assert pending.proposal_id == str(application.id)

    # It applies once.
    again = decide(circle, Purpose.APPLY_TO_COOP, circle=CO_OP)
    with (
        unchanged(kitchen_side, circle),
        pytest.raises(WrongStage, match="This circle has applied for corporate membership already"),
    ):
        kitchen_side.apply_to_coop(circle, again)

    # The co-op hears of the application, once.
    co_op_side.applied_to_us(True, ENTITY)
    assert (co_op_side.coop, co_op_side.corporate_pending) == (CoopLink.HAS_MEMBER, True)
    assert co_op_side.legal_entity == ENTITY
    with (
        unchanged(co_op_side),
        pytest.raises(WrongStage, match="That circle has applied for corporate membership already"),
    ):
        co_op_side.applied_to_us(True, ENTITY)

    # The co-op consents to admit it as a corporate member; the kitchen circle hears it.
    co_op_side.admit_member(co_op, decide(co_op, Purpose.ADMIT_MEMBER, circle=KITCHEN))
    assert (co_op_side.coop, co_op_side.corporate, co_op_side.corporate_pending) == (
        CoopLink.HAS_MEMBER,
        True,
        False,
    )
    assert event_names(co_op_side) == ["CorporateMembershipChanged"]
    kitchen_side.admitted_as_member()
    assert (kitchen_side.coop, kitchen_side.corporate, kitchen_side.corporate_pending) == (
        CoopLink.MEMBER_OF,
        True,
        False,
    )

    # Now a corporate member, it does not apply again, nor is it admitted again.
    with unchanged(kitchen_side, circle), pytest.raises(WrongStage, match="This circle is already"):
        kitchen_side.apply_to_coop(circle, decide(circle, Purpose.APPLY_TO_COOP, circle=CO_OP))
    with unchanged(kitchen_side), pytest.raises(WrongStage, match="did not apply"):
        kitchen_side.admitted_as_member()
    with unchanged(co_op_side), pytest.raises(WrongStage, match="That circle is already"):
        co_op_side.applied_to_us(True, ENTITY)
    admission = decide(co_op, Purpose.ADMIT_MEMBER, circle=KITCHEN)
    with unchanged(co_op_side, co_op), pytest.raises(WrongStage, match="has not applied"):
        co_op_side.admit_member(co_op, admission)


def test_a_member_circle_that_withdraws_drops_its_corporate_application(
    circle, meet, decide, unchanged
):
    # The kitchen circle, part of the co-op, incorporated and applied to be a corporate member.
    rel = meet(circle, CO_OP)
    coop_at(rel, circle, decide, CoopLink.MEMBER_OF)
    incorporate(circle, decide)
    rel.apply_to_coop(circle, decide(circle, Purpose.APPLY_TO_COOP, circle=CO_OP))
    assert rel.corporate_pending

    # It goes its own way before the co-op decides: the application goes with it.
    rel.withdraw_from_coop(circle, decide(circle, Purpose.GO_INDEPENDENT, circle=CO_OP))
    assert rel.coop == CoopLink.WITHDRAWN
    assert not rel.corporate_pending

    # It applies again later and is admitted, as a corporate member: a second admission then
    # does not fit (a stale pending application would take it as admitting that application).
    rel.apply_to_coop(circle, decide(circle, Purpose.APPLY_TO_COOP, circle=CO_OP))
    rel.admitted_as_member()
    assert (rel.coop, rel.corporate, rel.corporate_pending) == (CoopLink.MEMBER_OF, True, False)
    with unchanged(rel), pytest.raises(WrongStage, match="did not apply"):
        rel.admitted_as_member()


def test_the_co_op_drops_the_corporate_application_of_a_circle_that_withdrew(
    other_circle, meet, decide
):
    # The kitchen circle, part of the co-op, applied to be a corporate member.
    co_op = other_circle
    rel = meet(co_op, KITCHEN)
    coop_at(rel, co_op, decide, CoopLink.HAS_MEMBER)
    rel.applied_to_us(True, ENTITY)
    assert rel.corporate_pending

    # It withdraws before the co-op decides: there is no application left to admit.
    rel.withdrew()
    assert rel.coop == CoopLink.WITHDRAWN
    assert not rel.corporate_pending


# The double link: a member circle's delegate and leader sit in the co-op's circle too.


def test_a_member_circle_tells_the_co_op_its_delegate(other_circle, meet, decide, event_names):
    # The kitchen circle is part of the co-op.
    co_op = other_circle
    rel = meet(co_op, KITCHEN)
    coop_at(rel, co_op, decide, CoopLink.HAS_MEMBER)

    # It selected Cleo as its delegate and tells the co-op.
    rel.delegate_named(" cleo ")
    assert rel.delegate == "cleo"
    [named] = rel.collect_events()
    assert (type(named).__name__, named.role, named.person, named.by_us) == (
        "LinkChanged",
        "delegate",
        "cleo",
        False,
    )

    # Later Dan takes over.
    rel.delegate_named("dan")
    assert rel.delegate == "dan"
    assert event_names(rel) == ["LinkChanged"]


@pytest.mark.parametrize("link", [*NOT_HAS_MEMBER, CoopLink.WITHDRAWN])
def test_a_delegate_from_a_circle_that_is_not_a_member_is_refused(
    other_circle, meet, decide, unchanged, link
):
    # The kitchen circle is not part of the co-op: its delegate has no seat there.
    co_op = other_circle
    rel = meet(co_op, KITCHEN)
    coop_at(rel, co_op, decide, link)
    with (
        unchanged(rel),
        pytest.raises(WrongStage, match="Only a circle that is part of this one sends a delegate"),
    ):
        rel.delegate_named("cleo")
    assert rel.delegate is None


def test_a_delegate_is_named(other_circle, meet, decide, unchanged):
    # A member circle's delegate with no name is refused.
    rel = meet(other_circle, KITCHEN)
    coop_at(rel, other_circle, decide, CoopLink.HAS_MEMBER)
    with unchanged(rel), pytest.raises(InvalidRequest, match="Name the delegate"):
        rel.delegate_named("  ")


def test_the_co_op_proposes_a_leader_and_the_member_circle_agrees(
    circle, other_circle, meet, decide
):
    # The kitchen circle is part of the co-op.
    co_op = other_circle
    kitchen_side = meet(circle, CO_OP)
    co_op_side = meet(co_op, KITCHEN)
    coop_at(kitchen_side, circle, decide, CoopLink.MEMBER_OF)
    coop_at(co_op_side, co_op, decide, CoopLink.HAS_MEMBER)

    # The co-op consents to propose Dan (of the kitchen circle) as the kitchen circle's leader.
    proposal = decide(co_op, Purpose.PROPOSE_LEADER, circle=KITCHEN, person="dan")
    assert co_op_side.propose_leader(co_op, proposal) == "dan"
    assert (co_op_side.proposed_leader, co_op_side.leader) == ("dan", None)
    [proposed] = co_op_side.collect_events()
    assert (proposed.role, proposed.person, proposed.by_us) == ("proposed_leader", "dan", True)

    # The kitchen circle hears of it.
    kitchen_side.leader_proposed(" dan ")
    assert kitchen_side.proposed_leader == "dan"

    # It consents to Dan as its leader.
    agreement = decide(circle, Purpose.AGREE_LEADER, circle=CO_OP, person="dan")
    assert kitchen_side.agree_leader(circle, agreement) == "dan"
    assert (kitchen_side.leader, kitchen_side.proposed_leader) == ("dan", None)

    # The co-op hears the leader was agreed.
    co_op_side.leader_agreed("dan")
    assert (co_op_side.leader, co_op_side.proposed_leader) == ("dan", None)
    [agreed] = co_op_side.collect_events()
    assert (agreed.role, agreed.person, agreed.by_us) == ("leader", "dan", False)


@pytest.mark.parametrize("link", [*NOT_HAS_MEMBER, CoopLink.WITHDRAWN])
def test_the_co_op_proposes_leaders_only_to_its_member_circles(
    other_circle, meet, decide, unchanged, link
):
    # The kitchen circle is not part of the co-op.
    co_op = other_circle
    rel = meet(co_op, KITCHEN)
    coop_at(rel, co_op, decide, link)

    # The co-op's consent to propose its leader binds nothing.
    proposal = decide(co_op, Purpose.PROPOSE_LEADER, circle=KITCHEN, person="dan")
    with (
        unchanged(rel, co_op),
        pytest.raises(WrongStage, match="Leaders are agreed with circles that are part of this"),
    ):
        rel.propose_leader(co_op, proposal)


@pytest.mark.parametrize("link", [*NOT_MEMBER_OF, CoopLink.WITHDRAWN])
def test_only_the_co_op_a_circle_is_part_of_proposes_its_leader(
    circle, meet, decide, unchanged, link
):
    # The kitchen circle is not part of the other circle: its leader proposal does not fit.
    rel = meet(circle, CO_OP)
    coop_at(rel, circle, decide, link)
    with (
        unchanged(rel),
        pytest.raises(WrongStage, match="Only the co-op this circle is part of proposes"),
    ):
        rel.leader_proposed("dan")


def test_a_proposed_leader_is_named(circle, meet, decide, unchanged):
    rel = meet(circle, CO_OP)
    coop_at(rel, circle, decide, CoopLink.MEMBER_OF)
    with unchanged(rel), pytest.raises(InvalidRequest, match="Name the leader"):
        rel.leader_proposed(" ")


@pytest.mark.parametrize("link", [CoopLink.MEMBER_OF, CoopLink.NONE])
def test_a_circle_agrees_only_to_a_leader_the_co_op_proposed(circle, meet, decide, unchanged, link):
    # The co-op has proposed no leader to the kitchen circle (or it is not part of it).
    rel = meet(circle, CO_OP)
    coop_at(rel, circle, decide, link)

    # The kitchen circle's consent to a leader agrees to nothing.
    agreement = decide(circle, Purpose.AGREE_LEADER, circle=CO_OP, person="dan")
    with (
        unchanged(rel, circle),
        pytest.raises(WrongStage, match="The co-op has not proposed a leader"),
    ):
        rel.agree_leader(circle, agreement)


def test_a_circle_agrees_to_the_leader_proposed_not_another(circle, meet, decide, unchanged):
    # The co-op proposed Dan as the kitchen circle's leader.
    rel = meet(circle, CO_OP)
    coop_at(rel, circle, decide, CoopLink.MEMBER_OF)
    rel.leader_proposed("dan")
    rel.collect_events()

    # The circle consents to Ben instead: that is not an agreement.
    agreement = decide(circle, Purpose.AGREE_LEADER, circle=CO_OP, person="ben")
    with (
        unchanged(rel, circle),
        pytest.raises(InvalidRequest, match="That is not the leader the co-op proposed"),
    ):
        rel.agree_leader(circle, agreement)
    assert (rel.proposed_leader, rel.leader) == ("dan", None)


@pytest.mark.parametrize(
    ("person", "before", "error", "match"),
    [
        ("eli", None, NotPermitted, "The leader must be a full participant"),
        ("gus", None, NotPermitted, "Guests do not wear hats"),
        ("zoe", None, NotFound, "This person is not a participant of the circle"),
        ("dan", "leaves", NotPermitted, "This person has left the circle"),
        ("dan", "steps back", NotPermitted, "This person has stepped back"),
        ("dan", "is the delegate", NotPermitted, "are never the same person"),
        ("dan", "is the leader", InvalidRequest, "already wears the leader hat"),
    ],
    ids=["learning", "guest", "stranger", "left", "stepped back", "delegate", "leader already"],
)
def test_the_agreed_leader_can_wear_the_leader_hat(
    circle, today, meet, decide, unchanged, person, before, error, match
):
    # The kitchen circle is part of the co-op, which proposes someone as its leader.
    rel = meet(circle, CO_OP)
    coop_at(rel, circle, decide, CoopLink.MEMBER_OF)
    rel.leader_proposed(person)
    agreement = decide(circle, Purpose.AGREE_LEADER, circle=CO_OP, person=person)

    # Meanwhile Dan leaves, steps back, or wears the delegate's or the leader's hat.
    if before == "leaves":
        circle.leave("dan", "dan", today)
    elif before == "steps back":
        circle.step_back("dan", "dan", today)
    elif before == "is the delegate":
        circle.put_on_hat(DELEGATE, "dan", today, REVIEW)
    elif before == "is the leader":
        circle.put_on_hat(LEADER, "dan", today, REVIEW)

    # The circle's consent cannot make them its leader.
    with unchanged(rel, circle), pytest.raises(error, match=match):
        rel.agree_leader(circle, agreement)
    assert rel.leader is None


def test_a_leader_agreed_that_was_not_proposed_is_refused(other_circle, meet, decide, unchanged):
    # The kitchen circle is part of the co-op, which has proposed no leader to it.
    co_op = other_circle
    rel = meet(co_op, KITCHEN)
    coop_at(rel, co_op, decide, CoopLink.HAS_MEMBER)

    # The kitchen circle's agreement to a leader does not fit.
    with (
        unchanged(rel),
        pytest.raises(WrongStage, match="This circle proposed no leader to that circle"),
    ):
        rel.leader_agreed("dan")

    # The co-op proposes Dan; an agreement to Ben does not fit either.
    rel.propose_leader(co_op, decide(co_op, Purpose.PROPOSE_LEADER, circle=KITCHEN, person="dan"))
    with (
        unchanged(rel),
        pytest.raises(WrongStage, match="agreed to a leader this circle did not propose"),
    ):
        rel.leader_agreed("ben")
    assert (rel.proposed_leader, rel.leader) == ("dan", None)


@pytest.mark.parametrize("link", [CoopLink.NONE, CoopLink.APPLIED, CoopLink.MEMBER_OF])
def test_a_leader_agreed_by_a_circle_that_is_not_a_member_is_refused(
    other_circle, meet, decide, unchanged, link
):
    # The kitchen circle is not part of the co-op: its agreement to a leader does not fit.
    co_op = other_circle
    rel = meet(co_op, KITCHEN)
    coop_at(rel, co_op, decide, link)
    with unchanged(rel), pytest.raises(WrongStage, match="proposed no leader to that circle"):
        rel.leader_agreed("dan")


def test_a_consented_selection_gives_the_member_circle_its_delegate(
    circle, now, today, selection_in_round
):
    # The kitchen circle selects Dan as its delegate to the co-op, by consent.
    selection = selection_in_round(circle, DELEGATE, ["dan"])
    for person_id in circle.full_participants():
        selection.consent(circle, person_id, now)
    assert selection.close_consent_round(circle, "ben", now) == Stage.CONSENTED

    # Dan wears the delegate hat until the selection's review date.
    circle.give_selected_hat(selection, today)
    assert circle.wearers(DELEGATE) == ["dan"]
    term = circle.term(DELEGATE, "dan")
    assert (term.started, term.review_date, term.selection_id) == (
        today,
        selection.review_date,
        str(selection.id),
    )


def test_a_selection_gives_no_hat_to_someone_who_cannot_wear_it_by_then(
    circle, now, today, selection_in_round, unchanged
):
    # The kitchen circle consents to Dan as its delegate...
    selection = selection_in_round(circle, DELEGATE, ["dan"])
    for person_id in circle.full_participants():
        selection.consent(circle, person_id, now)
    selection.close_consent_round(circle, "ben", now)

    # ...but meanwhile Dan became its leader: the two hats are never worn by one person.
    circle.put_on_hat(LEADER, "dan", today, REVIEW)
    with unchanged(circle), pytest.raises(NotPermitted, match="never the same person"):
        circle.give_selected_hat(selection, today)
    assert circle.wearers(DELEGATE) == []


def test_another_circles_selection_gives_no_hat_here(
    circle, other_circle, now, today, selection_in_round, unchanged
):
    # The other circle consented to select Dan (of its own) as its delegate.
    selection = selection_in_round(other_circle, DELEGATE, ["dan"])
    for person_id in other_circle.full_participants():
        selection.consent(other_circle, person_id, now)
    selection.close_consent_round(other_circle, "ben", now)

    # It gives no hat in the kitchen circle.
    with (
        unchanged(circle, selection),
        pytest.raises(InvalidRequest, match="That selection belongs to another circle"),
    ):
        circle.give_selected_hat(selection, today)


def test_a_dissolved_circle_gives_no_hat(
    circle, now, today, selection_in_round, dissolve, unchanged
):
    # The circle consented to Dan as its delegate, then dissolved.
    selection = selection_in_round(circle, DELEGATE, ["dan"])
    for person_id in circle.full_participants():
        selection.consent(circle, person_id, now)
    selection.close_consent_round(circle, "ben", now)
    dissolve(circle)

    # Nothing new happens in a dissolved circle.
    with unchanged(circle), pytest.raises(WrongStage, match="dissolved"):
        circle.give_selected_hat(selection, today)


# The other circle asks for this circle's consent, or its seats' in the co-op.


@pytest.mark.parametrize(
    ("peering", "link"),
    [
        (Peering.PEERS, CoopLink.NONE),
        (Peering.NONE, CoopLink.MEMBER_OF),
        (Peering.NONE, CoopLink.HAS_MEMBER),
    ],
    ids=["peer", "co-op", "member circle"],
)
def test_a_linked_circle_asks_for_this_circles_consent(
    circle, meet, decide, event_names, peering, link
):
    # The garden circle is linked to the kitchen circle.
    rel = meet(circle, GARDEN)
    peering_at(rel, circle, decide, peering)
    coop_at(rel, circle, decide, link)

    # It asks the kitchen circle to consent to its proposal, in its first consent round.
    rel.consent_requested("p-1", 1, " Shared compost ", "Share one compost heap.")
    assert rel.consent_requests == {
        "p-1:": {
            "round": 1,
            "title": "Shared compost",
            "text": "Share one compost heap.",
            "seat": "",
        }
    }
    assert rel.seat_requests == {}
    assert event_names(rel) == ["ConsentRequested"]


@pytest.mark.parametrize(
    ("peering", "link"),
    [
        (Peering.NONE, CoopLink.NONE),
        (Peering.REQUESTED, CoopLink.NONE),
        (Peering.ASKED, CoopLink.NONE),
        (Peering.ENDED, CoopLink.NONE),
        (Peering.NONE, CoopLink.APPLYING),
        (Peering.NONE, CoopLink.APPLIED),
        (Peering.NONE, CoopLink.WITHDRAWN),
    ],
    ids=["stranger", "requested", "asked", "ended", "applying", "applied", "withdrawn"],
)
def test_only_linked_circles_ask_for_this_circles_consent(
    circle, meet, decide, unchanged, peering, link
):
    # The garden circle neither peers with the kitchen circle nor is part of it (or it of it).
    rel = meet(circle, GARDEN)
    peering_at(rel, circle, decide, peering)
    coop_at(rel, circle, decide, link)

    # Its request for consent does not fit.
    with (
        unchanged(rel),
        pytest.raises(WrongStage, match="Only linked circles ask for this circle's consent"),
    ):
        rel.consent_requested("p-1", 1, "Shared compost", "Share one compost heap.")


def test_a_request_for_consent_names_the_proposal(circle, meet, decide, unchanged):
    rel = meet(circle, GARDEN)
    peering_at(rel, circle, decide, Peering.PEERS)
    with unchanged(rel), pytest.raises(InvalidRequest, match="A request names the proposal"):
        rel.consent_requested("p-1", 1, "  ", "Share one compost heap.")


def test_the_co_op_asks_this_circles_delegate_and_leader(circle, meet, decide):
    # The kitchen circle is part of the co-op.
    rel = meet(circle, CO_OP)
    coop_at(rel, circle, decide, CoopLink.MEMBER_OF)

    # The co-op's consent round asks the seats of the kitchen circle's delegate and leader.
    rel.consent_requested("p-7", 2, "Co-op budget", "The budget for 2027.", seat="delegate")
    rel.consent_requested("p-7", 2, "Co-op budget", "The budget for 2027.", seat="leader")
    assert rel.seat_requests == {
        "p-7:delegate": {
            "round": 2,
            "title": "Co-op budget",
            "text": "The budget for 2027.",
            "seat": "delegate",
        },
        "p-7:leader": {
            "round": 2,
            "title": "Co-op budget",
            "text": "The budget for 2027.",
            "seat": "leader",
        },
    }
    assert rel.consent_requests == {}


@pytest.mark.parametrize(
    ("peering", "link", "seat"),
    [
        (Peering.PEERS, CoopLink.NONE, "delegate"),
        (Peering.NONE, CoopLink.HAS_MEMBER, "leader"),
        (Peering.NONE, CoopLink.APPLYING, "delegate"),
        (Peering.NONE, CoopLink.WITHDRAWN, "delegate"),
        (Peering.NONE, CoopLink.MEMBER_OF, "facilitator"),
    ],
    ids=["peer", "member circle", "applying", "withdrawn", "no such seat"],
)
def test_only_the_co_op_asks_this_circles_seats(
    circle, meet, decide, unchanged, peering, link, seat
):
    # The garden circle is not the co-op the kitchen circle is part of, or names no seat of it.
    rel = meet(circle, GARDEN)
    peering_at(rel, circle, decide, peering)
    coop_at(rel, circle, decide, link)

    # Its request to a seat does not fit.
    with (
        unchanged(rel),
        pytest.raises(WrongStage, match="Only the co-op this circle is part of asks its seats"),
    ):
        rel.consent_requested("p-7", 1, "Co-op budget", "The budget.", seat=seat)


def test_a_circle_answers_a_request_for_consent_by_its_own_consent(
    circle, meet, decide, unchanged, event_names
):
    # The garden circle, a peer, asks the kitchen circle to consent to its proposal.
    rel = meet(circle, GARDEN)
    peering_at(rel, circle, decide, Peering.PEERS)
    rel.consent_requested("p-1", 1, "Shared compost", "Share one compost heap.")
    rel.collect_events()

    # The request is there to answer.
    rel.check_consent_request("p-1", 1)

    # The kitchen circle consents to answer that it consents, with a concern.
    answer = decide(
        circle,
        Purpose.ANSWER_CONSENT_REQUEST,
        circle=GARDEN,
        request="p-1",
        round=1,
        consents=True,
    )
    assert answer.stage == Stage.CONSENTED
    rel.answer_consent_request("p-1", 1, True, " Mind the rats ")
    assert rel.consent_requests == {}
    [answered] = rel.collect_events()
    assert type(answered).__name__ == "ConsentRequestAnswered"
    assert (answered.proposal, answered.round_number, answered.seat) == ("p-1", 1, "")
    assert (answered.consents, answered.argument) == (True, "Mind the rats")

    # It answers once.
    with (
        unchanged(rel),
        pytest.raises(InvalidRequest, match="That circle did not ask for this consent"),
    ):
        rel.answer_consent_request("p-1", 1, True, "")
    assert event_names(rel) == []


def test_an_objection_to_another_circles_proposal_needs_its_argument(
    circle, meet, decide, unchanged
):
    # The garden circle asks for the kitchen circle's consent.
    rel = meet(circle, GARDEN)
    peering_at(rel, circle, decide, Peering.PEERS)
    rel.consent_requested("p-1", 1, "Shared compost", "Share one compost heap.")
    rel.collect_events()

    # An objection without its argument is refused; the request stays open.
    with unchanged(rel), pytest.raises(InvalidRequest, match="An objection needs its argument"):
        rel.answer_consent_request("p-1", 1, False, "   ")
    assert "p-1:" in rel.consent_requests

    # With its argument, it is the kitchen circle's answer.
    rel.answer_consent_request("p-1", 1, False, " The heap would sit by our kitchen door ")
    [answered] = rel.collect_events()
    assert (answered.consents, answered.argument) == (
        False,
        "The heap would sit by our kitchen door",
    )
    assert rel.consent_requests == {}


def test_consent_that_was_not_asked_for_is_refused(circle, meet, decide, unchanged):
    # The garden circle asked the kitchen circle about one proposal.
    rel = meet(circle, GARDEN)
    peering_at(rel, circle, decide, Peering.PEERS)
    rel.consent_requested("p-1", 1, "Shared compost", "Share one compost heap.")
    rel.collect_events()

    # An answer about another proposal has no request to answer.
    with (
        unchanged(rel),
        pytest.raises(InvalidRequest, match="That circle did not ask for this consent"),
    ):
        rel.check_consent_request("p-2", 1)
    with (
        unchanged(rel),
        pytest.raises(InvalidRequest, match="That circle did not ask for this consent"),
    ):
        rel.answer_consent_request("p-2", 1, True, "")


def test_an_answer_for_another_round_is_refused(circle, meet, decide, unchanged):
    # The garden circle asked in its first round, then, after integrating an objection, again.
    rel = meet(circle, GARDEN)
    peering_at(rel, circle, decide, Peering.PEERS)
    rel.consent_requested("p-1", 1, "Shared compost", "Share one compost heap.")
    rel.consent_requested("p-1", 2, "Shared compost", "Share one heap, away from doors.")
    rel.collect_events()
    assert rel.consent_requests["p-1:"]["round"] == 2

    # An answer for the first round is an answer for a round that is over.
    with (
        unchanged(rel),
        pytest.raises(WrongStage, match="That request is for another consent round"),
    ):
        rel.check_consent_request("p-1", 1)
    with (
        unchanged(rel),
        pytest.raises(WrongStage, match="That request is for another consent round"),
    ):
        rel.answer_consent_request("p-1", 1, True, "")

    # The answer for the second round is taken.
    rel.answer_consent_request("p-1", 2, True, "")
    assert rel.consent_requests == {}


def test_a_seat_answers_only_what_the_co_op_asked_that_seat(circle, meet, decide, unchanged):
    # The co-op asked the kitchen circle about one proposal, and its delegate about another.
    rel = meet(circle, CO_OP)
    coop_at(rel, circle, decide, CoopLink.MEMBER_OF)
    rel.consent_requested("p-1", 1, "Shared compost", "Share one compost heap.")
    rel.consent_requested("p-2", 1, "Co-op budget", "The budget.", seat="delegate")
    rel.collect_events()

    # The delegate cannot answer for the circle, the circle for the delegate, nor the leader.
    for proposal, seat in (("p-1", "delegate"), ("p-2", ""), ("p-2", "leader")):
        with (
            unchanged(rel),
            pytest.raises(InvalidRequest, match="That circle did not ask for this consent"),
        ):
            rel.answer_consent_request(proposal, 1, True, "", seat=seat)

    # The delegate answers what the delegate was asked; the circle's request stays open.
    rel.check_consent_request("p-2", 1, seat="delegate")
    rel.answer_consent_request("p-2", 1, False, "Too little for care", seat="delegate")
    [answered] = rel.collect_events()
    assert (answered.seat, answered.consents) == ("delegate", False)
    assert rel.seat_requests == {}
    assert list(rel.consent_requests) == ["p-1:"]


# What did not fit.


def test_a_message_that_did_not_fit_is_recorded_and_changes_nothing_else(circle, meet, unchanged):
    # The co-op's admission came though the kitchen circle never applied: it was refused.
    rel = meet(circle, CO_OP)
    with unchanged(rel), pytest.raises(WrongStage, match="did not apply") as refused:
        rel.admitted_as_member()

    # The refusal is recorded on the relationship, with its reason; nothing else changes.
    rel.record_refusal("coop.admit", str(refused.value))
    assert rel.refusals == ["coop.admit: This circle did not apply to be part of that circle"]
    [recorded] = rel.collect_events()
    assert type(recorded).__name__ == "MessageRefused"
    assert (rel.coop, rel.peering) == (CoopLink.NONE, Peering.NONE)

    # Later refusals are added after it.
    rel.record_refusal("support.offer", "An offer came for a request that is accepted")
    assert len(rel.refusals) == 2


# A co-op's policies that bind its member circles.


def test_a_co_op_policy_may_bind_the_circles_that_are_part_of_it(other_circle, today, decide):
    # The co-op consents to a policy for every circle that is part of it.
    co_op = other_circle
    proposal = decide(co_op, Purpose.ADOPT_POLICY, binds_member_circles=True)
    assert Decision.adopt(co_op, proposal, today).binding

    # Its other policies are its own.
    assert not Decision.adopt(co_op, decide(co_op, Purpose.ADOPT_POLICY), today).binding
    own = decide(co_op, Purpose.ADOPT_POLICY, binds_member_circles=False)
    assert not Decision.adopt(co_op, own, today).binding


# Someone who left asks for their personal data to be erased (on every node that holds it).


def test_the_personal_data_of_someone_who_left_is_erased_from_the_record(
    circle, today, event_names
):
    # Dan leaves with a note of thanks.
    circle.leave("ada", "dan", today, note="Thank you, Dan, for five years of Sunday soup")
    circle.collect_events()

    # He asks for his personal data to be erased; Ada, the secretary, records that it was.
    circle.record_erasure("ada", "dan", ["body-1", "body-2"])

    # The record keeps his id only: the note that named him is gone.
    dan = circle.participant("dan")
    assert (dan.person_id, dan.status, dan.note_of_appreciation) == ("dan", Membership.LEFT, None)
    [erased] = circle.collect_events()
    assert type(erased).__name__ == "PersonalDataErased"
    assert (erased.person_id, erased.bodies) == ("dan", ["body-1", "body-2"])
    assert event_names(circle) == []


def test_while_the_circle_has_no_secretary_a_full_participant_records_an_erasure(
    forming_circle, today, unchanged
):
    # The forming circle has no secretary yet; Ben leaves.
    circle = forming_circle
    circle.leave("ben", "ben", today)

    # A learning participant cannot record his erasure; a full participant can.
    with unchanged(circle), pytest.raises(NotPermitted, match="Only full participants can erase"):
        circle.record_erasure("eli", "ben", [])
    circle.record_erasure("dan", "ben", [])


@pytest.mark.parametrize("status", ["active", "stepped back", "applied"])
def test_personal_data_is_erased_only_for_someone_who_left(circle, today, unchanged, status):
    # Dan is still in the circle (or stepped back); Fay has applied.
    person = "dan"
    if status == "stepped back":
        circle.step_back("dan", "dan", today)
    elif status == "applied":
        person = "fay"
        circle.receive_application("fay", "full", today)

    # Their personal data is not erased from the record while they are part of the circle.
    with (
        unchanged(circle),
        pytest.raises(WrongStage, match="Personal data is erased once someone has left the circle"),
    ):
        circle.record_erasure("ada", person, [])


def test_only_the_records_keeper_records_an_erasure(circle, today, unchanged):
    # Dan left; Cleo, who does not keep the records, cannot record his erasure.
    circle.leave("dan", "dan", today, note="Thank you")
    with (
        unchanged(circle),
        pytest.raises(NotPermitted, match="Only the secretary can erase someone's personal data"),
    ):
        circle.record_erasure("cleo", "dan", [])
    assert circle.participant("dan").note_of_appreciation == "Thank you"

    # Nobody's erasure is recorded for someone who was never there.
    with unchanged(circle), pytest.raises(NotFound, match="not a participant of the circle"):
        circle.record_erasure("ada", "zoe", [])
