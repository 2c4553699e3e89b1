"""Hats over HTTP: defining one, the selection process, renewing a term, taking a hat off, and
the terms that are ending."""

from __future__ import annotations

from tests.conftest import Clock
from tests.node.api.world import Circle, assert_problem

ORGANISER = "care-commons-organiser"
HAT = {
    "name": "Care commons organiser",
    "purpose": "Keeps the care rota going",
    "accountabilities": ["Keep the rota", "Order supplies"],
    "domain": ["rota", "supplies"],
    "default_term_months": 6,
}


def test_a_hat_is_defined_and_someone_selected_for_it(circle: Circle) -> None:
    c, ids = circle, circle.ids
    assert_problem(
        c.post("eli", "/hats", HAT), 403, "not_permitted", "Only full participants can define a hat"
    )
    hat = c.ok("cleo", "/hats", HAT, status=201)
    assert hat == {
        "hat_id": ORGANISER,
        "name": "Care commons organiser",
        "purpose": "Keeps the care rota going",
        "accountabilities": ["Keep the rota", "Order supplies"],
        "domain": ["rota", "supplies"],
        "default_term_months": 6,
        "kind": "operational",
        "wearers": [],
        "back_stop": None,
    }
    assert_problem(
        c.post("cleo", "/hats", HAT),
        422,
        "invalid_request",
        "The circle already has a hat called Care commons organiser",
    )
    assert_problem(
        c.post("cleo", "/hats", {**HAT, "name": "Baker", "default_term_months": 61}),
        422,
        "invalid_request",
        "A hat's term is between 1 and 60 months",
    )

    # The facilitator opens the selection.
    assert_problem(
        c.post("cleo", "/selections", {"hat_id": ORGANISER}),
        403,
        "not_permitted",
        "Only the facilitator can open a selection",
    )
    assert_problem(
        c.post("ben", "/selections", {"hat_id": "baker"}),
        404,
        "not_found",
        "The circle has no hat 'baker'",
    )
    selection = c.ok(
        "ben", "/selections", {"hat_id": ORGANISER, "review_date": "2026-09-01"}, status=201
    )
    sid = selection["id"]
    assert selection["kind"] == "selection" and selection["stage"] == "nominating"
    assert selection["hat_name"] == "Care commons organiser"
    assert selection["review_date"] == "2026-09-01" and selection["candidate"] is None

    # Nominations with reasons: full and learning participants; never a guest as nominee.
    nomination = c.ok(
        "ada", f"/selections/{sid}/nominations", {"nominee": ids["cleo"], "reason": "Careful"}, 201
    )
    assert nomination == {
        "nominator": ids["ada"],
        "nominee": ids["cleo"],
        "reason": "Careful",
        "changed": False,
    }
    c.ok("eli", f"/selections/{sid}/nominations", {"nominee": ids["cleo"], "reason": "Kind"}, 201)
    c.ok("cleo", f"/selections/{sid}/nominations", {"nominee": ids["ben"], "reason": "Calm"}, 201)
    assert_problem(
        c.post("gus", f"/selections/{sid}/nominations", {"nominee": ids["ada"], "reason": "x"}),
        403,
        "not_permitted",
        "Guests do not nominate; full and learning participants do",
    )
    assert_problem(
        c.post("ben", f"/selections/{sid}/nominations", {"nominee": ids["gus"], "reason": "x"}),
        403,
        "not_permitted",
        "Guests do not wear hats",
    )
    assert_problem(
        c.post(
            "ada", f"/selections/{sid}/change-nomination", {"nominee": ids["ben"], "reason": "x"}
        ),
        409,
        "wrong_stage",
        "Cannot change a nomination while it is nominating",
    )

    # The change round, then the candidate and the consent round.
    assert c.ok("ben", f"/selections/{sid}/change-round")["stage"] == "change_round"
    changed = c.ok(
        "cleo",
        f"/selections/{sid}/change-nomination",
        {"nominee": ids["cleo"], "reason": "Having heard you, I will"},
    )
    assert changed["changed"] is True and changed["nominee"] == ids["cleo"]
    assert_problem(
        c.post("ben", f"/selections/{sid}/candidate", {"candidate": ids["ada"], "reason": "x"}),
        422,
        "invalid_request",
        "The candidate must be someone the circle nominated",
    )
    proposed = c.ok(
        "ben", f"/selections/{sid}/candidate", {"candidate": ids["cleo"], "reason": "Most named"}
    )
    assert proposed["stage"] == "consent_round" and proposed["candidate"] == ids["cleo"]
    assert proposed["candidate_reason"] == "Most named" and proposed["round_number"] == 1
    for who in ("ada", "ben", "cleo"):
        c.ok(who, f"/processes/{sid}/consents", {}, 201)
    assert c.ok("ben", f"/processes/{sid}/close") == {"outcome": "consented", "decision_id": None}

    worn = c.get("gus", f"/hats/{ORGANISER}").json()
    assert worn["wearers"] == [
        {
            "person_id": ids["cleo"],
            "name": "Cleo",
            "started": "2026-03-01",
            "review_date": "2026-09-01",
            "selection_id": sid,
        }
    ]
    seen = c.get("gus", f"/selections/{sid}").json()
    assert seen["stage"] == "consented"
    assert {n["nominator"]: n["nominee"] for n in seen["nominations"]} == {
        ids["ada"]: ids["cleo"],
        ids["eli"]: ids["cleo"],
        ids["cleo"]: ids["cleo"],
    }
    assert [r["outcome"] for r in seen["rounds"]] == ["consented"]
    assert c.get("ada", f"/processes/{sid}").json()["kind"] == "selection"
    listed = c.get("ada", "/selections").json()
    # The facilitator's and secretary's selections came first (when the circle started).
    assert listed["total"] == 3 and listed["items"][-1]["id"] == sid
    hats = c.get("ada", "/hats").json()
    assert [h["hat_id"] for h in hats["items"]] == [
        "facilitator",
        "secretary",
        "leader",
        "delegate",
        ORGANISER,
    ]


