"""Personal details kept apart from the record, and the register of a circle's records."""

from __future__ import annotations

from uuid import uuid4

import pytest

from domain.errors import InvalidRequest
from domain.person import PersonalDetails
from domain.register import KINDS, REGISTER_ID, Register


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


def test_the_register_files_a_circles_records_by_kind():
    # The node opens its register beside its circle, at a well-known id.
    circle_id = uuid4()
    register = Register(circle_id=circle_id)
    assert register.id == REGISTER_ID
    assert register.circle_id == circle_id
    assert all(register.ids(kind) == [] for kind in KINDS)

    # Proposals and a decision are filed, in order.
    first, second, decision = uuid4(), uuid4(), uuid4()
    register.file("proposal", first)
    register.file("proposal", second)
    register.file("decision", decision)
    assert register.ids("proposal") == [first, second]
    assert register.ids("decision") == [decision]

    # What it returns is a copy: the register cannot be changed behind its back.
    register.ids("proposal").clear()
    assert register.ids("proposal") == [first, second]
