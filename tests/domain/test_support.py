"""Support between circles: a circle consents to ask (chosen circles or the whole network),
offers come back, it consents to accept one; delivery and reflections are recorded on both
sides. The request as another circle sees it is where that circle makes its offer. Facts from
the other circle that do not fit are refused and change nothing."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

import pytest

from domain.errors import InvalidRequest, NotPermitted, WrongStage
from domain.proposal import SUBJECT_KEYS, Proposal
from domain.support import NETWORK, SupportRequest, seen_request_id
from domain.values import Purpose, SupportKind, SupportStatus

GARDEN = "node-garden"  # a peer the kitchen circle asks
ORCHARD = "node-orchard"  # another peer it asks
BAKERY = "node-bakery"  # a circle it did not ask
KITCHEN = "node-kitchen"  # the kitchen circle, as the garden circle refers to it
ITS_REQUEST = "7b1e0f1c-0000-4000-8000-000000000001"  # the kitchen's request, in its own records

NEED = "Two people to cover the Sunday lunches in May."


@pytest.fixture
def ask(decide):
    """The kitchen circle's consented request for support, and the request it opens."""

    def run(circle, *, kind="people", circles=(GARDEN, ORCHARD), text=NEED):
        proposal = decide(circle, Purpose.REQUEST_SUPPORT, text=text, kind=kind, circles=[*circles])
        request = SupportRequest.ask(circle, proposal)
        request.collect_events()
        return request

    return run


@pytest.fixture
def seen(other_circle):
    """The kitchen circle's request as it reached the garden circle (`other_circle`)."""

    def run(kind="people", text=NEED):
        request = SupportRequest.seen(other_circle, KITCHEN, ITS_REQUEST, kind, text)
        request.collect_events()
        return request

    return run


def accept(request, circle, decide, helper=GARDEN):
    """The kitchen circle consents to accept `helper`'s offer."""
    proposal = decide(circle, Purpose.ACCEPT_OFFER, request=str(request.id), offer=helper)
    return request.accept_offer(circle, proposal)


def offer(request, garden, decide, text="Sam and Kit can come on Sundays"):
    """The garden circle consents to offer its support."""
    proposal = decide(
        garden, Purpose.OFFER_SUPPORT, text=text, circle=KITCHEN, request=str(request.id)
    )
    request.make_offer(garden, proposal)


# The asking circle's side.


def test_a_circle_asks_chosen_circles_for_support_by_consent(circle, decide, event_names):
    # The kitchen circle consents to ask the orchard and garden circles for people.
    proposal = decide(
        circle, Purpose.REQUEST_SUPPORT, text=NEED, kind="people", circles=[ORCHARD, GARDEN]
    )
    request = SupportRequest.ask(circle, proposal)

    # Its request is open, its own, addressed to the circles it chose.
    assert request.is_ours
    assert (request.circle_id, request.origin, request.origin_id) == (circle.id, None, None)
    assert (request.kind, request.text, request.to) == (
        SupportKind.PEOPLE,
        NEED,
        [GARDEN, ORCHARD],
    )
    assert request.status == SupportStatus.OPEN
    assert (request.offers, request.accepted, request.delivery, request.reflections) == (
        {},
        None,
        None,
        {},
    )
    assert event_names(request) == ["SupportRequested"]

    # Each request is a new one.
    assert SupportRequest.ask(circle, proposal).id != request.id


@pytest.mark.parametrize("circles", [None, []], ids=["unnamed", "empty"])
def test_a_request_that_names_no_circle_goes_to_the_network(circle, decide, circles):
    # The kitchen circle consents to ask for experience without choosing whom to ask.
    subject = {"kind": "experience"} | ({} if circles is None else {"circles": circles})
    proposal = decide(circle, Purpose.REQUEST_SUPPORT, **subject)

    # The request goes to every circle in the network.
    request = SupportRequest.ask(circle, proposal)
    assert request.to == [NETWORK]
    assert request.kind == SupportKind.EXPERIENCE


