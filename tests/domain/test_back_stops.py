"""Back-stops: the circle names, for a hat it rotates, someone who steps in when the wearer
cannot; the secretary records it, changes it and clears it; refusals change nothing.

Cast as in conftest: Ada (secretary), Ben (facilitator), Cleo (care commons organiser), Dan
(full, no hat), Eli (learning), Gus (guest).
"""

from __future__ import annotations

from datetime import date

import pytest

from domain.backstops import BackStops, back_stops_id
from domain.errors import InvalidRequest, NotFound, NotPermitted, WrongStage
from domain.hats import DELEGATE, FACILITATOR, LEADER
from tests.domain.conftest import FOUNDED, ORGANISER


@pytest.fixture
def back_stops(circle):
    stops = BackStops.open(circle)
    stops.collect_events()
    return stops


def test_the_secretary_records_the_back_stop_the_circle_named(circle, back_stops):
    # Given the kitchen circle's back-stops, none named yet.
    assert back_stops.id == back_stops_id(circle.id)
    assert back_stops.back_stop(circle, FACILITATOR) is None

    # When Ada, the secretary, records that Dan steps in for the facilitator.
    back_stops.name_back_stop(circle, "ada", FACILITATOR, "dan")

    # Then Dan is the facilitator's back-stop, recorded as its own event.
    assert back_stops.back_stop(circle, FACILITATOR) == "dan"
    (named,) = back_stops.collect_events()
    assert type(named).__name__ == "BackStopNamed"
    assert (named.hat_id, named.person_id) == (FACILITATOR, "dan")


def test_a_back_stop_is_changed_by_naming_another_and_cleared(circle, back_stops):
    # Given Dan is the organiser's back-stop.
    back_stops.name_back_stop(circle, "ada", ORGANISER, "dan")

    # When the circle names Eli instead (a learning participant may step in).
    back_stops.name_back_stop(circle, "ada", ORGANISER, "eli")
    assert back_stops.back_stop(circle, ORGANISER) == "eli"

    # And later names nobody.
    back_stops.clear_back_stop(circle, "ada", ORGANISER)

    # Then the organiser has no back-stop.
    assert back_stops.back_stop(circle, ORGANISER) is None
    assert back_stops.by_hat == {}


def test_a_back_stop_selected_for_the_hat_steps_in_for_nobody(circle, back_stops):
    # Given: Dan is the organiser's back-stop.
    back_stops.name_back_stop(circle, "ada", ORGANISER, "dan")
    # When: Dan puts on the organiser hat too (an operational hat has several wearers).
    circle.put_on_hat(ORGANISER, "dan", FOUNDED, date(2026, 12, 1))
    # Then: he does not step in for himself.
    assert back_stops.back_stop(circle, ORGANISER) is None


def test_someone_who_stepped_back_steps_in_for_nobody(circle, back_stops):
    # Given Dan is the facilitator's back-stop.
    back_stops.name_back_stop(circle, "ada", FACILITATOR, "dan")

    # When Dan steps back.
    circle.step_back("dan", "dan", FOUNDED)

    # Then nobody steps in for the facilitator until the circle names someone.
    assert back_stops.back_stop(circle, FACILITATOR) is None
    assert back_stops.by_hat == {FACILITATOR: "dan"}  # the record keeps who was named


@pytest.mark.parametrize(
    ("by", "hat_id", "person_id", "error", "match"),
    [
        ("cleo", FACILITATOR, "eli", NotPermitted, "Only the secretary can record a hat's back-"),
        ("ada", "baker", "dan", NotFound, "The circle has no hat 'baker'"),
        ("ada", FACILITATOR, "gus", NotPermitted, "Guests do not wear hats"),
        ("ada", FACILITATOR, "ben", InvalidRequest, "This person wears the facilitator hat"),
        ("ada", FACILITATOR, "zoe", NotFound, "not a participant"),
        ("ada", DELEGATE, "eli", NotPermitted, "The delegate must be a full participant"),
        ("ada", DELEGATE, "dan", NotPermitted, "never the same person"),
    ],
)
def test_refusals_to_name_a_back_stop_change_nothing(
    circle, back_stops, unchanged, by, hat_id, person_id, error, match
):
    # Given: Dan is the circle's leader.
    circle.put_on_hat(LEADER, "dan", FOUNDED, date(2026, 12, 1))
    # When someone other than the secretary records a back-stop, or for a hat the circle has
    # not, or names a guest, the wearer, a stranger, or someone who could not wear the hat:
    # refused, and nothing changes.
    with unchanged(back_stops, circle), pytest.raises(error, match=match):
        back_stops.name_back_stop(circle, by, hat_id, person_id)


def test_naming_the_same_back_stop_again_is_refused(circle, back_stops, unchanged):
    back_stops.name_back_stop(circle, "ada", FACILITATOR, "dan")
    with unchanged(back_stops), pytest.raises(InvalidRequest, match="already the facilitator's"):
        back_stops.name_back_stop(circle, "ada", FACILITATOR, "dan")


def test_someone_who_left_is_not_named(circle, back_stops, unchanged):
    circle.leave("dan", "dan", FOUNDED)
    with unchanged(back_stops), pytest.raises(NotPermitted, match="has left the circle"):
        back_stops.name_back_stop(circle, "ada", FACILITATOR, "dan")


def test_clearing_a_hat_without_back_stop_is_refused(circle, back_stops, unchanged):
    with unchanged(back_stops), pytest.raises(WrongStage, match="has no back-stop to clear"):
        back_stops.clear_back_stop(circle, "ada", FACILITATOR)


def test_only_the_secretary_clears_a_back_stop(circle, back_stops, unchanged):
    back_stops.name_back_stop(circle, "ada", FACILITATOR, "dan")
    with unchanged(back_stops), pytest.raises(NotPermitted, match="Only the secretary"):
        back_stops.clear_back_stop(circle, "dan", FACILITATOR)


def test_another_circles_back_stops_are_not_changed(circle, other_circle, back_stops, unchanged):
    with unchanged(back_stops), pytest.raises(InvalidRequest, match="another circle"):
        back_stops.name_back_stop(other_circle, "ada", FACILITATOR, "dan")


def test_a_dissolved_circle_names_no_back_stop(circle, back_stops, unchanged, consented):
    proposal = consented(circle, purpose="dissolve", subject={})
    circle.dissolve(proposal)
    with unchanged(back_stops), pytest.raises(WrongStage, match="dissolved"):
        back_stops.name_back_stop(circle, "ada", FACILITATOR, "dan")
