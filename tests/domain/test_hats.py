"""Hats: defined with a domain and a term, worn, handed on, renewed, taken off; leader and
delegate never the same person; terms listed when they end."""

from __future__ import annotations

from datetime import date

import pytest

from domain.errors import InvalidRequest, NotFound, NotPermitted
from domain.hats import DELEGATE, FACILITATOR, LEADER, SECRETARY
from domain.values import HatKind

ORGANISER = "care-commons-organiser"
REVIEW = date(2026, 9, 1)


def test_a_full_participant_defines_an_operational_hat_with_its_domain(circle):
    # Dan defines a recruiter hat: its domain bounds the everyday decisions of its wearer.
    hat_id = circle.define_hat(
        "dan",
        "Recruiter",
        "Finds new volunteers",
        [" Welcome newcomers ", ""],
        ["outreach", "  "],
        6,
    )

    # It is on record under its slug, with the blank items dropped.
    assert hat_id == "recruiter"
    hat = circle.hat("recruiter")
    assert (hat.name, hat.kind, hat.default_term_months) == ("Recruiter", HatKind.OPERATIONAL, 6)
    assert hat.accountabilities == ["Welcome newcomers"]
    assert hat.domain == ["outreach"]
    assert hat.covers(" OUTREACH ")
    assert not hat.covers("budget")


def test_a_team_hat_needs_no_domain(circle):
    # Dan defines a rota holder hat, a team hat with no decisions of its own.
    circle.define_hat("dan", "Rota holder", "Holds the rota", [], [], 3, kind="team")
    assert circle.hat("rota-holder").kind == HatKind.TEAM


@pytest.mark.parametrize(
    ("by", "name", "purpose", "domain", "months", "kind", "error", "match"),
    [
        (
            "eli",
            "Gardener",
            "Grows herbs",
            ["garden"],
            6,
            "operational",
            NotPermitted,
            "Only full participants can define a hat",
        ),
        (
            "dan",
            " ",
            "Grows herbs",
            ["garden"],
            6,
            "operational",
            InvalidRequest,
            "A hat needs a name",
        ),
        (
            "dan",
            "!!!",
            "Grows herbs",
            ["garden"],
            6,
            "operational",
            InvalidRequest,
            "needs letters or digits",
        ),
        (
            "dan",
            "care commons ORGANISER",
            "Again",
            ["rota"],
            6,
            "operational",
            InvalidRequest,
            "already has a hat called Care commons organiser",
        ),
        (
            "dan",
            "Gardener",
            "Grows herbs",
            [" "],
            6,
            "operational",
            InvalidRequest,
            "An operational hat needs a domain",
        ),
        (
            "dan",
            "Gardener",
            "Grows herbs",
            ["garden"],
            0,
            "operational",
            InvalidRequest,
            "between 1 and 60 months",
        ),
        (
            "dan",
            "Gardener",
            "Grows herbs",
            ["garden"],
            61,
            "operational",
            InvalidRequest,
            "between 1 and 60 months",
        ),
        (
            "dan",
            "Gardener",
            "Grows herbs",
            ["garden"],
            6,
            "crown",
            InvalidRequest,
            "Unknown hat kind 'crown'",
        ),
        (
            "dan",
            "Gardener",
            "",
            ["garden"],
            6,
            "operational",
            InvalidRequest,
            "A hat needs a purpose",
        ),
    ],
)
def test_a_hat_definition_is_refused_when_it_breaks_a_rule(
    circle, unchanged, by, name, purpose, domain, months, kind, error, match
):
    # Someone tries to define a hat that breaks a rule: refused, nothing defined.
    with unchanged(circle), pytest.raises(error, match=match):
        circle.define_hat(by, name, purpose, [], domain, months, kind=kind)