@pytest.mark.parametrize("circles", [GARDEN, [GARDEN, 7], {"garden": True}])
def test_a_request_names_circles_by_their_references(circle, decide, unchanged, circles):
    # The circle consented to a request whose circles are not a list of references.
    proposal = decide(circle, Purpose.REQUEST_SUPPORT, kind="people", circles=circles)

    # No request is opened from it.
    with (
        unchanged(circle, proposal),
        pytest.raises(InvalidRequest, match="Name the circles to ask, or ask the network"),
    ):
        SupportRequest.ask(circle, proposal)


# Every step of support that binds a circle takes one of its consent decisions: its own
# proposal of that step's purpose, consented, while the circle is open. One table holds the
# steps and the proposals that do not bind, each with the refusal it meets.


class Step(NamedTuple):
    """A step set up to be taken by `circle` on a proposal of `purpose` about `subject`:
    `take(proposal)` takes it, and would change `changes`. `other` is another circle."""

    circle: Any
    other: Any
    purpose: str
    subject: dict[str, str]
    changes: list[Any]
    take: Callable[[Any], object]


def _asking(circle, other_circle, ask, seen):
    # The kitchen circle asks for support.
    return Step(
        circle,
        other_circle,
        Purpose.REQUEST_SUPPORT,
        {"kind": "people"},
        [circle],
        lambda proposal: SupportRequest.ask(circle, proposal),
    )


def _accepting(circle, other_circle, ask, seen):
    # The garden circle offered; the kitchen circle accepts its offer.
    request = ask(circle)
    request.offer_received(GARDEN, "Sam and Kit")
    request.collect_events()
    return Step(
        circle,
        other_circle,
        Purpose.ACCEPT_OFFER,
        {"request": str(request.id), "offer": GARDEN},
        [request, circle],
        lambda proposal: request.accept_offer(circle, proposal),
    )


def _offering(circle, other_circle, ask, seen):
    # The garden circle (`other_circle`) offers for the kitchen circle's request.
    garden, request = other_circle, seen()
    return Step(
        garden,
        circle,
        Purpose.OFFER_SUPPORT,
        {"circle": KITCHEN, "request": str(request.id)},
        [request, garden],
        lambda proposal: request.make_offer(garden, proposal),
    )


STEPS = {"ask": _asking, "accept_offer": _accepting, "make_offer": _offering}
REFUSALS = {
    "in-consent-round": (WrongStage, "Only a consented proposal binds the circle"),
    "another-purpose": (InvalidRequest, "That proposal is to adopt policy"),
    "another-circle": (InvalidRequest, "That proposal belongs to another circle"),
    "dissolved": (WrongStage, "dissolved; its records are kept but nothing new happens"),
}


@pytest.mark.parametrize("refusal", list(REFUSALS))
@pytest.mark.parametrize("command", list(STEPS))
def test_only_a_consented_proposal_of_its_purpose_takes_a_step_of_support(
    circle, other_circle, ask, seen, decide, to_consent_round, dissolve, unchanged, command, refusal
):
    step = STEPS[command](circle, other_circle, ask, seen)
    if refusal == "in-consent-round":
        # The step's proposal is still in its consent round.
        proposal = to_consent_round(step.circle, purpose=step.purpose, subject=step.subject)
    elif refusal == "another-purpose":
        # The circle consented to a proposal of another purpose.
        proposal = decide(step.circle, Purpose.ADOPT_POLICY, **step.subject)
    elif refusal == "another-circle":
        # Another circle consented to the step.
        proposal = decide(step.other, step.purpose, **step.subject)
    else:
        # The circle consented to the step, then dissolved.
        proposal = decide(step.circle, step.purpose, **step.subject)
        dissolve(step.circle)

    # The step is refused, and nothing changes.
    error, message = REFUSALS[refusal]
    with unchanged(*step.changes, proposal, step.other), pytest.raises(error, match=message):
        step.take(proposal)


