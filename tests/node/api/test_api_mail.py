"""Where and how often the node mails someone, over HTTP: their own address and choice, set
and read by them alone, given by an applicant with their application, erased with the rest of
their personal data."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from domain.person import PersonalDetails
from tests.node.api.world import Circle, assert_problem


def test_a_member_gives_their_address_and_chooses_a_digest(circle: Circle) -> None:
    c, eli = circle, circle.ids["eli"]
    head = c.node.feed.own_feed().head

    # Eli has given no address yet.
    assert c.get("eli", f"/people/{eli}/mail").json() == {"email": "", "notices": "each"}

    # She gives hers and chooses one mail a day.
    chosen = {"email": "eli@example.org", "notices": "digest"}
    response = c.client.put(f"/api/people/{eli}/mail", headers=c.as_("eli"), json=chosen)
    assert response.status_code == 200, response.text
    assert response.json() == chosen
    assert c.get("eli", f"/people/{eli}/mail").json() == chosen

    # Nothing of it is published to other circles.
    assert c.node.feed.own_feed().head == head


def test_nobody_else_reads_or_sets_someones_address(circle: Circle) -> None:
    c, eli = circle, circle.ids["eli"]
    c.client.put(f"/api/people/{eli}/mail", headers=c.as_("eli"), json={"email": "eli@example.org"})

    # Neither the secretary nor anyone else reads it, or changes it.
    for who in ("ada", "gus"):
        response = c.client.get(f"/api/people/{eli}/mail", headers=c.as_(who))
        assert_problem(
            response,
            403,
            "not_permitted",
            "Only the person themselves can read where the circle mails you",
        )
        response = c.client.put(
            f"/api/people/{eli}/mail", headers=c.as_(who), json={"email": "x@example.org"}
        )
        assert_problem(response, 403, "not_permitted")
    assert c.get("eli", f"/people/{eli}/mail").json()["email"] == "eli@example.org"


def test_what_is_not_an_address_or_a_choice_is_refused(circle: Circle) -> None:
    c, eli = circle, circle.ids["eli"]
    response = c.client.put(f"/api/people/{eli}/mail", headers=c.as_("eli"), json={"email": "eli"})
    assert_problem(response, 422, "invalid_request", "'eli' is not an email address")
    # An address a mail header would read otherwise (a comment, a group) is refused too.
    for odd in ("a(b@c.d", "grp:a@b.c"):
        response = c.client.put(
            f"/api/people/{eli}/mail", headers=c.as_("eli"), json={"email": odd}
        )
        assert_problem(response, 422, "invalid_request", f"{odd!r} is not an email address")
    response = c.client.put(
        f"/api/people/{eli}/mail",
        headers=c.as_("eli"),
        json={"email": "eli@example.org", "notices": "hourly"},
    )
    assert_problem(response, 422, "invalid_request")
    assert c.get("eli", f"/people/{eli}/mail").json()["email"] == ""


def test_an_applicant_gives_an_address_with_their_application(circle: Circle) -> None:
    # The secretary records Dora's application with the address she gave.
    c = circle
    response = c.client.post(
        "/api/people", headers=c.as_("ada"), json={"name": "Dora", "email": "dora@example.org"}
    )
    assert response.status_code == 201, response.text
    dora = response.json()["person_id"]

    # It is kept with her personal details.
    details = c.node.records.get_record(PersonalDetails, dora, "person")
    assert (details.email, details.notices) == ("dora@example.org", "each")


def _csrf(page: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', page)
    assert found is not None
    return found.group(1)


def test_a_member_sets_their_address_on_their_account_page(circle: Circle) -> None:
    # Eli signs in to the pages.
    c, eli = circle, circle.ids["eli"]
    browser = TestClient(c.client.app, follow_redirects=False)
    csrf = _csrf(browser.get("/sign-in").text)
    browser.post("/sign-in", data={"csrf": csrf, "token": c.tokens["eli"], "next": "/account"})
    page = browser.get("/account")
    assert page.status_code == 200 and "Mail from the circle" in page.text

    # A wrong address is refused beside the form, with the circle's sentence.
    csrf = _csrf(page.text)
    refused = browser.post("/account/mail", data={"csrf": csrf, "email": "eli", "notices": "each"})
    assert refused.status_code == 422
    assert "&#39;eli&#39; is not an email address" in refused.text

    # Her address and a digest are saved.
    saved = browser.post(
        "/account/mail", data={"csrf": csrf, "email": "eli@example.org", "notices": "digest"}
    )
    assert saved.status_code == 303
    assert c.get("eli", f"/people/{eli}/mail").json() == {
        "email": "eli@example.org",
        "notices": "digest",
    }
    assert 'value="eli@example.org"' in browser.get("/account").text
