"""How a circle starts, over HTTP: the founder's aim is a draft; the forming circle forms it
together by a consented proposal (with how it links to the co-op's mission), selects its
facilitator and secretary, and only then starts its work. And trials of 1 to 3 sessions,
counted by the secretary, ended by either side without a reason."""

from __future__ import annotations

from node.app.logbook import read_logbook
from node.app.node import CircleNode
from node.demo.scripted import select
from tests.node.api.world import Circle, assert_problem, serve

MISSION = "Good food is good care: the co-op's mission, in our kitchen"


def forming(node: CircleNode) -> Circle:
    """The kitchen circle, founded and still forming: Ada (founder), Ben and Cleo (full),
    Eli (learning); no hat worn, its aim a draft."""
    ada = node.circle.found_circle(
        name="Kitchen", aim="Feed the neighbourhood", domain="Food", founder_name="Ada"
    )
    ids = {"ada": ada}
    for name, level in (("Ben", "full"), ("Cleo", "full"), ("Eli", "learning")):
        ids[name.lower()] = node.people.add_founding_member(ada, name, level)
    tokens = {who: node.tokens.issue_token(person)[1] for who, person in ids.items()}
    return Circle(node, serve(node), ids, tokens)


def test_a_forming_circle_forms_its_aim_together_before_it_starts(api_node: CircleNode) -> None:
    c = forming(api_node)

    # The circle shows its draft aim, not yet formed, with no link to the mission.
    shown = c.get("eli", "/circle").json()
    assert (shown["status"], shown["aim_formed"], shown["mission_link"]) == (
        "forming",
        False,
        None,
    )

    # Its facilitator and secretary are selected; it cannot start with a draft aim.
    select(c.node, "facilitator", c.ids["ben"])
    select(c.node, "secretary", c.ids["ada"])
    assert_problem(
        c.post("cleo", "/circle/activate"),
        409,
        "wrong_stage",
        "Form the circle's aim together first: a proposal to change the aim (saying how it "
        "links to the co-op's mission), consented while the circle is forming",
    )

    # Cleo proposes the aim, revisited, and how it links to the co-op's mission.
    pid = c.ok(
        "cleo",
        "/proposals",
        {
            "title": "Our aim",
            "text": "We revisited the aim we were founded with",
            "purpose": "change_aim",
            "subject": {"aim": "Feed the neighbourhood, together", "mission_link": MISSION},
        },
        201,
    )["id"]
    c.ok("cleo", f"/proposals/{pid}/present")
    c.ok("ben", f"/proposals/{pid}/reaction-round")
    c.ok("ben", f"/processes/{pid}/consent-round")
    for who in ("ada", "ben", "cleo"):
        c.ok(who, f"/processes/{pid}/consents", {}, 201)
    assert c.ok("ben", f"/processes/{pid}/close")["outcome"] == "consented"

    # The circle keeps the aim it formed, and its link to the mission.
    shown = c.get("eli", "/circle").json()
    assert (shown["aim"], shown["aim_formed"], shown["mission_link"]) == (
        "Feed the neighbourhood, together",
        True,
        MISSION,
    )

    # A learning participant does not start its work; a full participant does.
    assert_problem(
        c.post("eli", "/circle/activate"),
        403,
        "not_permitted",
        "Only full participants can start the circle's work",
    )
    started = c.ok("cleo", "/circle/activate")
    assert (started["status"], started["aim_formed"]) == ("active", True)

    # The logbook tells that the aim was formed together.
    told = [entry.text for entry in read_logbook(c.node)]
    assert (
        "The circle formed its aim together, by consent: Feed the neighbourhood, together; "
        f"how it links to the co-op's mission: {MISSION}"
    ) in told
    assert told[-1] == "The circle began its work"