@pytest.mark.parametrize(
    ("purpose", "key"),
    [
        (purpose, key)
        for purpose in (Purpose.REQUEST_SUPPORT, Purpose.OFFER_SUPPORT, Purpose.ACCEPT_OFFER)
        for key in SUBJECT_KEYS[purpose]
    ],
)
def test_a_proposal_about_support_names_what_it_is_about(circle, now, unchanged, purpose, key):
    # Each names the kind of support, or the request (and its circle, or the offer taken).
    subject = {"kind": "people", "circle": GARDEN, "request": ITS_REQUEST, "offer": GARDEN}
    del subject[key]
    words = purpose.replace("_", " ")
    with unchanged(circle), pytest.raises(InvalidRequest, match=f"to {words} must name {key}"):
        Proposal.draft(circle, "cleo", "Support", NEED, now, purpose=purpose, subject=subject)


def test_a_request_for_support_is_of_a_known_kind(circle, now, unchanged):
    # A request for money is not one of the kinds of support between circles.
    with (
        unchanged(circle),
        pytest.raises(InvalidRequest, match="Unknown kind of support 'money'; choose one of"),
    ):
        Proposal.draft(
            circle,
            "cleo",
            "Support",
            NEED,
            now,
            purpose=Purpose.REQUEST_SUPPORT,
            subject={"kind": "money"},
        )

    # Each kind that is one can be asked for.
    for kind in SupportKind:
        Proposal.draft(
            circle,
            "cleo",
            "Support",
            NEED,
            now,
            purpose=Purpose.REQUEST_SUPPORT,
            subject={"kind": kind},
        )


def test_offers_come_back_and_the_circle_accepts_one_by_consent(circle, decide, ask, unchanged):
    # The kitchen circle asked the garden and orchard circles; both offer.
    request = ask(circle)
    request.offer_received(GARDEN, " Sam and Kit can come on Sundays ")
    request.offer_received(ORCHARD, "We can send one cook")
    assert request.offers == {
        GARDEN: "Sam and Kit can come on Sundays",
        ORCHARD: "We can send one cook",
    }
    assert [type(e).__name__ for e in request.collect_events()] == ["OfferReceived"] * 2

    # It consents to accept the garden circle's offer.
    acceptance = decide(circle, Purpose.ACCEPT_OFFER, request=str(request.id), offer=GARDEN)
    assert request.accept_offer(circle, acceptance) == GARDEN
    assert (request.status, request.accepted) == (SupportStatus.ACCEPTED, GARDEN)
    [accepted] = request.collect_events()
    assert (type(accepted).__name__, accepted.helper) == ("OfferAccepted", GARDEN)

    # It accepts one offer: a second acceptance is refused.
    another = decide(circle, Purpose.ACCEPT_OFFER, request=str(request.id), offer=ORCHARD)
    with (
        unchanged(request, circle),
        pytest.raises(WrongStage, match="This request is already accepted"),
    ):
        request.accept_offer(circle, another)


def test_any_circle_may_offer_for_a_request_to_the_network(circle, ask):
    # The kitchen circle asked the whole network; the bakery circle, never named, offers.
    request = ask(circle, circles=())
    request.offer_received(BAKERY, "Our apprentices need the practice")
    assert request.offers == {BAKERY: "Our apprentices need the practice"}


def test_an_offer_from_a_circle_that_was_not_asked_is_refused(circle, ask, unchanged):
    # The kitchen circle asked the garden and orchard circles, not the bakery circle.
    request = ask(circle)
    with (
        unchanged(request),
        pytest.raises(NotPermitted, match="That circle was not asked for this support"),
    ):
        request.offer_received(BAKERY, "We can help")
    assert request.offers == {}


