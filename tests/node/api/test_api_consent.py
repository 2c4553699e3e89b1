"""The consent process over HTTP: a proposal from draft to a policy in force, and the ways a
round can go (integration by a shorter term, withdrawal, a formal vote, answers in advance)."""

from __future__ import annotations

from typing import Any

from tests.node.api.world import Circle, assert_problem

FULL_ONLY = (
    "Only full participants can consent or object; learning participants and guests speak, "
    "not block"
)


def draft(c: Circle, who: str = "cleo", **fields: Any) -> dict[str, Any]:
    body = {"title": "Paid travel time", "text": "Travel to visits is paid", **fields}
    answer: dict[str, Any] = c.ok(who, "/proposals", body, status=201)
    return answer


def to_consent_round(c: Circle, proposal: str, proposer: str = "cleo") -> None:
    c.ok(proposer, f"/proposals/{proposal}/present")
    c.ok("ben", f"/proposals/{proposal}/reaction-round")
    c.ok("ben", f"/processes/{proposal}/consent-round")


def test_a_proposal_goes_from_draft_to_a_policy_in_force(circle: Circle) -> None:
    c, ids = circle, circle.ids
    # The circle formed its aim by a consented proposal before it became active.
    formed = [p["id"] for p in c.get("ada", "/proposals").json()["items"]]
    proposal = draft(c, review_date="2027-01-01")
    pid = proposal["id"]
    assert proposal["kind"] == "proposal" and proposal["stage"] == "draft"
    assert proposal["proposer"] == ids["cleo"] and proposal["purpose"] == "adopt_policy"
    assert proposal["method"] == "consent" and proposal["review_date"] == "2027-01-01"

    # Only the proposer presents it.
    assert_problem(
        c.post("ben", f"/proposals/{pid}/present"),
        403,
        "not_permitted",
        "Only the proposer presents their proposal",
    )
    assert c.ok("cleo", f"/proposals/{pid}/present")["stage"] == "presented"

    # Anyone may ask, guests included; the reaction round waits for the answer.
    question = c.ok("gus", f"/proposals/{pid}/questions", {"question": "Per hour?"}, 201)
    assert question == {"number": 1, "person_id": ids["gus"], "text": "Per hour?", "answer": None}
    assert_problem(
        c.post("ben", f"/proposals/{pid}/reaction-round"),
        409,
        "wrong_stage",
        "Answer question 1 before the reaction round",
    )
    answered = c.ok("cleo", f"/proposals/{pid}/questions/1/answer", {"answer": "Yes, per hour"})
    assert answered["answer"] == "Yes, per hour"
    assert c.ok("ben", f"/proposals/{pid}/reaction-round")["stage"] == "reactions"
    reaction = c.ok("eli", f"/proposals/{pid}/reactions", {"reaction": "Fair"}, 201)
    assert reaction == {"person_id": ids["eli"], "text": "Fair"}
    amended = c.ok("cleo", f"/proposals/{pid}/amend", {"text": "Travel to visits is paid hourly"})
    assert amended["text"] == "Travel to visits is paid hourly"
    assert amended["amendments"] == ["Travel to visits is paid"]

    # The consent round: only full participants answer; an objection gets its number.
    opened = c.ok("ben", f"/processes/{pid}/consent-round")
    assert opened["stage"] == "consent_round" and opened["round_number"] == 1
    for who in ("gus", "eli"):
        assert_problem(
            c.post(who, f"/processes/{pid}/objections", {"argument": "Too costly"}),
            403,
            "not_permitted",
            FULL_ONLY,
        )
    objection = c.ok("ada", f"/processes/{pid}/objections", {"argument": "No budget yet"}, 201)
    assert objection == {
        "number": 1,
        "person_id": ids["ada"],
        "argument": "No budget yet",
        "round": 1,
        "resolved_by": None,
        "withdrawn": False,
        "open": True,
    }
    assert_problem(
        c.post("ada", f"/processes/{pid}/consents", {}),
        409,
        "wrong_stage",
        "You have already answered in this round; change your answer instead",
    )
    consent = c.ok("ben", f"/processes/{pid}/consents", {"concern": "Watch the cost"}, 201)
    assert consent == {
        "person_id": ids["ben"],
        "consents": True,
        "text": "Watch the cost",
        "in_advance": False,
    }
    c.ok("cleo", f"/processes/{pid}/consents", {}, 201)
    assert c.ok("ben", f"/processes/{pid}/close") == {"outcome": "integrating", "decision_id": None}

    # Integrate before the round repeats.
    assert_problem(
        c.post("ben", f"/processes/{pid}/consent-round"),
        409,
        "wrong_stage",
        "Integrate objection 1 before the consent round repeats",
    )
    integration = c.ok(
        "cleo",
        f"/processes/{pid}/integrations",
        {"how": "add_measure", "text": "Review the cost after three months", "objections": [1]},
        201,
    )
    assert integration == {
        "number": 1,
        "how": "add_measure",
        "text": "Review the cost after three months",
        "objections": [1],
        "by": ids["cleo"],
    }

    # The second round: everyone consents, and the policy is in force.
    assert c.ok("ben", f"/processes/{pid}/consent-round")["round_number"] == 2
    for who in ("ada", "ben", "cleo"):
        c.ok(who, f"/processes/{pid}/consents", {}, 201)
    closed = c.ok("ben", f"/processes/{pid}/close")
    assert closed["outcome"] == "consented" and closed["decision_id"]

    seen = c.get("eli", f"/proposals/{pid}").json()
    assert seen["stage"] == "consented" and seen["measures"] == [
        "Review the cost after three months"
    ]
    assert [r["outcome"] for r in seen["rounds"]] == ["integrating", "consented"]
    first = seen["rounds"][0]
    assert first["consents"] == sorted([ids["ben"], ids["cleo"]])
    assert first["objections"] == [1] and first["concerns"] == ["Watch the cost"]
    assert first["missing"] == []
    assert seen["objections"][0]["resolved_by"] == 1 and not seen["objections"][0]["open"]
    assert seen["questions"][0]["answer"] == "Yes, per hour"
    assert len(seen["answers"]) == 3  # the current (second) round's

    decisions = c.get("gus", "/decisions").json()
    assert decisions["total"] == 1
    (policy,) = decisions["items"]
    assert policy["id"] == closed["decision_id"]
    assert policy["kind"] == "policy" and policy["status"] == "in_force"
    assert policy["title"] == "Paid travel time"
    assert policy["text"] == "Travel to visits is paid hourly"
    assert policy["proposal_id"] == pid and policy["taken_by"] == ids["cleo"]
    assert policy["effective"] == "2026-03-01" and policy["review_date"] == "2027-01-01"
    assert policy["measures"] == ["Review the cost after three months"]
    assert c.get("ada", f"/decisions/{policy['id']}").json() == policy

    # The process is also found by its id, whatever it is.
    process = c.get("ada", f"/processes/{pid}").json()
    assert process["kind"] == "proposal" and process["title"] == "Paid travel time"
    listed = c.get("ada", "/proposals", params={"stage": "consented"}).json()
    assert [p["id"] for p in listed["items"]] == [*formed, pid]
    assert c.get("ada", "/proposals", params={"stage": "draft"}).json()["total"] == 0


