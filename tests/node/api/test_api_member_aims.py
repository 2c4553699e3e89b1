"""Each member's aims and development goals over HTTP: their own, set and changed by them
alone, read by anyone in the circle; told in the logbook; erased with their personal data;
never published to other circles."""

from __future__ import annotations

from domain.member_aims import member_aims_id
from node.app.logbook import read_logbook
from tests.node.api.world import Circle, assert_problem

AIMS = {
    "aims": ["Cook the Sunday lunch"],
    "development_goals": ["Learn to plan a menu", "Facilitate a meeting"],
}


def test_a_member_sets_out_their_aims_and_the_circle_reads_them(circle: Circle) -> None:
    c, eli = circle, circle.ids["eli"]
    assert c.node.feed.is_federated  # it publishes what is public on its own feed
    head = c.node.feed.own_feed().head

    # Eli has set none out yet: her aims read as empty.
    assert c.get("gus", f"/people/{eli}/aims").json() == {
        "person_id": eli,
        "name": "Eli",
        "aims": [],
        "development_goals": [],
        "updated_on": None,
    }
    assert c.get("gus", "/member-aims").json()["items"] == []

    # Eli sets out her own.
    response = c.client.put(f"/api/people/{eli}/aims", headers=c.as_("eli"), json=AIMS)
    assert response.status_code == 200, response.text
    shown = {"person_id": eli, "name": "Eli", **AIMS, "updated_on": "2026-03-01"}
    assert response.json() == shown

    # Anyone in the circle reads them, alone or with everyone's.
    assert c.get("gus", f"/people/{eli}/aims").json() == shown
    listed = c.get("cleo", "/member-aims").json()
    assert (listed["items"], listed["total"]) == ([shown], 1)

    # She changes them: the new lists replace the old.
    changed = {"aims": ["Run the Sunday lunch"], "development_goals": []}
    response = c.client.put(f"/api/people/{eli}/aims", headers=c.as_("eli"), json=changed)
    assert response.json()["aims"] == ["Run the Sunday lunch"]
    assert response.json()["development_goals"] == []

    # The logbook says she did (not what they are); nothing was published to other circles.
    told = [entry.text for entry in read_logbook(c.node)]
    assert told[-2:] == [
        "Eli set out their aims and development goals",
        "Eli updated their aims and development goals",
    ]
    assert c.node.feed.own_feed().head == head


def test_only_the_person_themselves_sets_their_aims(circle: Circle) -> None:
    c, eli = circle, circle.ids["eli"]

    # Ada, the secretary, cannot set Eli's aims for her.
    response = c.client.put(f"/api/people/{eli}/aims", headers=c.as_("ada"), json=AIMS)
    assert_problem(
        response,
        403,
        "not_permitted",
        "Only the person themselves sets their aims and development goals",
    )

    # Eli must name at least one aim or goal, each with its words.
    for body, detail in (
        ({}, "Name at least one aim or development goal"),
        ({"aims": [" "]}, "An aim needs its words"),
    ):
        response = c.client.put(f"/api/people/{eli}/aims", headers=c.as_("eli"), json=body)
        assert_problem(response, 422, "invalid_request", detail)
    assert c.get("eli", f"/people/{eli}/aims").json()["aims"] == []

    # Someone unknown has no aims here.
    assert_problem(
        c.get("eli", "/people/nobody/aims"),
        404,
        "not_found",
        "This person is not a participant of the circle",
    )


def test_aims_are_erased_with_the_persons_personal_data(circle: Circle) -> None:
    c, eli = circle, circle.ids["eli"]
    c.client.put(f"/api/people/{eli}/aims", headers=c.as_("eli"), json=AIMS)

    # Eli leaves: her aims are no longer shown to the circle.
    c.node.people.leave(eli, eli)
    assert c.get("gus", "/member-aims").json()["items"] == []
    assert_problem(
        c.get("gus", f"/people/{eli}/aims"),
        404,
        "not_found",
        "This person has left the circle; their aims are no longer kept here",
    )

    # She asks to be forgotten: her aims are erased with her personal details.
    c.ok("ada", f"/people/{eli}/erase")
    assert list(c.node.store.events.get(member_aims_id(eli))) == []
    told = [entry.text for entry in read_logbook(c.node)]
    assert not any("aims and development goals" in line for line in told)