@pytest.mark.parametrize("status", [SupportStatus.ACCEPTED, SupportStatus.DELIVERED])
def test_an_offer_for_a_closed_request_is_refused(circle, decide, ask, unchanged, status):
    # The kitchen circle accepted the garden circle's offer (and the support may have come).
    request = ask(circle)
    request.offer_received(GARDEN, "Sam and Kit")
    accept(request, circle, decide)
    if status == SupportStatus.DELIVERED:
        request.record_delivery(circle, "ada", "Four Sundays covered")
    request.collect_events()

    # The orchard circle's offer comes too late.
    with (
        unchanged(request),
        pytest.raises(WrongStage, match=f"An offer came for a request that is {status}"),
    ):
        request.offer_received(ORCHARD, "One cook")
    assert ORCHARD not in request.offers


def test_a_circle_offers_once_and_says_what_it_offers(circle, ask, unchanged):
    # The garden circle offered already: a second offer is refused.
    request = ask(circle)
    request.offer_received(GARDEN, "Sam and Kit")
    request.collect_events()
    with unchanged(request), pytest.raises(InvalidRequest, match="That circle has offered already"):
        request.offer_received(GARDEN, "And Jo too")
    assert request.offers == {GARDEN: "Sam and Kit"}

    # An offer that offers nothing is refused.
    with unchanged(request), pytest.raises(InvalidRequest, match="An offer says what it offers"):
        request.offer_received(ORCHARD, "  ")


def test_an_offer_never_made_cannot_be_accepted(circle, decide, ask, unchanged):
    # Only the garden circle offered; the kitchen circle consents to the orchard circle's offer.
    request = ask(circle)
    request.offer_received(GARDEN, "Sam and Kit")
    request.collect_events()
    acceptance = decide(circle, Purpose.ACCEPT_OFFER, request=str(request.id), offer=ORCHARD)
    with (
        unchanged(request, circle),
        pytest.raises(InvalidRequest, match="That circle made no offer"),
    ):
        request.accept_offer(circle, acceptance)
    assert request.status == SupportStatus.OPEN


def test_an_acceptance_is_about_this_request(circle, decide, ask, unchanged):
    # The kitchen circle has two requests; it consented to accept an offer on the other one.
    request = ask(circle)
    request.offer_received(GARDEN, "Sam and Kit")
    other = ask(circle, kind="listening")
    acceptance = decide(circle, Purpose.ACCEPT_OFFER, request=str(other.id), offer=GARDEN)
    request.collect_events()

    # It accepts nothing on this one.
    with (
        unchanged(request, circle),
        pytest.raises(InvalidRequest, match="That proposal is about another request"),
    ):
        request.accept_offer(circle, acceptance)


# The offering circle's side.


def test_a_circle_sees_another_circles_request_and_offers_by_consent(
    other_circle, decide, seen, event_names
):
    # The kitchen circle's request reaches the garden circle.
    garden = other_circle
    request = SupportRequest.seen(garden, KITCHEN, ITS_REQUEST, "people", f"  {NEED} ")
    assert not request.is_ours
    assert (request.circle_id, request.origin, request.origin_id) == (
        garden.id,
        KITCHEN,
        ITS_REQUEST,
    )
    assert (request.kind, request.text, request.to) == (SupportKind.PEOPLE, NEED, [])
    assert request.status == SupportStatus.OPEN
    assert request.our_offer is None
    assert event_names(request) == ["SupportRequested"]

    # It is known by where it came from: the same request arriving twice is the same one.
    assert request.id == seen_request_id(garden.id, KITCHEN, ITS_REQUEST)
    assert seen().id == request.id
    assert seen_request_id(garden.id, ORCHARD, ITS_REQUEST) != request.id

    # The garden circle consents to offer two people.
    offer(request, garden, decide, text="Sam and Kit can come on Sundays")
    assert request.our_offer == "Sam and Kit can come on Sundays"
    assert request.status == SupportStatus.OPEN
    assert event_names(request) == ["OfferMade"]


