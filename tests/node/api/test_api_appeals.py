"""Appeals over HTTP: lodged and joined by three people who took no part in a decision, heard
by the circle (its answer recorded by the facilitator), taken further, an appeal taken to this
circle answered, and an appeal of a linked circle's decision made from here; each refusal with
the domain's sentence.

Cast (tests/node/api/world.py): Ada (secretary), Ben (facilitator), Cleo (the care commons
organiser, who takes the everyday decision), Eli (learning), Gus (guest)."""

from __future__ import annotations

from domain.appeal import Appeal, Hearing
from federation.feed import node_id
from node.demo.scripted import consent_to, select
from tests.node.api.world import Circle, assert_problem

ORGANISER = "care-commons-organiser"
GARDEN = node_id(bytes(range(32)))  # a circle this one does not know


def _decision(c: Circle) -> str:
    """Cleo's everyday decision about the rota."""
    c.node.hats.define_hat(
        c.ids["ada"], "Care commons organiser", "Keeps the rota", [], ["rota", "supplies"], 6
    )
    select(c.node, ORGANISER, c.ids["cleo"])
    body = {"hat_id": ORGANISER, "area": "rota", "title": "Sunday pairs", "text": "Two a visit"}
    return str(c.ok("cleo", "/decisions", body, status=201)["id"])


def _heard(c: Circle) -> tuple[str, str]:
    decision = _decision(c)
    appeal = c.ok("eli", "/appeals", {"decision_id": decision, "grounds": "Late"}, status=201)
    for who in ("ada", "ben"):
        c.ok(who, f"/appeals/{appeal['id']}/join", {})
    return decision, appeal["id"]


def test_three_people_appeal_and_the_circle_answers(circle: Circle) -> None:
    c, ids = circle, circle.ids
    # The circle's proposals so far: the one by which it formed its aim.
    formed = c.get("ada", "/proposals").json()["total"]
    decision = _decision(c)
    # The hat wearer who took it, and a guest, may not appeal it.
    lodge = {"decision_id": decision, "grounds": "Sundays are for families"}
    assert_problem(
        c.post("cleo", "/appeals", lodge),
        403,
        "not_permitted",
        "The hat wearer who took a decision cannot appeal it",
    )
    assert_problem(
        c.post("gus", "/appeals", lodge),
        403,
        "not_permitted",
        "Guests take part in rounds; full and learning participants appeal",
    )
    assert_problem(c.post("eli", "/appeals", {**lodge, "decision_id": "nope"}), 404, "not_found")
    # Eli lodges it; a second appeal of that decision is refused: join it.
    appeal = c.ok("eli", "/appeals", lodge, status=201)
    aid = appeal["id"]
    assert appeal["status"] == "gathering" and appeal["role"] == "against_us"
    assert appeal["appellants"] == [{"person": ids["eli"], "grounds": lodge["grounds"]}]
    assert_problem(
        c.post("ada", "/appeals", lodge),
        409,
        "wrong_stage",
        "An appeal against this decision is gathering appellants: join it",
    )
    assert_problem(
        c.post("eli", f"/appeals/{aid}/join", {}),
        409,
        "wrong_stage",
        "This person has appealed this decision already",
    )
    # Before three, the circle does not hear it.
    assert_problem(
        c.post("ben", f"/appeals/{aid}/circle-answer", {"upheld": False, "reason": "No"}),
        409,
        "wrong_stage",
        "An appeal is heard once 3 people appeal; this one has 1",
    )
    c.ok("ada", f"/appeals/{aid}/join", {"grounds": "And the rota is full"})
    heard = c.ok("ben", f"/appeals/{aid}/join", {})
    assert heard["status"] == "being_heard" and heard["hearing"] == "circle"
    # The facilitator records the circle's answer, but not to an appeal of their own: Ben
    # appeals, and so does Ada, the secretary; then a full participant who does not appeal
    # (Cleo) records it, with its reason (and no proposal is drafted by a refused answer);
    # upheld, it opens a proposal.
    answer = {"upheld": True, "reason": "Families come first", "revoke": True}
    for appellant in ("ben", "ada"):
        assert_problem(
            c.post(appellant, f"/appeals/{aid}/circle-answer", answer),
            403,
            "not_permitted",
            "An appellant does not record the circle's answer to their own appeal: when the "
            "facilitator appeals, the secretary records it",
        )
    assert_problem(
        c.post("cleo", f"/appeals/{aid}/circle-answer", {**answer, "reason": " "}),
        422,
        "invalid_request",
        "The circle's answer gives its reason",
    )
    assert c.get("ada", "/proposals").json()["total"] == formed
    upheld = c.ok("cleo", f"/appeals/{aid}/circle-answer", answer)
    assert upheld["status"] == "upheld" and upheld["final"] is True
    assert upheld["answers"] == [
        {"hearing": "circle", "upheld": True, "reason": "Families come first", "by": ids["cleo"]}
    ]
    proposal = c.get("ada", f"/proposals/{upheld['proposal_id']}").json()
    assert proposal["purpose"] == "revoke_decision" and proposal["proposer"] == ids["cleo"]
    # And: it is listed, and found by its role.
    assert [a["id"] for a in c.get("gus", "/appeals").json()["items"]] == [aid]
    assert c.get("gus", "/appeals", params={"role": "referred_to_us"}).json()["items"] == []
    assert c.get("gus", f"/appeals/{aid}").json() == upheld
    assert_problem(
        c.post("eli", f"/appeals/{aid}/take-further"),
        409,
        "wrong_stage",
        "This appeal was upheld; there is nothing to take further",
    )


