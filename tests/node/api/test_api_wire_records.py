"""The member API's models that show a wire record (node.network.messages) keep the record's
fields, by name and type, so that the two cannot drift apart; and the API answers with what
the record's one builder (node.app.publishing) says.

- DecisionRecord, a decision as the circle publishes it: DecisionOut shows this circle's own
  (its `id` is the record's `decision_id`, and more besides); CoopPolicy a co-op's policy as
  this circle received it, with the co-op's id and name.
- CircleProfile, the circle's public profile: CircleOut shows it (of the legal entity, the
  registered name only), and more besides.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import msgspec
from pydantic import BaseModel

from domain.values import Purpose
from node.app.published_records import circle_profile, decision_record
from node.demo.scripted import consent_to, select
from node.http.api.circle import CircleOut
from node.http.api.decisions import DecisionOut
from node.http.api.relations import CoopPolicy
from node.network.messages import CircleProfile, DecisionRecord
from tests.node.api.world import Circle

# What the API calls a record's field, where it does not use the record's name.
DECISION_NAMES = {"decision_id": "id"}
NOT_SHOWN_OF_THE_PROFILE = {"legal_number", "legal_registry"}


def record_fields(struct: type[msgspec.Struct]) -> dict[str, tuple[Any, bool]]:
    """A record's fields: (type, required) by name."""
    return {field.name: (field.type, field.required) for field in msgspec.structs.fields(struct)}


def model_fields(model: type[BaseModel]) -> dict[str, tuple[Any, bool]]:
    return {
        name: (field.annotation, field.is_required()) for name, field in model.model_fields.items()
    }


def types(fields: dict[str, tuple[Any, bool]]) -> dict[str, Any]:
    return {name: kind for name, (kind, _) in fields.items()}


def test_a_coop_policy_is_the_decision_record_with_the_coops_id_and_name() -> None:
    # Names, types and which fields may be left out: all the record's.
    assert model_fields(CoopPolicy) == {
        **record_fields(DecisionRecord),
        "circle": (str, True),
        "circle_name": (str, True),
    }
    # A record as received and stored (its builtins) comes out as it went in.
    record = DecisionRecord(
        decision_id="d1",
        binding=True,
        kind="policy",
        title="Budgets",
        text="Every circle reviews its budget each quarter",
        status="in_force",
        effective=date(2026, 3, 2),
        review_date=date(2026, 9, 2),
        term_end=date(2027, 3, 2),
        measures=["a quarterly report"],
    )
    stored = msgspec.to_builtins(record)
    shown = CoopPolicy(**stored, circle="cn1coop", circle_name="Equal Care Co-op")
    assert shown.model_dump(mode="json") == {
        **stored,
        "circle": "cn1coop",
        "circle_name": "Equal Care Co-op",
    }


def test_decision_out_holds_the_decision_records_fields() -> None:
    shown = types(model_fields(DecisionOut))
    for name, kind in types(record_fields(DecisionRecord)).items():
        assert shown.get(DECISION_NAMES.get(name, name)) == kind, name


def test_circle_out_holds_the_circle_profiles_fields_but_the_legal_entitys_number() -> None:
    shown = types(model_fields(CircleOut))
    profile = types(record_fields(CircleProfile))
    assert set(profile) >= NOT_SHOWN_OF_THE_PROFILE
    for name, kind in profile.items():
        if name not in NOT_SHOWN_OF_THE_PROFILE:
            assert shown.get(name) == kind, name
        else:
            assert name not in shown, name


def test_the_api_says_what_the_records_say(circle: Circle) -> None:
    node, ids = circle.node, circle.ids
    # Given an incorporated circle, with a policy and an everyday decision that has a term ...
    consent_to(
        node,
        Purpose.INCORPORATE,
        {"registered_name": "Kitchen Co-op Ltd", "number": "RS00123", "registry": "FCA"},
        by=ids["ada"],
    )
    consent_to(node, Purpose.ADOPT_POLICY, {}, text="Soup on Sundays", by=ids["ada"])
    cook = node.hats.define_hat(ids["ada"], "Cook", "Cooks", [], ["menus"])
    select(node, cook, ids["cleo"])
    node.decisions.take_everyday_decision(
        ids["cleo"], cook, "menus", "Soup", "Soup on Mondays", term_end=date(2031, 1, 1)
    )
    # ... what the API shows of each decision is its record as published,
    decisions = circle.get("gus", "/decisions").json()["items"]
    assert len(decisions) == 2
    for shown in decisions:
        record = msgspec.to_builtins(decision_record(node.records.get_decision(shown["id"])))
        as_named = {DECISION_NAMES.get(name, name): value for name, value in record.items()}
        assert as_named == {name: shown[name] for name in as_named}
    assert any(shown["term_end"] == "2031-01-01" for shown in decisions)
    # and what it shows of the circle is its profile as published.
    profile = msgspec.to_builtins(circle_profile(node.records.get_circle()))
    assert profile["legal_name"] == "Kitchen Co-op Ltd"
    shown_circle = circle.get("gus", "/circle").json()
    for name, value in profile.items():
        if name not in NOT_SHOWN_OF_THE_PROFILE:
            assert shown_circle[name] == value, name