@pytest.mark.parametrize(
    ("origin", "origin_id", "kind", "text", "match"),
    [
        (" ", ITS_REQUEST, "people", NEED, "Name the circle asking"),
        (KITCHEN, "", "people", NEED, "Name the request"),
        (KITCHEN, ITS_REQUEST, "money", NEED, "Unknown kind of support 'money'"),
        (KITCHEN, ITS_REQUEST, "people", "  ", "A request for support says what is needed"),
    ],
    ids=["no origin", "no request", "unknown kind", "no text"],
)
def test_a_request_from_another_circle_must_make_sense(
    other_circle, unchanged, origin, origin_id, kind, text, match
):
    # A request that does not say who asks, which request, what kind, or what is needed.
    with unchanged(other_circle), pytest.raises(InvalidRequest, match=match):
        SupportRequest.seen(other_circle, origin, origin_id, kind, text)


def test_a_circle_offers_once(other_circle, decide, seen, unchanged):
    # The garden circle offered already.
    garden = other_circle
    request = seen()
    offer(request, garden, decide)
    request.collect_events()

    # A second consent to offer is refused.
    again = decide(garden, Purpose.OFFER_SUPPORT, circle=KITCHEN, request=str(request.id))
    with (
        unchanged(request, garden),
        pytest.raises(InvalidRequest, match="This circle has offered already"),
    ):
        request.make_offer(garden, again)


@pytest.mark.parametrize("status", [SupportStatus.CLOSED, SupportStatus.ACCEPTED])
def test_no_offer_for_a_request_that_is_settled(other_circle, decide, seen, unchanged, status):
    # The kitchen circle has taken an offer: another circle's (closed) or the garden's own.
    garden = other_circle
    request = seen()
    if status == SupportStatus.ACCEPTED:
        offer(request, garden, decide)
        request.outcome_received(GARDEN, True)
    else:
        request.outcome_received(ORCHARD, False)
    request.collect_events()
    assert request.status == status

    # A consent to offer now comes too late.
    late = decide(garden, Purpose.OFFER_SUPPORT, circle=KITCHEN, request=str(request.id))
    with (
        unchanged(request, garden),
        pytest.raises(WrongStage, match=f"That request is already {status}"),
    ):
        request.make_offer(garden, late)


def test_an_offer_is_about_this_request(other_circle, decide, seen, unchanged):
    # The garden circle consented to offer for another request.
    garden = other_circle
    request = seen()
    proposal = decide(garden, Purpose.OFFER_SUPPORT, circle=KITCHEN, request=ITS_REQUEST)
    with (
        unchanged(request, garden),
        pytest.raises(InvalidRequest, match="That proposal is about another request"),
    ):
        request.make_offer(garden, proposal)
    assert request.our_offer is None


def test_each_side_does_only_its_part(circle, other_circle, decide, ask, seen, unchanged):
    # The kitchen circle's own request, and the same request as the garden circle sees it.
    garden = other_circle
    ours = ask(circle)
    theirs = seen()

    # The asking circle neither offers on its own request nor hears how it ended.
    proposal = decide(circle, Purpose.OFFER_SUPPORT, circle=KITCHEN, request=str(ours.id))
    with (
        unchanged(ours, circle),
        pytest.raises(WrongStage, match="Only a circle that was asked can offer support"),
    ):
        ours.make_offer(circle, proposal)
    with (
        unchanged(ours),
        pytest.raises(WrongStage, match="Only a circle that was asked can hear which offer"),
    ):
        ours.outcome_received(GARDEN, False)

    # The circle that was asked neither receives offers on it nor accepts one.
    with (
        unchanged(theirs),
        pytest.raises(WrongStage, match="Only the circle that asked can receive an offer"),
    ):
        theirs.offer_received(ORCHARD, "One cook")
    acceptance = decide(garden, Purpose.ACCEPT_OFFER, request=str(theirs.id), offer=ORCHARD)
    with (
        unchanged(theirs, garden),
        pytest.raises(WrongStage, match="Only the circle that asked can accept an offer"),
    ):
        theirs.accept_offer(garden, acceptance)


