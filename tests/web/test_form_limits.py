"""What a form's fields hold, as the member API takes them: moments the clock can hold, texts
no longer than the API's (node.http.web.forms), refused beside their field; and the people
pages' admission and erasure when something goes wrong or is gone."""

from __future__ import annotations

import re
from zoneinfo import ZoneInfo

import pytest

from node.http.web.forms import FieldRefused, Form
from tests.node.api.world import Circle
from tests.web.test_sessions import Browserless
from tests.web.visiting import signed_in


@pytest.mark.parametrize(
    "typed",
    ["9999-12-31T23:59", "9999-12-31T23:59-12:00", "0001-01-01T00:00+14:00"],
)
def test_a_moment_the_clock_cannot_hold_is_refused_beside_its_field(typed: str) -> None:
    form = Form([("when", typed)])
    with pytest.raises(FieldRefused) as refused:
        form.moment("when", "meeting's time", ZoneInfo("America/New_York"))
    assert refused.value.field == "when"
    assert str(refused.value) == "The meeting's time is out of range"


def test_a_meeting_at_a_moment_out_of_range_is_refused_and_nothing_is_planned(
    kitchen_circle: Circle,
) -> None:
    c = kitchen_circle
    ben = signed_in(c, "ben")

    refused = ben.client.post(
        "/meetings",
        data={"csrf": ben.csrf("/meetings"), "title": "Far", "when": "9999-12-31T23:59-12:00"},
    )

    assert refused.status_code == 422
    assert 'id="schedule-when-error">The meeting&#39;s date and time is out of range' in (
        refused.text
    )
    assert c.node.records.list_meetings() == []
    assert ben.client.get("/meetings").status_code == 200


def test_a_title_longer_than_the_api_takes_is_refused_beside_it(kitchen_circle: Circle) -> None:
    c = kitchen_circle
    ben = signed_in(c, "ben")

    refused = ben.client.post(
        "/meetings",
        data={"csrf": ben.csrf("/meetings"), "title": "M" * 301, "when": "2026-03-09T18:00"},
    )

    assert refused.status_code == 422
    assert 'id="schedule-title-error">This is longer than 300 characters' in refused.text
    assert c.node.records.list_meetings() == []


def test_an_admission_whose_token_cannot_be_issued_says_so(
    kitchen_circle: Circle, monkeypatch: pytest.MonkeyPatch
) -> None:
    c, node = kitchen_circle, kitchen_circle.node
    # Given: an applicant; the token store fails once they are admitted.
    dora = node.people.apply_to_join("Dora Dunn")
    ada = signed_in(c, "ada")

    def fails(*args: object, **kwargs: object) -> None:
        raise OSError("the store went away")

    monkeypatch.setattr(node.tokens, "issue_token", fails)

    # When: Ada, the secretary, admits her.
    answer = ada.client.post(
        f"/people/{dora}/admit",
        data={"csrf": ada.csrf(f"/people/{dora}"), "level": "full"},
    )

    # Then: the page says she is admitted and how to give her a token; no traceback.
    assert answer.status_code == 503
    assert "Admitted, but no personal token could be issued: issue one below." in answer.text
    assert node.records.peek_circle().participants[dora].status == "active"
    assert "Traceback" not in answer.text


def test_the_notice_of_an_erasure_does_not_name_the_erased(kitchen_circle: Circle) -> None:
    c, node = kitchen_circle, kitchen_circle.node
    dora = node.people.apply_to_join("Dora Dunn")
    node.people.decline(c.ids["ada"], dora)
    ada = signed_in(c, "ada")

    erased = ada.client.post(
        f"/people/{dora}/erase",
        data={"csrf": ada.csrf(f"/people/{dora}"), "confirmed": "yes"},
        follow_redirects=False,
    )
    assert erased.status_code == 303
    # The notice waits in the session, kept in the store: it says what was done, without the
    # name.
    shown = ada.client.get(erased.headers["location"]).text
    assert re.search(r"Their personal data.* are erased", shown)
    assert "Dora" not in shown


def test_a_wrong_token_is_refused_beside_the_token_field_and_not_sent_back(
    kitchen_circle: Circle,
) -> None:
    visitor = Browserless(kitchen_circle.client.app)  # type: ignore[arg-type]
    refused = visitor.client.post(
        "/sign-in",
        data={"csrf": visitor.csrf("/sign-in"), "token": "cn_not-a-token", "next": "/home"},
    )
    assert refused.status_code == 401
    field = re.search(r'<input type="password" id="token"[^>]*>', refused.text)
    assert field is not None
    assert 'aria-describedby="token-error"' in field.group(0)
    assert "autofocus" in field.group(0)
    assert 'id="token-error"' in refused.text
    assert "cn_not-a-token" not in refused.text


def test_an_address_that_is_not_one_is_refused_beside_the_email_field(
    kitchen_circle: Circle,
) -> None:
    c = kitchen_circle
    cleo = signed_in(c, "cleo")
    refused = cleo.client.post(
        "/account/mail",
        data={"csrf": cleo.csrf("/account"), "email": "not an address", "notices": "each"},
    )
    assert refused.status_code == 422
    field = re.search(r'<input type="email" id="email"[^>]*>', refused.text)
    assert field is not None
    assert 'aria-describedby="email-error"' in field.group(0)
    assert '<p class="field-error" role="alert" id="email-error">' in refused.text
    assert 'value="not an address"' in refused.text