def test_taking_an_appeal_further_needs_a_linked_care_and_counsel_group(circle: Circle) -> None:
    c = circle
    _, aid = _heard(c)
    c.ok("cleo", f"/appeals/{aid}/circle-answer", {"upheld": False, "reason": "Pairs work"})
    # Only the appellants take it further.
    assert_problem(
        c.post("cleo", f"/appeals/{aid}/take-further"),
        403,
        "not_permitted",
        "Only the appellants take an appeal further",
    )
    assert_problem(
        c.post("eli", f"/appeals/{aid}/take-further"),
        409,
        "wrong_stage",
        "The circle's rules name no care and counsel group (a change of rules names one)",
    )
    # Given: the rules name a care and counsel group this circle is not linked to.
    consent_to(c.node, "change_rules", {"care_and_counsel": GARDEN})
    assert_problem(
        c.post("eli", f"/appeals/{aid}/take-further"),
        409,
        "wrong_stage",
        f"The care and counsel group ({GARDEN}) is not linked to this circle",
    )
    # No proposal follows an appeal that was not upheld.
    assert_problem(
        c.post("ben", f"/appeals/{aid}/amendment", {"text": "Three a visit"}),
        409,
        "wrong_stage",
        "A proposal follows an appeal that was upheld",
    )


def test_the_circle_answers_an_appeal_taken_to_it(circle: Circle) -> None:
    c = circle
    # Given: the garden circle took one of its appeals to this circle (its message, as kept).
    referred = Appeal.referred(
        c.node.records.get_circle(),
        GARDEN,
        "appeal-7",
        Hearing.CARE_AND_COUNSEL,
        "Hedges",
        "Cut in May",
        "Nesting birds",
        3,
        ["kim"],
    )
    c.node.save(referred, *c.node.records.filed("appeal", referred.id))
    aid = str(referred.id)
    listed = c.get("eli", "/appeals", params={"role": "referred_to_us"}).json()["items"]
    assert [(a["id"], a["origin"], a["delegates"]) for a in listed] == [(aid, GARDEN, ["kim"])]
    # Only the facilitator records its answer, once.
    answer = {"upheld": True, "reason": "Wait until August"}
    assert_problem(
        c.post("cleo", f"/appeals/{aid}/answer", answer),
        403,
        "not_permitted",
        "Only the facilitator can record the circle's answer to an appeal",
    )
    assert_problem(
        c.post("ben", f"/appeals/{aid}/answer", {"upheld": True, "reason": " "}),
        422,
        "invalid_request",
        "An answer gives its reason",
    )
    assert_problem(
        c.post("eli", f"/appeals/{aid}/join", {}),
        409,
        "wrong_stage",
        "Only an appeal against this circle's decision can be joined",
    )
    answered = c.ok("ben", f"/appeals/{aid}/answer", answer)
    assert answered["status"] == "upheld" and answered["final"] is True
    assert_problem(
        c.post("ben", f"/appeals/{aid}/answer", answer),
        409,
        "wrong_stage",
        "This circle has answered this appeal already",
    )
    # An appeal against this circle's own decision is answered by circle-answer instead.
    _, own = _heard(c)
    assert_problem(
        c.post("ben", f"/appeals/{own}/answer", answer),
        409,
        "wrong_stage",
        "Only an appeal taken to this circle is answered here",
    )


def test_a_linked_circles_decision_is_appealed_from_here(circle: Circle) -> None:
    c = circle
    body = {"circle": GARDEN, "decision_id": "d1", "grounds": "It shuts us out"}
    assert_problem(
        c.post("eli", "/appeals/elsewhere", body),
        409,
        "wrong_stage",
        "Decisions of circles linked to this one can be appealed from here",
    )
    assert_problem(
        c.post("gus", "/appeals/elsewhere", body),
        403,
        "not_permitted",
        "Guests take part in rounds; full and learning participants appeal",
    )


def test_the_role_filter_names_a_role(circle: Circle) -> None:
    # As the plans' kind filter: a role that is not one is refused, not an empty list.
    assert_problem(
        circle.get("gus", "/appeals", params={"role": "bogus"}),
        400,
        "malformed",
        "query.role: Input should be 'against_us', 'referred_to_us' or 'sent'",
    )


def test_an_appellant_withdraws_an_appeal(circle: Circle) -> None:
    c = circle
    # Given: an appeal the circle did not uphold (Eli, Ada and Ben appeal; Cleo recorded it).
    _, aid = _heard(c)
    c.ok("cleo", f"/appeals/{aid}/circle-answer", {"upheld": False, "reason": "Pairs work"})
    # Only an appellant withdraws it, with a reason.
    assert_problem(
        c.post("cleo", f"/appeals/{aid}/withdraw", {"reason": "Done"}),
        403,
        "not_permitted",
        "Only an appellant withdraws an appeal",
    )
    assert_problem(
        c.post("eli", f"/appeals/{aid}/withdraw", {"reason": " "}),
        422,
        "invalid_request",
        "Say why the appeal is withdrawn",
    )
    # When: Eli withdraws it. Then: withdrawn, and it goes no further.
    withdrawn = c.ok("eli", f"/appeals/{aid}/withdraw", {"reason": "We talked it over"})
    assert withdrawn["status"] == "withdrawn" and withdrawn["final"] is False
    assert_problem(
        c.post("ada", f"/appeals/{aid}/withdraw", {"reason": "Again"}),
        409,
        "wrong_stage",
        "This appeal was withdrawn",
    )
    assert_problem(
        c.post("eli", f"/appeals/{aid}/take-further"),
        409,
        "wrong_stage",
        "This appeal was withdrawn",
    )
