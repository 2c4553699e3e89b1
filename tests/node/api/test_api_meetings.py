"""A meeting over HTTP: scheduled, attendance, agenda, an item decided, minutes consented."""

from __future__ import annotations

from tests.node.api.world import Circle, assert_problem


def test_a_meeting_from_schedule_to_consented_minutes(circle: Circle) -> None:
    c, ids = circle, circle.ids
    meeting = {"title": "March circle meeting", "when": "2026-03-05T18:00:00+01:00"}
    assert_problem(
        c.post("cleo", "/meetings", meeting),
        403,
        "not_permitted",
        "Only the facilitator can schedule a meeting",
    )
    assert_problem(
        c.post("ben", "/meetings", {**meeting, "when": "2026-03-05T18:00:00"}),
        422,
        "invalid_request",
        "The meeting's time needs a time zone, e.g. 2026-03-01T09:00:00+01:00 or ...Z",
    )
    scheduled = c.ok("ben", "/meetings", meeting, status=201)
    mid = scheduled["id"]
    assert scheduled == {
        "id": mid,
        "title": "March circle meeting",
        "when": "2026-03-05T18:00:00+01:00",
        "stage": "planned",
        "present": [],
        "absent": [],
        "agenda": [],
        "minutes": None,
    }

    # Attendance is recorded by the secretary; who did not come is absent.
    present = {"present": [ids["ada"], ids["ben"], ids["cleo"]]}
    assert_problem(
        c.post("ben", f"/meetings/{mid}/attendance", present),
        403,
        "not_permitted",
        "Only the secretary can record attendance",
    )
    assert_problem(
        c.post("ada", f"/meetings/{mid}/agenda", {"items": ["Rota"]}),
        409,
        "wrong_stage",
        "Cannot consent to the agenda: the meeting is planned",
    )
    opened = c.ok("ada", f"/meetings/{mid}/attendance", present)
    assert opened["stage"] == "open"
    assert opened["present"] == sorted(present["present"])
    assert sorted(opened["absent"]) == sorted([ids["eli"], ids["gus"]])

    agenda = c.ok("ben", f"/meetings/{mid}/agenda", {"items": ["Rota", " ", "Paid travel"]})
    assert agenda["stage"] == "agenda_consented"
    assert [(i["number"], i["title"]) for i in agenda["agenda"]] == [
        (1, "Rota"),
        (2, "Paid travel"),
    ]
    assert_problem(
        c.post("ada", f"/meetings/{mid}/agenda/3/decided", {"outcome": "x"}),
        422,
        "invalid_request",
        "The agenda has no item 3",
    )
    decided = c.ok(
        "ada",
        f"/meetings/{mid}/agenda/2/decided",
        {"outcome": "Proposal drafted", "reference": "travel"},
    )
    assert decided["agenda"][1] == {
        "number": 2,
        "title": "Paid travel",
        "outcome": "Proposal drafted",
        "reference": "travel",
    }
    minutes = c.ok("ada", f"/meetings/{mid}/minutes", {"text": "We met and agreed the rota"})
    assert minutes["stage"] == "minutes_recorded"
    assert minutes["minutes"] == "We met and agreed the rota"
    assert_problem(
        c.post("ada", f"/meetings/{mid}/minutes/consent"),
        403,
        "not_permitted",
        "Only the facilitator can record the minutes' consent",
    )
    assert c.ok("ben", f"/meetings/{mid}/minutes/consent")["stage"] == "closed"
    assert_problem(
        c.post("ada", f"/meetings/{mid}/attendance", present),
        409,
        "wrong_stage",
        "Cannot record attendance: the meeting is closed",
    )

    listed = c.get("gus", "/meetings").json()
    assert listed["total"] == 1 and listed["items"][0]["stage"] == "closed"
    assert c.get("gus", f"/meetings/{mid}").json() == listed["items"][0]