def test_a_process_hat_is_handed_on_from_its_previous_wearer(circle, today):
    # Ben wears the facilitator hat.
    assert circle.wearers(FACILITATOR) == ["ben"]

    # Dan is given the facilitator hat: Ben hands it on.
    circle.put_on_hat(FACILITATOR, "dan", today, REVIEW, selection_id="sel-1")
    assert circle.wearers(FACILITATOR) == ["dan"]
    assert FACILITATOR not in circle.hats_worn_by("ben")
    term = circle.term(FACILITATOR, "dan")
    assert (term.started, term.review_date, term.selection_id) == (today, REVIEW, "sel-1")

    # The hand-over is two events: Ben's hat taken off, then Dan's put on.
    events = circle.collect_events()
    assert [type(e).__name__ for e in events] == ["HatTakenOff", "HatPutOn"]
    assert (events[0].person_id, events[0].reason) == ("ben", "handed on")


def test_an_operational_hat_may_be_worn_by_several_people(circle, today):
    # Cleo wears the care commons organiser hat; Eli, learning, puts it on too.
    circle.put_on_hat(ORGANISER, "eli", today, REVIEW)

    # Both wear it.
    assert circle.wearers(ORGANISER) == ["cleo", "eli"]


def test_who_may_wear_a_hat(circle, today, unchanged):
    # Guests do not wear hats.
    with unchanged(circle), pytest.raises(NotPermitted, match="Guests do not wear hats"):
        circle.put_on_hat(ORGANISER, "gus", today, REVIEW)

    # Nobody wears a hat twice, or a hat the circle does not have.
    with unchanged(circle), pytest.raises(InvalidRequest, match="already wears the care commons"):
        circle.put_on_hat(ORGANISER, "cleo", today, REVIEW)
    with unchanged(circle), pytest.raises(NotFound, match="no hat 'treasurer'"):
        circle.put_on_hat("treasurer", "dan", today, REVIEW)

    # A term's review date comes after its start.
    with unchanged(circle), pytest.raises(InvalidRequest, match="review date comes after"):
        circle.put_on_hat(ORGANISER, "dan", today, today)

    # Someone who has only applied does not wear hats yet.
    circle.receive_application("fay", "full", today)
    with unchanged(circle), pytest.raises(NotPermitted, match="not yet an active participant"):
        circle.put_on_hat(ORGANISER, "fay", today, REVIEW)


@pytest.mark.parametrize(("first", "second"), [(LEADER, DELEGATE), (DELEGATE, LEADER)])
def test_leader_and_delegate_are_never_the_same_person(circle, today, unchanged, first, second):
    # Dan wears one of the link hats.
    circle.put_on_hat(first, "dan", today, REVIEW)

    # He cannot wear the other.
    with (
        unchanged(circle),
        pytest.raises(
            NotPermitted, match="leader and the delegate of a circle are never the same person"
        ),
    ):
        circle.put_on_hat(second, "dan", today, REVIEW)

    # Cleo can.
    circle.put_on_hat(second, "cleo", today, REVIEW)
    assert circle.wearers(first) == ["dan"]
    assert circle.wearers(second) == ["cleo"]


def test_handing_on_the_leader_hat_to_the_delegate_is_refused(circle, today, unchanged):
    # Dan is the leader, Cleo the delegate.
    circle.put_on_hat(LEADER, "dan", today, REVIEW)
    circle.put_on_hat(DELEGATE, "cleo", today, REVIEW)

    # The leader hat cannot be handed on to Cleo: Dan keeps it.
    with unchanged(circle), pytest.raises(NotPermitted, match="never the same person"):
        circle.put_on_hat(LEADER, "cleo", today, REVIEW)
    assert circle.wearers(LEADER) == ["dan"]


@pytest.mark.parametrize("hat_id", [LEADER, DELEGATE])
def test_leader_and_delegate_are_full_participants(circle, today, unchanged, hat_id):
    # Eli, a learning participant, cannot wear a link hat.
    with unchanged(circle), pytest.raises(NotPermitted, match="must be a full participant"):
        circle.put_on_hat(hat_id, "eli", today, REVIEW)