def test_the_offering_circle_hears_its_offer_was_accepted(other_circle, decide, seen):
    # The garden circle offered; the kitchen circle accepted its offer.
    request = seen()
    offer(request, other_circle, decide)
    request.collect_events()
    request.outcome_received(GARDEN, True)
    assert (request.status, request.accepted) == (SupportStatus.ACCEPTED, GARDEN)
    [outcome] = request.collect_events()
    assert type(outcome).__name__ == "OutcomeReceived"


@pytest.mark.parametrize("offered", [True, False], ids=["offered", "did not offer"])
def test_the_request_closes_for_a_circle_whose_offer_was_not_taken(
    other_circle, decide, seen, offered
):
    # The kitchen circle accepted the orchard circle's offer.
    request = seen()
    if offered:
        offer(request, other_circle, decide)
    request.outcome_received(ORCHARD, False)

    # For the garden circle the request is closed.
    assert (request.status, request.accepted) == (SupportStatus.CLOSED, ORCHARD)


def test_a_circle_asked_hears_the_request_closed(other_circle, decide, seen, unchanged):
    # The garden circle was asked and did not offer; the kitchen circle accepted another offer.
    request = seen()
    assert request.closure_received() is True

    # The request takes no more offers here.
    assert request.status == SupportStatus.CLOSED
    [closed] = request.collect_events()
    assert type(closed).__name__ == "ClosureReceived"

    # Heard again, it changes nothing.
    with unchanged(request):
        assert request.closure_received() is False


@pytest.mark.parametrize("accepted", [True, False], ids=["its offer taken", "another's taken"])
def test_a_closure_changes_nothing_once_the_outcome_is_heard(
    other_circle, decide, seen, unchanged, accepted
):
    # The garden circle offered and heard the outcome first.
    request = seen()
    offer(request, other_circle, decide)
    request.outcome_received(GARDEN if accepted else ORCHARD, accepted)
    request.collect_events()

    # The closure that follows leaves the outcome as it is.
    with unchanged(request):
        assert request.closure_received() is False
    assert request.status == (SupportStatus.ACCEPTED if accepted else SupportStatus.CLOSED)


def test_only_a_circle_that_was_asked_hears_the_request_closed(circle, ask, unchanged):
    # The kitchen circle's own request.
    request = ask(circle)
    with (
        unchanged(request),
        pytest.raises(WrongStage, match="Only a circle that was asked can hear that"),
    ):
        request.closure_received()


def test_an_acceptance_for_an_offer_never_made_is_refused(seen, unchanged):
    # The garden circle made no offer; word comes that its offer was accepted.
    request = seen()
    with (
        unchanged(request),
        pytest.raises(WrongStage, match="An acceptance came for an offer this circle never made"),
    ):
        request.outcome_received(GARDEN, True)
    assert request.status == SupportStatus.OPEN


@pytest.mark.parametrize("status", [SupportStatus.ACCEPTED, SupportStatus.CLOSED])
def test_an_outcome_is_heard_once(other_circle, decide, seen, unchanged, status):
    # The garden circle heard how the request ended.
    request = seen()
    offer(request, other_circle, decide)
    request.outcome_received(GARDEN, status == SupportStatus.ACCEPTED)
    request.collect_events()

    # A second outcome does not fit.
    with unchanged(request), pytest.raises(WrongStage, match=f"That request is already {status}"):
        request.outcome_received(ORCHARD, False)


# Both sides: the delivery and the reflections.


