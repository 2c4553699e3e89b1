"""Each member's aims and development goals: their own, set and changed by them alone, kept
apart from the circle's record (they are personal: erased with the person's data)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from domain.errors import InvalidRequest, NotFound, NotPermitted
from domain.member_aims import MemberAims, member_aims_id


def test_a_member_sets_out_and_changes_their_own_aims_and_goals(circle, today, event_names):
    # Eli, a learning participant, sets out what she wants to do here and how she wants to grow.
    aims = MemberAims.set_out(
        circle,
        "eli",
        "eli",
        [" Cook for the Sunday lunch "],
        ["Learn to plan a menu", "Facilitate a meeting"],
        today,
    )
    assert (aims.id, aims.person_id) == (member_aims_id("eli"), "eli")
    assert (aims.aims, aims.development_goals, aims.updated_on) == (
        ["Cook for the Sunday lunch"],
        ["Learn to plan a menu", "Facilitate a meeting"],
        today,
    )
    assert event_names(aims) == ["SetOut"]

    # Later she changes them: the new lists replace the old.
    later = today + timedelta(days=90)
    aims.revise(circle, "eli", ["Run the Sunday lunch"], [], later)
    assert (aims.aims, aims.development_goals, aims.updated_on) == (
        ["Run the Sunday lunch"],
        [],
        later,
    )
    assert event_names(aims) == ["Revised"]


def test_only_the_person_themselves_sets_or_changes_their_aims(circle, today, unchanged):
    # Ada, the secretary, cannot set out Eli's aims for her.
    with pytest.raises(NotPermitted, match="Only the person themselves sets their aims"):
        MemberAims.set_out(circle, "ada", "eli", ["Cook"], [], today)

    # Eli sets hers out; Ada cannot change them either.
    aims = MemberAims.set_out(circle, "eli", "eli", ["Cook"], [], today)
    aims.collect_events()
    with unchanged(aims), pytest.raises(NotPermitted, match="Only the person themselves"):
        aims.revise(circle, "ada", ["Wash up"], [], today)


def test_someone_who_cannot_act_in_the_circle_keeps_no_aims_in_it(circle, today, unchanged):
    # Fay has applied but is not yet a participant who acts.
    circle.receive_application("fay", "full", today)
    with pytest.raises(NotPermitted, match="not yet an active participant"):
        MemberAims.set_out(circle, "fay", "fay", ["Cook"], [], today)

    # Someone unknown to the circle neither.
    with pytest.raises(NotFound, match="not a participant"):
        MemberAims.set_out(circle, "zed", "zed", ["Cook"], [], today)

    # Dan sets his out, then steps back: he cannot change them until he returns.
    aims = MemberAims.set_out(circle, "dan", "dan", ["Cook"], [], today)
    aims.collect_events()
    circle.step_back("dan", "dan", today)
    with unchanged(aims), pytest.raises(NotPermitted, match="stepped back"):
        aims.revise(circle, "dan", ["Bake"], [], today)


@pytest.mark.parametrize(
    ("aims", "goals", "match"),
    [
        ([], [], "Name at least one aim or development goal"),
        (["  "], [], "An aim needs its words"),
        (["Cook"], [""], "A development goal needs its words"),
        ([f"Aim {n}" for n in range(21)], [], "Name at most 20 aims and 20 goals"),
    ],
)
def test_aims_and_goals_each_have_their_words(circle, today, unchanged, aims, goals, match):
    # Cleo's aims as they are.
    kept = MemberAims.set_out(circle, "cleo", "cleo", ["Cook"], ["Lead"], today)
    kept.collect_events()

    # Setting out or changing them without words is refused, and changes nothing.
    with pytest.raises(InvalidRequest, match=match):
        MemberAims.set_out(circle, "dan", "dan", aims, goals, today)
    with unchanged(kept), pytest.raises(InvalidRequest, match=match):
        kept.revise(circle, "cleo", aims, goals, today)