def test_terms_are_renewed_taken_off_and_listed_when_ending(circle: Circle, clock: Clock) -> None:
    c, ids = circle, circle.ids
    # Ada's secretary term and Ben's facilitator term run for a year from 2026-03-01.
    assert c.get("ada", "/terms-ending").json()["total"] == 0
    clock.advance(days=340)
    ending = c.get("ada", "/terms-ending").json()
    assert [(t["hat_id"], t["name"], t["review_date"]) for t in ending["items"]] == [
        ("facilitator", "Ben", "2027-03-01"),
        ("secretary", "Ada", "2027-03-01"),
    ]
    assert c.get("ada", "/terms-ending", params={"within_days": 10}).json()["total"] == 0
    for bad in ("-1", "3661", "soon"):
        assert_problem(c.get("ada", "/terms-ending", params={"within_days": bad}), 400, "malformed")

    renewal = {"person_id": ids["ben"], "review_date": "2028-03-01"}
    assert_problem(
        c.post("ben", "/hats/facilitator/renewals", renewal),
        403,
        "not_permitted",
        "Only the secretary can renew a hat's term",
    )
    assert_problem(
        c.post("ada", "/hats/facilitator/renewals", {**renewal, "review_date": "2027-01-01"}),
        422,
        "invalid_request",
        "A renewed term must end after the current review date",
    )
    assert_problem(
        c.post("ada", "/hats/facilitator/renewals", {**renewal, "person_id": ids["cleo"]}),
        404,
        "not_found",
        "This person does not wear the facilitator hat",
    )
    renewed = c.ok("ada", "/hats/facilitator/renewals", renewal)
    assert renewed["wearers"][0]["review_date"] == "2028-03-01"
    assert [t["hat_id"] for t in c.get("ada", "/terms-ending").json()["items"]] == ["secretary"]

    # A hat can always be taken off by its wearer; by others only the secretary records it.
    off = {"person_id": ids["ada"], "reason": "Time for someone else"}
    assert_problem(
        c.post("ben", "/hats/secretary/take-off", off),
        403,
        "not_permitted",
        "Only the secretary can take a hat off someone",
    )
    assert_problem(
        c.post("ada", "/hats/secretary/take-off", {**off, "reason": " "}),
        422,
        "invalid_request",
        "Say why the hat comes off",
    )
    assert c.ok("ada", "/hats/secretary/take-off", off)["wearers"] == []
    assert c.get("ada", "/terms-ending").json()["total"] == 0