def test_shortening_the_term_withdrawing_and_escalating(circle: Circle) -> None:
    c, ids = circle, circle.ids
    pid = draft(c, review_date="2027-06-01")["id"]
    to_consent_round(c, pid)
    c.ok("ada", f"/processes/{pid}/objections", {"argument": "A year is too long"}, 201)
    # Only who raised an objection withdraws it.
    assert_problem(
        c.post("ben", f"/processes/{pid}/objections/1/withdraw"),
        403,
        "not_permitted",
        "Only the person who raised an objection can withdraw it",
    )
    c.ok("ben", f"/processes/{pid}/consents", {}, 201)
    c.ok("cleo", f"/processes/{pid}/consents", {}, 201)
    assert c.ok("ben", f"/processes/{pid}/close")["outcome"] == "integrating"
    # This circle has no broader circle to escalate to.
    assert_problem(
        c.post("ben", f"/processes/{pid}/escalate", {"reason": "Stuck"}),
        409,
        "wrong_stage",
        "This circle has no broader circle to pass the decision to",
    )
    assert_problem(
        c.post(
            "cleo",
            f"/processes/{pid}/integrations",
            {"how": "shorten_term", "text": "Six months", "objections": [1]},
        ),
        422,
        "invalid_request",
        "Shortening the term needs the new, earlier review date",
    )
    assert_problem(
        c.post(
            "cleo",
            f"/processes/{pid}/integrations",
            {"how": "rewrite", "text": "x", "objections": [1]},
        ),
        422,
        "invalid_request",
        "Unknown way to integrate an objection 'rewrite'; choose one of: amend, shorten_term, "
        "add_measure",
    )
    c.ok(
        "cleo",
        f"/processes/{pid}/integrations",
        {
            "how": "shorten_term",
            "text": "Six months first",
            "objections": [1],
            "review_date": "2026-09-01",
        },
        201,
    )
    assert c.get("ada", f"/proposals/{pid}").json()["review_date"] == "2026-09-01"
    # Someone else's proposal is withdrawn by the facilitator only.
    assert_problem(
        c.post("ada", f"/processes/{pid}/withdraw"),
        403,
        "not_permitted",
        "Only the facilitator can withdraw someone else's proposal",
    )
    assert c.ok("cleo", f"/processes/{pid}/withdraw")["stage"] == "withdrawn"
    assert_problem(
        c.post("cleo", f"/processes/{pid}/withdraw"),
        409,
        "wrong_stage",
        "Cannot withdraw it: it is already withdrawn",
    )

    # An objection can be withdrawn by who raised it.
    other = draft(c, title="Shared car")["id"]
    to_consent_round(c, other)
    c.ok("cleo", f"/processes/{other}/objections", {"argument": "Insurance"}, 201)
    withdrawn = c.ok("cleo", f"/processes/{other}/objections/1/withdraw")
    assert withdrawn["objections"][0]["withdrawn"] is True
    assert withdrawn["objections"][0]["open"] is False
    assert ids["cleo"] in [a["person_id"] for a in withdrawn["answers"]]


