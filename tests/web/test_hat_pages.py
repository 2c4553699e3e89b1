"""The hats pages over HTTP (no browser): defining a hat, and on a hat's page renewing a term,
taking the hat off (asked once more) and recording its back-stop. Each form is offered only to
those the circle's rules let use it; others who post anyway get a 403 page, and a refused form
comes back with the domain's sentence beside its field, nothing changed."""

from __future__ import annotations

from typing import Any

import httpx
from markupsafe import escape

from tests.node.api.world import Circle
from tests.web.test_sessions import Browserless


class Member(Browserless):
    """Someone of the kitchen circle, signed in through the form."""

    def __init__(self, circle: Circle, who: str) -> None:
        super().__init__(circle.client.app)  # type: ignore[arg-type]
        assert self.sign_in(circle.tokens[who]).status_code == 303

    def post(self, path: str, page: str, **data: Any) -> httpx.Response:
        """Post a form of `page` (its CSRF token taken from it) to `path`."""
        return self.client.post(path, data={"csrf": self.csrf(page), **data})


def beside(form: str, field: str, sentence: str) -> str:
    """The refusal's sentence as the page shows it beside a field."""
    return f'<p class="field-error" id="{form}-{field}-error">{escape(sentence)}</p>'


HAT = {
    "name": "Tea maker",
    "purpose": "Keeps the tea flowing",
    "accountabilities": "Buy tea\nWash the pot",
    "domain": "tea",
    "default_term_months": "6",
    "kind": "operational",
}


def test_a_full_participant_defines_a_hat_on_the_hats_page(kitchen_circle: Circle) -> None:
    c = kitchen_circle
    # Given: Cleo (full) and Eli (learning) on the hats page.
    cleo, eli = Member(c, "cleo"), Member(c, "eli")
    assert 'action="/hats"' in cleo.client.get("/hats").text
    # Eli is not offered the form, and is refused if he posts it anyway.
    assert 'action="/hats"' not in eli.client.get("/hats").text
    refused = eli.post("/hats", "/hats", **HAT)
    assert refused.status_code == 403
    assert "Only full participants can define a hat" in refused.text
    assert "tea-maker" not in c.node.records.peek_circle().hats

    # When: Cleo defines the tea maker's hat.
    done = cleo.post("/hats", "/hats", **HAT)

    # Then: she is on the hat's page, which shows it as defined, one accountability a line.
    assert done.status_code == 200 and str(done.url).endswith("/hats/tea-maker")
    assert "The hat is defined." in done.text
    hat = c.node.records.peek_circle().hat("tea-maker")
    assert (hat.accountabilities, hat.domain, hat.default_term_months) == (
        ["Buy tea", "Wash the pot"],
        ["tea"],
        6,
    )
    assert "Nobody wears this hat." in done.text


def test_a_refused_hat_comes_back_with_the_sentence_beside_its_field(
    kitchen_circle: Circle,
) -> None:
    c = kitchen_circle
    cleo = Member(c, "cleo")
    # When: Cleo defines an operational hat with no domain, then one with a term of "a year".
    no_domain = cleo.post("/hats", "/hats", **{**HAT, "domain": ""})
    no_term = cleo.post("/hats", "/hats", **{**HAT, "default_term_months": "a year"})

    # Then: each is refused beside its field, with what she typed kept; no hat is defined.
    assert no_domain.status_code == 422
    sentence = "An operational hat needs a domain: the areas its wearer may decide in"
    assert beside("define", "domain", sentence) in no_domain.text
    assert 'value="Tea maker"' in no_domain.text
    assert no_term.status_code == 422
    assert beside("define", "default_term_months", "Choose the term, in months") in no_term.text
    assert "tea-maker" not in c.node.records.peek_circle().hats


def test_the_secretary_renews_a_term_on_the_hats_page(kitchen_circle: Circle) -> None:
    c, ids = kitchen_circle, kitchen_circle.ids
    term = c.node.records.peek_circle().term("facilitator", ids["ben"])
    later = term.review_date.replace(year=term.review_date.year + 1)
    # Given: Ada, the secretary, and Cleo on the facilitator's page.
    ada, cleo = Member(c, "ada"), Member(c, "cleo")
    assert f"renew-{ids['ben']}-review_date" in ada.client.get("/hats/facilitator").text
    assert "/renewals" not in cleo.client.get("/hats/facilitator").text

    # When: Cleo posts a renewal anyway, and Ada one that ends before the current term does.
    refused = cleo.post(
        "/hats/facilitator/renewals",
        "/hats/facilitator",
        person_id=ids["ben"],
        review_date=later.isoformat(),
    )
    earlier = ada.post(
        "/hats/facilitator/renewals",
        "/hats/facilitator",
        person_id=ids["ben"],
        review_date=term.started.isoformat(),
    )

    # Then: both are refused (Ada's beside the date), and the term is as it was.
    assert refused.status_code == 403
    assert "Only the secretary can renew a hat" in refused.text
    assert earlier.status_code == 422
    assert (
        beside(
            f"renew-{ids['ben']}",
            "review_date",
            "A renewed term must end after the current review date",
        )
        in earlier.text
    )
    assert c.node.records.peek_circle().term("facilitator", ids["ben"]).review_date == (
        term.review_date
    )

    # When: Ada renews Ben's term until a year later.
    done = ada.post(
        "/hats/facilitator/renewals",
        "/hats/facilitator",
        person_id=ids["ben"],
        review_date=later.isoformat(),
    )

    # Then: it is renewed, and the page says so.
    assert done.status_code == 200
    assert f"renewed until {later}" in done.text
    assert c.node.records.peek_circle().term("facilitator", ids["ben"]).review_date == later