def test_a_mission_link_that_is_not_text_is_malformed(api_node: CircleNode) -> None:
    # The subject's schema declares mission_link a text (the domain refuses anything else too).
    c = forming(api_node)
    assert_problem(
        c.post(
            "cleo",
            "/proposals",
            {
                "title": "Our aim",
                "text": "x",
                "purpose": "change_aim",
                "subject": {"aim": "Feed", "mission_link": 7},
            },
        ),
        400,
        "malformed",
        "body.change_aim.subject.mission_link: Input should be a valid string",
    )


def test_a_trial_of_one_to_three_sessions_is_counted_by_the_secretary(circle: Circle) -> None:
    c = circle
    dora = c.ok("ada", "/people", {"name": "Dora"}, 201)["person_id"]

    # A trial is agreed for 1 to 3 sessions; the secretary starts it.
    assert_problem(
        c.post("ada", f"/people/{dora}/trial", {"sessions": 4}),
        422,
        "invalid_request",
        "A trial is 1 to 3 sessions, not 4",
    )
    assert_problem(c.post("ada", f"/people/{dora}/trial", {}), 400, "malformed")
    assert_problem(
        c.post("cleo", f"/people/{dora}/trial", {"sessions": 2}),
        403,
        "not_permitted",
        "Only the secretary can start a trial",
    )
    shown = c.ok("ada", f"/people/{dora}/trial", {"sessions": 2})
    assert (shown["status"], shown["trial_sessions"], shown["sessions_held"]) == ("trial", 2, 0)

    # The secretary counts each session held; nobody else does.
    assert_problem(
        c.post("cleo", f"/people/{dora}/trial/sessions"),
        403,
        "not_permitted",
        "Only the secretary can count a trial session",
    )
    assert c.ok("ada", f"/people/{dora}/trial/sessions")["sessions_held"] == 1

    # Admission waits for the last session; there is none beyond it.
    assert_problem(
        c.post("ada", f"/people/{dora}/admit", {"level": "full"}),
        409,
        "wrong_stage",
        "1 of the 2 agreed trial sessions were held: admit after the last, or end the trial",
    )
    assert c.ok("ada", f"/people/{dora}/trial/sessions")["sessions_held"] == 2
    assert_problem(
        c.post("ada", f"/people/{dora}/trial/sessions"),
        409,
        "wrong_stage",
        "All 2 agreed sessions of this trial were held: admit them, or end the trial",
    )
    assert c.ok("ada", f"/people/{dora}/admit", {"level": "full"})["person_id"] == dora

    # Someone who is not on trial holds no session.
    assert_problem(
        c.post("ada", f"/people/{c.ids['cleo']}/trial/sessions"),
        409,
        "wrong_stage",
        "Someone who is active cannot hold a trial session",
    )
    listed = {p["person_id"]: p for p in c.get("gus", "/people").json()["items"]}
    assert (listed[dora]["status"], listed[dora]["sessions_held"]) == ("active", 2)


def test_either_side_ends_a_trial_without_a_reason(circle: Circle) -> None:
    c = circle
    # Dora and Fay are each on a trial of three sessions; one of each was held.
    trying = {}
    for name in ("Dora", "Fay"):
        person = c.node.people.apply_to_join(name)
        c.node.people.start_trial(c.ids["ada"], person, 3)
        c.node.people.hold_trial_session(c.ids["ada"], person)
        trying[name] = person
    dora_token = c.node.tokens.issue_token(trying["Dora"], c.ids["ada"])[1]

    # Dora ends hers herself, with her own token and no reason; Cleo cannot end Fay's.
    response = c.client.post(
        f"/api/people/{trying['Dora']}/decline",
        headers={"Authorization": f"Bearer {dora_token}"},
    )
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "declined"
    assert_problem(
        c.post("cleo", f"/people/{trying['Fay']}/decline"),
        403,
        "not_permitted",
        "Only the secretary can decline an application",
    )

    # Ada, the secretary, ends Fay's for the circle, without a reason either.
    assert c.ok("ada", f"/people/{trying['Fay']}/decline")["status"] == "declined"
    told = [entry.text for entry in read_logbook(c.node)]
    assert "Dora began a trial of 3 sessions" in told
    assert "Fay held session 1 of their trial" in told
