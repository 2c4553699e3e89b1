"""A person's email address and how often they hear from the circle: theirs alone to set.

Cast: Fay (who gives her address), Gus (who tries to change it for her)."""

from __future__ import annotations

import pytest

from domain.errors import InvalidRequest, NotPermitted
from domain.person import PersonalDetails
from domain.values import Notices


def test_a_person_gives_an_address_and_chooses_how_often_to_hear(unchanged):
    # Given Fay, registered without an address: she hears nothing by mail yet.
    fay = PersonalDetails.register("Fay Okafor")
    assert (fay.email, fay.notices) == ("", Notices.EACH)
    me = str(fay.id)

    # When she gives her address and chooses a daily digest,
    fay.choose_mail(me, " fay@example.org ", "digest")

    # then that is what is kept, with her personal details.
    assert (fay.email, fay.notices) == ("fay@example.org", Notices.DIGEST)

    # She may stop mail altogether, or remove her address.
    fay.choose_mail(me, "fay@example.org", "none")
    assert fay.notices == Notices.NONE
    fay.choose_mail(me, "", "each")
    assert fay.email == ""


def test_only_the_person_sets_their_address_and_only_a_real_one(unchanged):
    # Given Fay with her address.
    fay = PersonalDetails.register("Fay Okafor")
    fay.choose_mail(str(fay.id), "fay@example.org", "each")

    # Gus cannot change it for her.
    with unchanged(fay), pytest.raises(NotPermitted, match="Only the person themselves"):
        fay.choose_mail("gus", "gus@example.org", "each")

    # What is not an address, or not a way to hear, is refused.
    # Nor what a mail header reads otherwise: a comment, a group, quoting.
    odd = ("a(b@c.d", "grp:a@b.c", '"fay"@example.org', "fay@[192.0.2.1].org")
    for wrong in ("fay", "fay@example", "a b@example.org", "<fay@example.org>", *odd):
        with unchanged(fay), pytest.raises(InvalidRequest, match="is not an email address"):
            fay.choose_mail(str(fay.id), wrong, "each")
    with unchanged(fay), pytest.raises(InvalidRequest, match="way to hear from the circle"):
        fay.choose_mail(str(fay.id), "fay@example.org", "hourly")