def test_a_wearer_takes_their_hat_off_once_asked_again(kitchen_circle: Circle) -> None:
    c, ids = kitchen_circle, kitchen_circle.ids
    # Given: Ben wears the facilitator's hat; Cleo is not the secretary.
    ben, cleo = Member(c, "ben"), Member(c, "cleo")
    assert "Take my hat off" in ben.client.get("/hats/facilitator").text
    assert "/take-off" not in cleo.client.get("/hats/facilitator").text

    # When: Cleo posts it anyway (even confirmed).
    refused = cleo.post(
        "/hats/facilitator/take-off",
        "/hats/facilitator",
        person_id=ids["ben"],
        reason="Too busy",
        confirmed="yes",
    )
    # Then: she is refused, and Ben still wears it.
    assert refused.status_code == 403
    assert "Only the secretary can take a hat off someone" in refused.text
    assert c.node.records.peek_circle().wears(ids["ben"], "facilitator")

    # When: Ben takes it off, with his reason.
    asked = ben.post(
        "/hats/facilitator/take-off", "/hats/facilitator", person_id=ids["ben"], reason="Moving"
    )
    # Then: he is asked once more, and nothing has changed yet.
    assert asked.status_code == 200
    assert "Yes, take the hat off" in asked.text and 'name="confirmed" value="yes"' in asked.text
    assert c.node.records.peek_circle().wears(ids["ben"], "facilitator")

    # When: he says yes.
    done = ben.post(
        "/hats/facilitator/take-off",
        "/hats/facilitator",
        person_id=ids["ben"],
        reason="Moving",
        confirmed="yes",
    )
    # Then: the hat is off, and the page says nobody wears it.
    assert done.status_code == 200
    assert "The facilitator hat is taken off Ben." in done.text
    assert "Nobody wears this hat." in done.text
    assert not c.node.records.peek_circle().wears(ids["ben"], "facilitator")


def test_a_take_off_without_a_reason_is_refused_beside_the_reason(kitchen_circle: Circle) -> None:
    c, ids = kitchen_circle, kitchen_circle.ids
    ada = Member(c, "ada")
    refused = ada.post(
        "/hats/facilitator/take-off",
        "/hats/facilitator",
        person_id=ids["ben"],
        reason=" ",
        confirmed="yes",
    )
    assert refused.status_code == 422
    assert beside(f"take-off-{ids['ben']}", "reason", "Say why the hat comes off") in refused.text
    assert c.node.records.peek_circle().wears(ids["ben"], "facilitator")


def test_the_secretary_records_and_clears_a_back_stop(kitchen_circle: Circle) -> None:
    c, ids = kitchen_circle, kitchen_circle.ids
    ada, cleo = Member(c, "ada"), Member(c, "cleo")
    # Given: no back-stop; only Ada is offered the form, and Cleo's post is refused.
    assert "The circle names nobody to step in." in ada.client.get("/hats/facilitator").text
    assert 'id="back-stop-person_id"' in ada.client.get("/hats/facilitator").text
    assert "/back-stop" not in cleo.client.get("/hats/facilitator").text
    refused = cleo.post("/hats/facilitator/back-stop", "/hats/facilitator", person_id=ids["cleo"])
    assert refused.status_code == 403
    assert "Only the secretary can record a hat" in refused.text

    # When: Ada names Ben, who wears the hat himself.
    wearer = ada.post("/hats/facilitator/back-stop", "/hats/facilitator", person_id=ids["ben"])
    # Then: refused beside the person, nobody named.
    assert wearer.status_code == 422
    sentence = "This person wears the facilitator hat; its back-stop is someone else"
    assert beside("back-stop", "person_id", sentence) in wearer.text
    stops = c.node.hats.back_stops()
    assert stops is None or "facilitator" not in stops.by_hat

    # When: Ada records Cleo as the back-stop.
    named = ada.post("/hats/facilitator/back-stop", "/hats/facilitator", person_id=ids["cleo"])
    # Then: the page names her.
    assert named.status_code == 200
    assert "Cleo steps in when a wearer cannot." in named.text

    # When: Ada records that the circle names nobody any more.
    cleared = ada.post("/hats/facilitator/back-stop/clear", "/hats/facilitator")
    # Then: nobody, and the form to clear is gone; clearing again is refused (at the top).
    assert "The circle names nobody to step in." in cleared.text
    assert "/back-stop/clear" not in cleared.text
    again = ada.post("/hats/facilitator/back-stop/clear", "/hats/facilitator")
    assert again.status_code == 409
    assert 'id="refusal"' in again.text and "has no back-stop to clear" in again.text


def test_an_unknown_hat_is_a_404_page(kitchen_circle: Circle) -> None:
    ada = Member(kitchen_circle, "ada")
    missing = ada.client.get("/hats/baker")
    assert missing.status_code == 404
    assert "The circle has no hat" in missing.text