def test_the_secretary_renews_a_term(circle, unchanged):
    # Cleo's organiser term ends at the end of 2026.
    assert circle.term(ORGANISER, "cleo").review_date == date(2026, 12, 31)

    # Dan may not renew it; nor can it be "renewed" to end earlier.
    with unchanged(circle), pytest.raises(NotPermitted, match="Only the secretary can renew"):
        circle.renew_hat("dan", ORGANISER, "cleo", date(2027, 12, 31))
    with unchanged(circle), pytest.raises(InvalidRequest, match="must end after the current"):
        circle.renew_hat("ada", ORGANISER, "cleo", date(2026, 12, 31))

    # Ada, the secretary, renews it for another year.
    circle.renew_hat("ada", ORGANISER, "cleo", date(2027, 12, 31))
    assert circle.term(ORGANISER, "cleo").review_date == date(2027, 12, 31)

    # A term that does not exist cannot be renewed.
    with unchanged(circle), pytest.raises(NotFound, match="does not wear the care commons"):
        circle.renew_hat("ada", ORGANISER, "dan", date(2027, 12, 31))


def test_a_hat_can_always_be_taken_off(circle, unchanged):
    # Cleo takes her own hat off.
    circle.take_off_hat("cleo", ORGANISER, "cleo", "Too busy this year")
    assert circle.wearers(ORGANISER) == []

    # Ada, the secretary, records that Ben takes the facilitator hat off.
    circle.take_off_hat("ada", FACILITATOR, "ben", "Agreed at the meeting")
    assert circle.wearers(FACILITATOR) == []

    # Dan cannot take a hat off someone else; a reason is needed; nor is a hat not worn.
    with unchanged(circle), pytest.raises(NotPermitted, match="Only the secretary can take a hat"):
        circle.take_off_hat("dan", SECRETARY, "ada", "Coup")
    with unchanged(circle), pytest.raises(InvalidRequest, match="Say why the hat comes off"):
        circle.take_off_hat("ada", SECRETARY, "ada", " ")
    with unchanged(circle), pytest.raises(NotFound, match="does not wear the facilitator"):
        circle.take_off_hat("dan", FACILITATOR, "dan", "Never wore it")


def test_ending_terms_are_listed_when_due(circle, today):
    # Today is 2 March: the facilitator's term ends 1 April, the secretary's 5 July,
    # the organiser's 31 December.
    def ending(on: date, within: int) -> list[tuple[str, str]]:
        return [(t.hat_id, t.person_id) for t in circle.terms_ending(on, within_days=within)]

    # Within 30 days: the facilitator's term (its review date is exactly 30 days away).
    assert ending(today, 30) == [(FACILITATOR, "ben")]
    # Within 29 days: none.
    assert ending(today, 29) == []
    # Within 150 days: facilitator and secretary, soonest first.
    assert ending(today, 150) == [(FACILITATOR, "ben"), (SECRETARY, "ada")]
    # In August, the overdue facilitator term is still listed, with the secretary's.
    assert ending(date(2026, 8, 1), 0) == [(FACILITATOR, "ben"), (SECRETARY, "ada")]

    # Once renewed, the facilitator's term is no longer listed as ending soon.
    circle.renew_hat("ada", FACILITATOR, "ben", date(2027, 4, 1))
    assert ending(today, 30) == []


def test_renewing_a_term_does_not_rewrite_the_event_that_put_the_hat_on(circle, today):
    # Dan is given the leader hat until 1 September, and the term is renewed before saving.
    circle.put_on_hat(LEADER, "dan", today, REVIEW)
    circle.renew_hat("ada", LEADER, "dan", date(2027, 3, 1))

    # The recorded HatPutOn still says what happened then: until 1 September.
    put_on = next(e for e in circle.collect_events() if type(e).__name__ == "HatPutOn")
    assert put_on.term.review_date == REVIEW
