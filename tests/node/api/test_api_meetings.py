"""A meeting over HTTP: scheduled, attendance, agenda, an item decided, minutes consented."""

from __future__ import annotations

from typing import Any

from tests.node.api.world import Circle, assert_problem


def whole_logbook(c: Circle, who: str, record_id: str) -> list[dict[str, Any]]:
    """The logbook's lines about one record, as `who` reads them, page after page."""
    lines: list[dict[str, Any]] = []
    while True:
        page = c.get(who, "/logbook", params={"offset": len(lines), "limit": 100}).json()
        lines += page["items"]
        if len(lines) >= page["total"]:
            return [line for line in lines if line["record_id"] == record_id]


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
    # A meeting dated before today (the circle's clock reads 2026-03-01 09:00) is refused.
    assert_problem(
        c.post("ben", "/meetings", {**meeting, "when": "2026-02-20T18:00:00Z"}),
        422,
        "invalid_request",
        "A meeting cannot be planned in the past: give the time it will take place",
    )
    assert c.get("ben", "/meetings").json()["total"] == 0
    scheduled = c.ok("ben", "/meetings", meeting, status=201)
    mid = scheduled["id"]
    assert scheduled == {
        "id": mid,
        "title": "March circle meeting",
        "when": "2026-03-05T17:00:00Z",  # the same instant, in the circle's time zone (UTC)
        "stage": "planned",
        "present": [],
        "absent": [],
        "absences_told": [],
        "absent_with_notice": [],
        "agenda": [],
        "minutes": None,
        "confidential_minutes": None,
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
        "confidential": False,
        "withheld": False,
        "guests_left": None,
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


def test_a_confidential_item_is_read_by_full_and_learning_participants_only(
    circle: Circle,
) -> None:
    c, ids = circle, circle.ids
    # Given: a meeting Ada, Ben, Cleo, Eli (learning) and Gus (a guest) came to.
    mid = c.ok("ben", "/meetings", {"title": "March", "when": "2026-03-05T18:00:00Z"}, 201)["id"]
    everyone = [ids[who] for who in ("ada", "ben", "cleo", "eli", "gus")]
    c.ok("ada", f"/meetings/{mid}/attendance", {"present": everyone})

    # When: Ben records an agenda with a confidential item among plain titles.
    agenda = {"items": ["Rota", {"title": "Pay rise for Dan", "confidential": True}]}
    c.ok("ben", f"/meetings/{mid}/agenda", agenda)

    # Then: the confidential item waits for the guests to leave; only Ben asks them to, and
    # only for a confidential item.
    decided = {"outcome": "A rise from April"}
    assert_problem(
        c.post("ada", f"/meetings/{mid}/agenda/2/decided", decided),
        409,
        "wrong_stage",
        "Item 2 is confidential: the facilitator asks the guests to leave before it is taken",
    )
    assert_problem(
        c.post("ada", f"/meetings/{mid}/agenda/2/guests-left"),
        403,
        "not_permitted",
        "Only the facilitator can ask the guests to leave",
    )
    assert_problem(
        c.post("ben", f"/meetings/{mid}/agenda/1/guests-left"),
        422,
        "invalid_request",
        "Item 1 is not confidential: the guests stay for it",
    )
    left = c.ok("ben", f"/meetings/{mid}/agenda/2/guests-left")
    assert left["agenda"][1]["guests_left"] == [ids["gus"]]

    # When: Ada records both outcomes and the minutes, the confidential part apart.
    c.ok("ada", f"/meetings/{mid}/agenda/2/decided", decided)
    c.ok("ada", f"/meetings/{mid}/agenda/1/decided", {"outcome": "Weekly"})
    c.ok(
        "ada",
        f"/meetings/{mid}/minutes",
        {"text": "We agreed the rota", "confidential_text": "Dan's pay rises in April"},
    )

    # Then: Eli, a learning participant, reads the whole meeting.
    as_eli = c.get("eli", f"/meetings/{mid}").json()
    assert as_eli["agenda"][1] == {
        "number": 2,
        "title": "Pay rise for Dan",
        "outcome": "A rise from April",
        "reference": None,
        "confidential": True,
        "withheld": False,
        "guests_left": [ids["gus"]],
    }
    assert as_eli["minutes"] == "We agreed the rota"
    assert as_eli["confidential_minutes"] == "Dan's pay rises in April"

    # And: Gus, a guest, reads the same meeting with the item withheld in its place and
    # without the confidential minutes, in the meeting and in the list.
    as_gus = c.get("gus", f"/meetings/{mid}").json()
    assert [(i["number"], i["title"]) for i in as_gus["agenda"]] == [(1, "Rota"), (2, None)]
    assert as_gus["agenda"][1] == {
        "number": 2,
        "title": None,
        "outcome": None,
        "reference": None,
        "confidential": True,
        "withheld": True,
        "guests_left": [ids["gus"]],
    }
    assert (as_gus["minutes"], as_gus["confidential_minutes"]) == ("We agreed the rota", None)
    assert c.get("gus", "/meetings").json()["items"] == [as_gus]
    assert "Pay rise" not in str(as_gus) and "April" not in str(as_gus)

    # And: the logbook tells Eli of the confidential item, marked so; Gus reads no line of it.
    def logbook(who: str) -> list[tuple[str, bool]]:
        return [(line["text"], line["confidential"]) for line in whole_logbook(c, who, mid)]

    eli_reads = logbook("eli")
    assert ("Agenda of 'March' consented: Rota; a confidential item", False) in eli_reads
    assert ("Confidential item(s) of 'March': Pay rise for Dan", True) in eli_reads
    assert ("'March', item 2 (confidential): A rise from April", True) in eli_reads
    assert ("Minutes of the confidential items of 'March' recorded", True) in eli_reads
    assert ("For confidential item 2 of 'March', Gus left", False) in eli_reads
    gus_reads = logbook("gus")
    assert gus_reads == [line for line in eli_reads if not line[1]]
    assert "Pay rise" not in str(gus_reads) and "April" not in str(gus_reads)


def test_only_those_acting_as_full_or_learning_participants_read_confidential_items(
    circle: Circle,
) -> None:
    c, ids = circle, circle.ids
    # Given: Zed applied to join as a full participant (not yet admitted) and holds a token;
    # Cleo, a full participant, stepped back.
    zed = c.node.people.apply_to_join("Zed", "full")
    c.tokens["zed"] = c.node.tokens.issue_token(zed)[1]
    c.node.people.step_back(ids["cleo"], ids["cleo"])

    # And: a meeting took a confidential item, with its confidential minutes.
    mid = c.ok("ben", "/meetings", {"title": "April", "when": "2026-04-02T18:00:00Z"}, 201)["id"]
    c.ok("ada", f"/meetings/{mid}/attendance", {"present": [ids["ada"], ids["ben"]]})
    agenda = {"items": [{"title": "Dan's health", "confidential": True}]}
    c.ok("ben", f"/meetings/{mid}/agenda", agenda)
    c.ok("ada", f"/meetings/{mid}/agenda/1/decided", {"outcome": "Cover his shifts"})
    c.ok("ada", f"/meetings/{mid}/minutes", {"text": "Short", "confidential_text": "Dan is ill"})

    # Then: neither Zed nor Cleo reads the item, its outcome or the confidential minutes, in
    # the meeting or the logbook; Ben does.
    for who in ("zed", "cleo"):
        meeting = c.get(who, f"/meetings/{mid}").json()
        assert meeting["agenda"][0]["withheld"] is True, who
        assert meeting["confidential_minutes"] is None, who
        text = str(meeting) + str(whole_logbook(c, who, mid))
        assert "health" not in text and "Dan is ill" not in text and "shifts" not in text, who
    assert c.get("ben", f"/meetings/{mid}").json()["confidential_minutes"] == "Dan is ill"


def test_confidential_minutes_need_a_confidential_item(circle: Circle) -> None:
    c, ids = circle, circle.ids
    mid = c.ok("ben", "/meetings", {"title": "March", "when": "2026-03-05T18:00:00Z"}, 201)["id"]
    c.ok("ada", f"/meetings/{mid}/attendance", {"present": [ids["ada"], ids["ben"]]})
    c.ok("ben", f"/meetings/{mid}/agenda", {"items": ["Rota"]})
    assert_problem(
        c.post("ada", f"/meetings/{mid}/minutes", {"text": "Met", "confidential_text": "x"}),
        422,
        "invalid_request",
        "Only confidential items have confidential minutes, and the agenda has none",
    )


def test_a_full_participant_tells_the_secretary_ahead_they_will_be_absent(circle: Circle) -> None:
    c, ids = circle, circle.ids
    # Given: the March meeting is planned.
    mid = c.ok("ben", "/meetings", {"title": "March", "when": "2026-03-05T18:00:00Z"}, 201)["id"]

    # When: Cleo tells she will be absent; Ada, the secretary, records that Ben will be too.
    told = c.ok("cleo", f"/meetings/{mid}/absences", {"note": "At my sister's wedding"})
    assert told["absences_told"] == [
        {"person_id": ids["cleo"], "told_by": ids["cleo"], "note": "At my sister's wedding"}
    ]
    told = c.ok("ada", f"/meetings/{mid}/absences", {"person_id": ids["ben"]})
    assert told["absences_told"][1] == {
        "person_id": ids["ben"],
        "told_by": ids["ada"],
        "note": None,
    }

    # Then: only full participants tell, only the secretary for someone else, and once.
    assert_problem(
        c.post("eli", f"/meetings/{mid}/absences", {}),
        403,
        "not_permitted",
        "Only full participants can tell the secretary they will be absent",
    )
    assert_problem(
        c.post("cleo", f"/meetings/{mid}/absences", {"person_id": ids["ada"]}),
        403,
        "not_permitted",
        "Only the secretary can record someone else's absence",
    )
    assert_problem(
        c.post("cleo", f"/meetings/{mid}/absences", {}),
        409,
        "wrong_stage",
        "This person has already told the secretary they will be absent",
    )

    # When: Ben comes after all; Cleo and Eli do not.
    opened = c.ok("ada", f"/meetings/{mid}/attendance", {"present": [ids["ada"], ids["ben"]]})

    # Then: Ben is present; Cleo was absent having told; Eli and Gus were simply absent.
    assert opened["present"] == sorted([ids["ada"], ids["ben"]])
    assert sorted(opened["absent"]) == sorted([ids["cleo"], ids["eli"], ids["gus"]])
    assert opened["absent_with_notice"] == [ids["cleo"]]
    assert_problem(
        c.post("ada", f"/meetings/{mid}/absences", {"person_id": ids["cleo"]}),
        409,
        "wrong_stage",
        "Cannot record an absence: the meeting is open",
    )

    # And: the logbook says who told, and who recorded it.
    lines = [line["text"] for line in whole_logbook(c, "gus", mid)]
    assert (
        "Cleo told the secretary they will be absent from 'March': At my sister's wedding" in lines
    )
    assert "Ben told the secretary they will be absent from 'March' (recorded by Ada)" in lines