def test_a_topic_decided_by_formal_vote_and_answers_in_advance(circle: Circle) -> None:
    c, ids = circle, circle.ids
    # The circle changes its rules by consent: budgets by formal vote, answers in advance.
    rules = draft(
        c,
        purpose="change_rules",
        subject={
            "methods_by_topic": {"budget": "formal_vote"},
            "absentee_policy": "reacted_in_advance",
        },
    )["id"]
    to_consent_round(c, rules)
    for who in ("ada", "ben", "cleo"):
        c.ok(who, f"/processes/{rules}/consents", {}, 201)
    assert c.ok("ben", f"/processes/{rules}/close") == {"outcome": "consented", "decision_id": None}
    assert c.get("ada", "/circle").json()["absentee_policy"] == "reacted_in_advance"

    vote = draft(c, title="Budget 2026", topic="budget")
    assert vote["method"] == "formal_vote"
    c.ok("cleo", f"/proposals/{vote['id']}/present")
    # Cleo will be away: she answers in advance (an objection needs its argument).
    assert_problem(
        c.post("cleo", f"/processes/{vote['id']}/answers-in-advance", {"consents": False}),
        422,
        "invalid_request",
        "An objection needs its argument",
    )
    early = c.ok(
        "cleo", f"/processes/{vote['id']}/answers-in-advance", {"consents": True}, status=201
    )
    assert early == {"person_id": ids["cleo"], "consents": True, "text": "", "in_advance": True}
    c.ok("ben", f"/proposals/{vote['id']}/reaction-round")
    c.ok("ben", f"/processes/{vote['id']}/consent-round")
    assert_problem(
        c.post("ada", f"/processes/{vote['id']}/consents", {}),
        409,
        "wrong_stage",
        "The circle's rules decide this by formal vote; record the vote's result instead",
    )
    counts = {"in_favour": 3, "against": 1}
    assert_problem(
        c.post("ben", f"/proposals/{vote['id']}/vote", counts),
        403,
        "not_permitted",
        "Only the secretary can record a vote's result",
    )
    outcome = c.ok("ada", f"/proposals/{vote['id']}/vote", counts)
    assert outcome["outcome"] == "consented" and outcome["decision_id"]
    assert c.get("ada", f"/proposals/{vote['id']}").json()["vote"] == {
        "in_favour": 3,
        "against": 1,
        "abstentions": 0,
    }


def test_proposals_at_one_stage_are_paged_in_the_order_drafted(circle: Circle) -> None:
    c = circle
    # Given: five proposals drafted, the second and fourth presented.
    drafted = [draft(c, title=f"Idea {n}")["id"] for n in range(5)]
    for proposal in (drafted[1], drafted[3]):
        c.ok("cleo", f"/proposals/{proposal}/present")
    every = c.get("cleo", "/proposals", params={"limit": 100}).json()["items"]

    # When: the proposals at a stage are asked a page at a time.
    def at(stage: str, offset: int, limit: int) -> dict[str, Any]:
        answer = c.get(
            "cleo", "/proposals", params={"stage": stage, "offset": offset, "limit": limit}
        )
        assert answer.status_code == 200, answer.text
        page: dict[str, Any] = answer.json()
        return page

    # Then: each page is those of the whole list at that stage, in the order drafted.
    for stage in ("draft", "presented", "consented"):
        kept = [p["id"] for p in every if p["stage"] == stage]
        for offset in range(0, len(kept) + 2, 2):
            page = at(stage, offset, 2)
            assert [p["id"] for p in page["items"]] == kept[offset : offset + 2], stage
            assert page["total"] == len(kept)
    assert [p["id"] for p in at("presented", 0, 10)["items"]] == [drafted[1], drafted[3]]
