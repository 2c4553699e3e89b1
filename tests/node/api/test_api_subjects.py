"""Each proposal purpose's `subject` is a declared schema: the OpenAPI document shows the draft
as a union discriminated by `purpose`, one subject schema for each purpose, with the keys the
circle needs as required; a purpose added without one fails here.

Cast: the kitchen circle of tests/node/api/world.py (Ada secretary, Ben facilitator, Cleo,
Eli learning, Gus guest).
"""

from __future__ import annotations

from typing import Any

from domain.proposal import SUBJECT_KEYS
from domain.values import Purpose
from tests.node.api.world import Circle, assert_problem


def _schema(spec: dict[str, Any], ref: str) -> dict[str, Any]:
    schema: dict[str, Any] = spec["components"]["schemas"][ref.rsplit("/", 1)[1]]
    return schema


def test_every_purpose_has_a_declared_subject(circle: Circle) -> None:
    # Given: the node's OpenAPI document.
    spec = circle.client.get("/openapi.json").json()
    body = spec["paths"]["/api/proposals"]["post"]["requestBody"]
    draft = _schema(spec, body["content"]["application/json"]["schema"]["$ref"])
    # Then: the draft is a union discriminated by purpose, with one member for every purpose.
    assert draft["discriminator"]["propertyName"] == "purpose"
    mapping = draft["discriminator"]["mapping"]
    assert set(mapping) == {purpose.value for purpose in Purpose}
    assert len(draft["oneOf"]) == len(Purpose)
    for purpose in Purpose:
        member = _schema(spec, mapping[purpose.value])
        assert member["properties"]["purpose"]["const"] == purpose.value
        assert {"title", "text"} <= set(member["required"])
        # And: each names its subject's schema: its keys described, the ones the circle
        # needs required, no other key taken.
        subject = _schema(spec, member["properties"]["subject"]["$ref"])
        assert subject["description"], purpose
        assert subject["additionalProperties"] is False, purpose
        assert all(key["description"] for key in subject["properties"].values()), purpose
        assert set(SUBJECT_KEYS[purpose]) <= set(subject.get("required", [])), purpose
        assert ("subject" in member["required"]) == bool(SUBJECT_KEYS[purpose]), purpose
    # And: only a draft adopting a policy may leave out its purpose (the shape of old drafts).
    unnamed = [p for p in Purpose if "purpose" not in _schema(spec, mapping[p])["required"]]
    assert unnamed == [Purpose.ADOPT_POLICY]


def test_the_subjects_the_issue_names_are_documented(circle: Circle) -> None:
    spec = circle.client.get("/openapi.json").json()
    schemas = spec["components"]["schemas"]
    # The fields a user learned only from 422 answers before.
    assert set(schemas["ProposeLeaderSubject"]["required"]) == {"circle", "person"}
    answer = schemas["AnswerConsentRequestSubject"]
    assert set(answer["required"]) == {"circle", "request", "consents"}
    assert set(answer["properties"]) == {"circle", "request", "round", "consents", "argument"}
    assert set(schemas["OfferSupportSubject"]["required"]) == {"circle", "request"}
    rules = schemas["ChangeRulesSubject"]["properties"]
    assert {"quorum_percent", "time_zone", "long_term_circle", "care_and_counsel"} <= set(rules)
    assert set(schemas["AdoptPolicySubject"]["properties"]) == {
        "supersedes",
        "binds_member_circles",
    }
    # And: a proposal's subject, as the API shows it, refers to the same schemas.
    shown = schemas["ProposalOut"]["properties"]["subject"]
    assert {ref["$ref"].rsplit("/", 1)[1] for ref in shown["anyOf"]} == {
        f"{''.join(w.capitalize() for w in p.value.split('_'))}Subject" for p in Purpose
    }


def test_drafts_keep_their_shape_and_subjects_are_read_by_their_schema(circle: Circle) -> None:
    c = circle
    # Given: a draft that names no purpose: it adopts a policy, as before.
    made = c.ok("cleo", "/proposals", {"title": "Rota", "text": "Weekly"}, 201)
    assert (made["purpose"], made["subject"]) == ("adopt_policy", {})
    # When: a draft names its purpose beside its subject.
    body = {"title": "Aim", "text": "y", "purpose": "change_aim", "subject": {"aim": "Cook"}}
    made = c.ok("cleo", "/proposals", body, 201)
    # Then: the subject is stored as it was sent, nothing added.
    assert (made["purpose"], made["subject"]) == ("change_aim", {"aim": "Cook"})
    # And: a subject the purpose does not declare is refused as malformed, naming the key.
    wrong = {**body, "subject": {"aim": "Cook", "aims": "Typo"}}
    assert_problem(
        c.post("cleo", "/proposals", wrong),
        400,
        "malformed",
        "body.change_aim.subject.aims: Extra inputs are not permitted",
    )
    # And: a change of rules keeps an explicit null (no circle named) apart from a rule left out.
    rules = {
        "title": "Rules",
        "text": "y",
        "purpose": "change_rules",
        "subject": {"time_zone": "Europe/London", "care_and_counsel": None},
    }
    made = c.ok("cleo", "/proposals", rules, 201)
    assert made["subject"] == {"time_zone": "Europe/London", "care_and_counsel": None}