def test_delivery_and_reflections_are_recorded_on_both_sides(
    circle, other_circle, decide, ask, seen, event_names
):
    # The kitchen circle accepted the garden circle's offer; the garden circle heard so.
    garden = other_circle
    ours = ask(circle)
    theirs = seen()
    offer(theirs, garden, decide)
    ours.offer_received(GARDEN, theirs.our_offer)
    accept(ours, circle, decide)
    theirs.outcome_received(GARDEN, True)

    # The garden circle's secretary records the delivery; the kitchen circle hears of it.
    theirs.record_delivery(garden, "ada", " Four Sundays covered ")
    assert (theirs.status, theirs.delivery) == (SupportStatus.DELIVERED, "Four Sundays covered")
    [delivered] = [e for e in theirs.collect_events() if type(e).__name__ == "Delivered"]
    assert delivered.by_us
    ours.delivery_reported("Four Sundays covered")
    assert (ours.status, ours.delivery) == (SupportStatus.DELIVERED, "Four Sundays covered")
    [reported] = [e for e in ours.collect_events() if type(e).__name__ == "Delivered"]
    assert not reported.by_us

    # Each side reflects, and hears the other's reflection.
    ours.reflect(circle, "dan", " Warm, on time, and they stayed ")
    theirs.reflection_received(KITCHEN, "Warm, on time, and they stayed")
    theirs.reflect(garden, "eli", "We learnt how they run rotas")
    ours.reflection_received(GARDEN, " We learnt how they run rotas ")
    assert ours.reflections == {
        "us": "Warm, on time, and they stayed",
        GARDEN: "We learnt how they run rotas",
    }
    assert theirs.reflections == {
        KITCHEN: "Warm, on time, and they stayed",
        "us": "We learnt how they run rotas",
    }
    assert event_names(ours) == ["Reflected", "Reflected"]


def test_the_asking_circle_may_record_the_delivery(circle, decide, ask):
    # The kitchen circle accepted the garden circle's offer, and its secretary records it came.
    request = ask(circle)
    request.offer_received(GARDEN, "Sam and Kit")
    accept(request, circle, decide)
    request.record_delivery(circle, "ada", "Four Sundays covered")
    assert request.status == SupportStatus.DELIVERED


def test_only_the_records_keeper_records_a_delivery(circle, decide, ask, unchanged):
    # The kitchen circle accepted an offer; Dan, who does not keep the records, cannot record it.
    request = ask(circle)
    request.offer_received(GARDEN, "Sam and Kit")
    accept(request, circle, decide)
    request.collect_events()
    with (
        unchanged(request, circle),
        pytest.raises(NotPermitted, match="Only the secretary can record that support was"),
    ):
        request.record_delivery(circle, "dan", "Four Sundays covered")


def test_a_delivery_says_what_was_delivered(circle, decide, ask, unchanged):
    request = ask(circle)
    request.offer_received(GARDEN, "Sam and Kit")
    accept(request, circle, decide)
    request.collect_events()
    with unchanged(request), pytest.raises(InvalidRequest, match="Say what was delivered"):
        request.record_delivery(circle, "ada", " ")
    with unchanged(request), pytest.raises(InvalidRequest, match="Say what was delivered"):
        request.delivery_reported("")


@pytest.mark.parametrize(
    "status", [SupportStatus.OPEN, SupportStatus.CLOSED, SupportStatus.DELIVERED]
)
def test_support_is_delivered_once_an_offer_is_accepted(
    other_circle, decide, seen, unchanged, status
):
    # The garden circle's offer has not been accepted, was not taken, or is delivered already.
    garden = other_circle
    request = seen()
    if status == SupportStatus.CLOSED:
        request.outcome_received(ORCHARD, False)
    if status == SupportStatus.DELIVERED:
        offer(request, garden, decide)
        request.outcome_received(GARDEN, True)
        request.record_delivery(garden, "ada", "Four Sundays covered")
    request.collect_events()

    # Neither side records a delivery now.
    refused = f"Support is delivered once an offer is accepted; this is {status}"
    with unchanged(request, garden), pytest.raises(WrongStage, match=refused):
        request.record_delivery(garden, "ada", "Four Sundays covered")
    with unchanged(request), pytest.raises(WrongStage, match=refused):
        request.delivery_reported("Four Sundays covered")


