"""Records held inside aggregates copy field by field, and a copy shares nothing mutable."""

from __future__ import annotations

import copy
import dataclasses
from datetime import date

from domain import records
from domain.records import GoverningRules, HatDefinition, IntegrationRecord, Participant, Record
from domain.values import Membership


def test_every_record_is_a_record() -> None:
    kinds = [v for v in vars(records).values() if dataclasses.is_dataclass(v)]
    assert kinds and all(issubclass(kind, Record) for kind in kinds)


def test_a_copied_record_is_equal_and_shares_nothing_mutable() -> None:
    hat = HatDefinition("cook", "Cook", "Feed us", ["Plan menus"], ["menu"], 12, "operational")
    rules = GoverningRules(methods_by_topic={"budget": "vote"})
    integration = IntegrationRecord(1, "amend", "Only on Sundays", [1, 2], "ada")
    held = {"hats": {"cook": hat}, "rules": rules, "log": [integration]}
    copied = copy.deepcopy(held)
    assert copied == held
    copied["hats"]["cook"].domain.append("shopping")
    copied["rules"].methods_by_topic["hats"] = "consent"
    copied["log"][0].objections.append(3)
    assert hat.domain == ["menu"]
    assert rules.methods_by_topic == {"budget": "vote"}
    assert integration.objections == [1, 2]
    # Values that cannot change (dates, enums, text) are shared as they are.
    person = Participant("p1", "full", Membership.ACTIVE, date(2026, 1, 5))
    twin = copy.deepcopy(person)
    assert twin == person and twin is not person and twin.since is person.since
