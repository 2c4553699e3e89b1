"""Personal details kept apart from the record, and the register of a circle's records."""

from __future__ import annotations

from uuid import uuid4

import pytest

from domain.errors import InvalidRequest
from domain.person import PersonalDetails
from domain.register import KINDS, REGISTER_ID, Index, Register, index_id


def test_personal_details_are_kept_apart_and_can_be_updated(unchanged):
    # Fay's name and contact are registered, apart from the circle's record.
    fay = PersonalDetails.register("  Fay Okafor ", " fay@example.org ")
    assert (fay.name, fay.contact) == ("Fay Okafor", "fay@example.org")

    # She updates them.
    fay.update("Fay O.", "")
    assert (fay.name, fay.contact) == ("Fay O.", "")

    # A person always has a name.
    with pytest.raises(InvalidRequest, match="A person needs a name"):
        PersonalDetails.register(" ")
    with unchanged(fay), pytest.raises(InvalidRequest, match="A person needs a name"):
        fay.update("", "fay@example.org")


def test_the_register_names_the_circle_and_indexes_its_records_by_kind():
    # The node opens its register beside its circle, at a well-known id.
    circle_id = uuid4()
    register = Register(circle_id=circle_id)
    assert register.id == REGISTER_ID
    assert register.circle_id == circle_id

    # One index per kind, each at a well-known id of its own.
    proposals, decisions = Index(kind="proposal"), Index(kind="decision")
    assert proposals.id == index_id("proposal") != decisions.id == index_id("decision")
    assert len({index_id(kind) for kind in KINDS} | {REGISTER_ID}) == len(KINDS) + 1
    assert proposals.ids() == decisions.ids() == []
    with pytest.raises(ValueError, match="No index of 'votes'"):
        Index(kind="votes")

    # Proposals and a decision are filed, in order.
    first, second, decision = uuid4(), uuid4(), uuid4()
    proposals.file(first)
    proposals.file(second)
    decisions.file(decision)
    assert proposals.ids() == [first, second]
    assert decisions.ids() == [decision]

    # What it returns is a copy: the index cannot be changed behind its back.
    proposals.ids().clear()
    assert proposals.ids() == [first, second]


def test_an_index_sits_where_stores_written_before_put_it() -> None:
    # Its id is worked out once per kind (kept by the process): it is still the one every
    # store holds its index under, whichever kind is asked first and however often.
    from uuid import NAMESPACE_URL, uuid5

    for kind in (*KINDS, *KINDS):
        assert index_id(kind) == uuid5(NAMESPACE_URL, f"circle-node:register:{kind}")
    assert index_id("decision") is index_id("decision")