def test_reflections_follow_the_delivery(circle, decide, ask, unchanged):
    # The kitchen circle accepted an offer, but nothing was delivered yet.
    request = ask(circle)
    request.offer_received(GARDEN, "Sam and Kit")
    accept(request, circle, decide)
    request.collect_events()

    # No side reflects yet.
    with unchanged(request), pytest.raises(WrongStage, match="Reflections follow the delivery"):
        request.reflect(circle, "dan", "Too early to say")
    with unchanged(request), pytest.raises(WrongStage, match="Reflections follow the delivery"):
        request.reflection_received(GARDEN, "Too early to say")


def test_each_side_reflects_once_in_words(circle, decide, ask, unchanged):
    # The support was delivered; both sides reflected.
    request = ask(circle)
    request.offer_received(GARDEN, "Sam and Kit")
    accept(request, circle, decide)
    request.delivery_reported("Four Sundays covered")
    request.reflect(circle, "dan", "Warm and on time")
    request.reflection_received(GARDEN, "We learnt a lot")
    request.collect_events()

    # Neither reflects twice.
    with unchanged(request), pytest.raises(InvalidRequest, match="has recorded its reflection"):
        request.reflect(circle, "cleo", "Again")
    with unchanged(request), pytest.raises(InvalidRequest, match="has sent its reflection already"):
        request.reflection_received(GARDEN, "Again")


def test_a_reflection_needs_its_words_and_someone_in_the_circle(
    circle, today, decide, ask, unchanged
):
    # The support was delivered.
    request = ask(circle)
    request.offer_received(GARDEN, "Sam and Kit")
    accept(request, circle, decide)
    request.delivery_reported("Four Sundays covered")
    request.collect_events()

    # A reflection without words is refused, from either side.
    with unchanged(request), pytest.raises(InvalidRequest, match="A reflection needs its words"):
        request.reflect(circle, "dan", "  ")
    with unchanged(request), pytest.raises(InvalidRequest, match="A reflection needs its words"):
        request.reflection_received(GARDEN, "")

    # Someone who left the circle no longer reflects for it.
    circle.leave("dan", "dan", today)
    with unchanged(request, circle), pytest.raises(NotPermitted, match="has left the circle"):
        request.reflect(circle, "dan", "Warm and on time")


@pytest.mark.parametrize("command", ["accept_offer", "make_offer", "record_delivery", "reflect"])
def test_another_circle_does_not_act_on_this_circles_request(
    circle, found_circle, decide, ask, seen, unchanged, command
):
    # A third circle, unrelated to the request, consents or acts as if it were its own.
    stranger = found_circle(parent=None)
    if command in ("accept_offer", "record_delivery", "reflect"):
        # The kitchen circle's own request, with the garden circle's offer.
        request = ask(circle)
        request.offer_received(GARDEN, "Sam and Kit")
        if command != "accept_offer":
            accept(request, circle, decide)
        if command == "reflect":
            request.delivery_reported("Four Sundays covered")
    else:
        # The kitchen circle's request as the garden circle sees it.
        request = seen()
    request.collect_events()

    acts = {
        "accept_offer": lambda: request.accept_offer(
            stranger,
            decide(stranger, Purpose.ACCEPT_OFFER, request=str(request.id), offer=GARDEN),
        ),
        "make_offer": lambda: request.make_offer(
            stranger,
            decide(stranger, Purpose.OFFER_SUPPORT, circle=KITCHEN, request=str(request.id)),
        ),
        "record_delivery": lambda: request.record_delivery(stranger, "ada", "Delivered"),
        "reflect": lambda: request.reflect(stranger, "dan", "Lovely"),
    }
    with unchanged(request), pytest.raises(InvalidRequest, match="another circle"):
        acts[command]()
