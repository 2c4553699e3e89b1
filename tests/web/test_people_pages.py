"""The people's pages over HTTP, without a browser: the list of people, applications and
trials; each person's page with the steps the circle's rules give the reader (admission with
the token shown once, levels, stepping back, returning, leaving, erasure, tokens, aims); and
starting a forming circle's work from /circle."""

from __future__ import annotations

import html
import re

import pytest

from domain.values import Membership
from node.app.node import CircleNode
from node.app.records import FORMER_PARTICIPANT
from tests.node.api.world import Circle
from tests.web.test_sessions import Browserless
from tests.web.visiting import post, signed_in


def beside(page: str, field: str, sentence: str) -> None:
    """The sentence stands beside the field (its id `form-name`), which it describes."""
    found = re.search(rf'<p class="field-error" id="{field}-error">([^<]*)</p>', page)
    assert found is not None, page
    assert html.unescape(found.group(1)) == sentence
    assert f'aria-describedby="{field}-error"' in page


def at_top(page: str, sentence: str) -> None:
    found = re.search(r'<p class="refusal" role="alert" id="refusal"[^>]*>([^<]*)</p>', page)
    assert found is not None, page
    assert html.unescape(found.group(1)) == sentence


def status_of(node: CircleNode, person: str) -> str:
    return node.records.peek_circle().participant(person).status


def test_the_people_page_lists_people_applications_and_trials(kitchen_circle: Circle) -> None:
    c, node = kitchen_circle, kitchen_circle.node
    ada = signed_in(c, "ada")
    # Given: the nav leads to the people's page, where Ada, the secretary, finds the form.
    people = ada.client.get("/people")
    assert '<a href="/people"' in people.text and "Record an application" in people.text

    # When: she records two applications, then starts a trial of two sessions for one.
    zoe = post(ada, "/people", "/people", name="Zoe", email="zoe@example.org", level="full")
    yan = post(ada, "/people", "/people", name="Yan", contact="the market", level="learning")
    assert zoe.status_code == yan.status_code == 303
    zoe_id = zoe.headers["location"].removeprefix("/people/")
    yan_id = yan.headers["location"].removeprefix("/people/")
    started = post(ada, f"/people/{yan_id}", f"/people/{yan_id}/trial", sessions="2")
    assert started.status_code == 303

    # Then: the list shows who is in with their level and hats, the application waiting, and
    # the trial with its sessions counted.
    page = html.unescape(ada.client.get("/people").text)
    applications = page[page.index('id="applications"') : page.index("In a trial")]
    trials = page[page.index('id="trials"') :]
    assert f'href="/people/{zoe_id}">Zoe' in applications and "Yan" not in applications
    assert f'href="/people/{yan_id}">Yan' in trials and "0 held of 2 agreed" in trials
    listed = page[page.index('id="people"') : page.index("Applications waiting")]
    assert "Secretary" in listed and "learning participant" in listed
    assert status_of(node, zoe_id) == Membership.APPLIED
    assert status_of(node, yan_id) == Membership.TRIAL
    # Someone the circle does not know has no page.
    unknown = ada.client.get("/people/nobody")
    assert unknown.status_code == 404
    assert "This person is not a participant of the circle" in unknown.text


def test_an_application_is_refused_beside_its_field(kitchen_circle: Circle) -> None:
    c, node = kitchen_circle, kitchen_circle.node
    ada = signed_in(c, "ada")
    before = len(node.records.peek_circle().participants)

    # When: Ada records an application without a name, then one with an address that is not.
    nameless = post(ada, "/people", "/people", name=" ", email="", level="full")
    wrong = post(ada, "/people", "/people", name="Zoe", email="zoe at home", level="full")

    # Then: each is refused beside its field, what she typed kept, and nobody is added.
    assert nameless.status_code == wrong.status_code == 422
    beside(nameless.text, "apply-name", "A person needs a name")
    beside(wrong.text, "apply-email", "'zoe at home' is not an email address")
    assert 'value="Zoe"' in wrong.text
    assert len(node.records.peek_circle().participants) == before


def test_someone_not_the_secretary_gets_no_forms_and_a_403(kitchen_circle: Circle) -> None:
    c, node, ids = kitchen_circle, kitchen_circle.node, kitchen_circle.ids
    zoe = node.people.apply_to_join("Zoe")
    cleo = signed_in(c, "cleo")

    # Given: Cleo, a full participant (Ada wears the secretary's hat), reads the pages.
    people = cleo.client.get("/people").text
    applicant = cleo.client.get(f"/people/{zoe}").text
    ben = cleo.client.get(f"/people/{ids['ben']}").text

    # Then: no form for recording, trials, admission, levels, someone else's stepping back,
    # leaving or tokens.
    assert "Record an application" not in people
    for action in ("trial", "admit", "decline"):
        assert f'action="/people/{zoe}/{action}"' not in applicant
    for action in ("level", "step-back", "leave", "tokens"):
        assert f'action="/people/{ids["ben"]}/{action}"' not in ben
    assert "Sign-in tokens" not in ben

    # When: she posts them anyway.
    refused = {
        "apply": post(cleo, "/people", "/people", name="Xan", level="full"),
        "admit": post(cleo, "/people", f"/people/{zoe}/admit", level="full"),
        "step-back": post(cleo, "/people", f"/people/{ids['ben']}/step-back", note=""),
        "issue": post(cleo, "/people", f"/people/{ids['ben']}/tokens"),
    }

    # Then: each is refused with a 403 page and the circle's sentence; nothing changed.
    for step, response in refused.items():
        assert response.status_code == 403, step
    assert "Only the secretary can admit someone" in refused["admit"].text
    assert "Only the secretary can record an application" in refused["apply"].text
    assert status_of(node, zoe) == Membership.APPLIED
    assert status_of(node, ids["ben"]) == Membership.ACTIVE
    assert len(node.tokens.tokens_of(ids["ben"])) == 1


@pytest.mark.parametrize(
    ("whose", "step", "data", "sentence"),
    [
        ("applicant", "trial", {"sessions": "2"}, "Only the secretary can start a trial"),
        ("trial", "trial/sessions", {}, "Only the secretary can count a trial session"),
        ("applicant", "decline", {}, "Only the secretary can decline an application"),
        (
            "eli",
            "level",
            {"level": "full"},
            "Only the secretary can change someone's participation level",
        ),
        ("back", "return", {}, "Only the secretary can welcome someone back"),
        ("eli", "leave", {"note": "Bye"}, "Only the secretary can record that someone leaves"),
    ],
)
def test_steps_for_someone_else_are_refused_to_cleo(
    kitchen_circle: Circle, whose: str, step: str, data: dict[str, str], sentence: str
) -> None:
    c, node, ids = kitchen_circle, kitchen_circle.node, kitchen_circle.ids
    # Given: an applicant, someone in a trial, Ben stepped back; Cleo is not the secretary.
    people = {
        "applicant": node.people.apply_to_join("Zoe"),
        "trial": node.people.apply_to_join("Yan"),
        "back": ids["ben"],
        "eli": ids["eli"],
    }
    node.people.start_trial(ids["ada"], people["trial"], 2)
    node.people.step_back(ids["ben"], ids["ben"])
    person = people[whose]
    before = node.records.peek_circle().participant(person)
    cleo = signed_in(c, "cleo")
    page = f"/people/{person}"

    # Then: her page of that person offers no such form; posted anyway, it is refused (403).
    assert f'action="{page}/{step}"' not in cleo.client.get(page).text
    refused = post(cleo, page, f"{page}/{step}", **data)
    assert refused.status_code == 403
    assert sentence in html.unescape(refused.text)
    assert node.records.peek_circle().participant(person) == before


def test_steps_at_the_wrong_stage_are_refused_with_the_circles_sentence(
    kitchen_circle: Circle,
) -> None:
    c, node, ids = kitchen_circle, kitchen_circle.node, kitchen_circle.ids
    yan = node.people.apply_to_join("Yan")
    node.people.start_trial(ids["ada"], yan, 1)
    node.people.hold_trial_session(ids["ada"], yan)
    ada = signed_in(c, "ada")
    eli = f"/people/{ids['eli']}"

    # A session more than agreed, declining someone active, a note too long to leave with.
    extra = post(ada, f"/people/{yan}", f"/people/{yan}/trial/sessions")
    active = post(ada, eli, f"{eli}/decline")
    long = post(ada, eli, f"{eli}/leave", note="x" * 4001)

    assert extra.status_code == active.status_code == 409
    at_top(
        extra.text,
        "All 1 agreed sessions of this trial were held: admit them, or end the trial",
    )
    at_top(active.text, "Someone who is active cannot be declined")
    assert long.status_code == 422
    beside(long.text, "leave-note", "The note is longer than 4000 characters")
    assert node.records.peek_circle().participant(yan).sessions_held == 1
    assert status_of(node, ids["eli"]) == Membership.ACTIVE


def test_a_trial_counts_its_sessions_then_admission_shows_the_token_once(
    kitchen_circle: Circle,
) -> None:
    c, node = kitchen_circle, kitchen_circle.node
    zoe = node.people.apply_to_join("Zoe", email="zoe@example.org")
    ada = signed_in(c, "ada")
    page = f"/people/{zoe}"

    # When: Ada starts a trial of five sessions: refused beside the field.
    five = post(ada, page, f"{page}/trial", sessions="5")
    assert five.status_code == 422
    beside(five.text, "trial-sessions", "A trial is 1 to 3 sessions, not 5")
    assert status_of(node, zoe) == Membership.APPLIED

    # A trial of two: the admission waits for the second session.
    assert post(ada, page, f"{page}/trial", sessions="2").status_code == 303
    during = ada.client.get(page).text
    assert f'action="{page}/trial/sessions"' in during and f'action="{page}/admit"' not in during
    early = post(ada, page, f"{page}/admit", level="full")
    assert early.status_code == 409
    at_top(
        early.text,
        "0 of the 2 agreed trial sessions were held: admit after the last, or end the trial",
    )
    for number in (1, 2):
        counted = post(ada, page, f"{page}/trial/sessions")
        assert counted.status_code == 303
        notice = ada.client.get(page).text
        assert f"Session {number} of the trial of Zoe is counted." in notice
    assert "1 session held" not in notice and "2 sessions held of the 2 agreed" in notice
    assert f'action="{page}/trial/sessions"' not in notice

    # When: she admits Zoe.
    admitted = post(ada, page, f"{page}/admit", level="learning")

    # Then: the token is on this post's own page, once, with the warning and the mail.
    assert admitted.status_code == 200
    token = re.search(r'<code id="token">([^<]+)</code>', admitted.text)
    assert token is not None
    assert "Copy it now: it is shown this once." in admitted.text
    assert admitted.headers["cache-control"] == "no-store"
    assert "one-time sign-in link" in admitted.text
    assert node.tokens.person_for_token(token.group(1)) == zoe
    assert status_of(node, zoe) == Membership.ACTIVE
    assert node.records.peek_circle().participant(zoe).level == "learning"
    # No later page shows it: not Zoe's page, not the list, not the home page.
    for later in (page, "/people", "/home", "/circle"):
        assert token.group(1) not in ada.client.get(later).text, later
    # Zoe signs in with it.
    newcomer = Browserless(c.client.app)  # type: ignore[arg-type]
    assert newcomer.sign_in(token.group(1)).status_code == 303
    assert "Signed in as <strong>Zoe</strong>" in newcomer.client.get("/home").text


def test_an_application_is_declined_and_a_level_changed(kitchen_circle: Circle) -> None:
    c, node, ids = kitchen_circle, kitchen_circle.node, kitchen_circle.ids
    zoe = node.people.apply_to_join("Zoe")
    ada = signed_in(c, "ada")

    declined = post(ada, f"/people/{zoe}", f"/people/{zoe}/decline")
    assert declined.status_code == 303
    assert status_of(node, zoe) == Membership.DECLINED

    # A level that is none is refused beside the field; Eli becomes a full participant.
    eli = f"/people/{ids['eli']}"
    wrong = post(ada, eli, f"{eli}/level", level="boss")
    assert wrong.status_code == 422
    beside(
        wrong.text,
        "level-level",
        "Unknown participation level 'boss'; choose one of: full, learning, guest",
    )
    assert node.records.peek_circle().participant(ids["eli"]).level == "learning"
    assert post(ada, eli, f"{eli}/level", level="full").status_code == 303
    assert node.records.peek_circle().participant(ids["eli"]).level == "full"
    assert "Eli now takes part as a full participant." in ada.client.get(eli).text


def test_stepping_back_returning_and_leaving_oneself(kitchen_circle: Circle) -> None:
    c, node, ids = kitchen_circle, kitchen_circle.node, kitchen_circle.ids
    cleo = signed_in(c, "cleo")
    mine = f"/people/{ids['cleo']}"
    # Given: her account leads to her own page, which offers her own steps.
    assert f'href="{mine}">My details' in cleo.client.get("/account").text
    page = cleo.client.get(mine).text
    for action in ("step-back", "leave", "aims"):
        assert f'action="{mine}/{action}"' in page, action

    # A note longer than the API takes is refused beside it.
    long = post(cleo, mine, f"{mine}/step-back", note="x" * 4001)
    assert long.status_code == 422
    beside(long.text, "step_back-note", "The note is longer than 4000 characters")
    assert status_of(node, ids["cleo"]) == Membership.ACTIVE

    # When: she steps back, then returns.
    assert post(cleo, mine, f"{mine}/step-back", note="Back after the harvest").status_code == 303
    assert status_of(node, ids["cleo"]) == Membership.STEPPED_BACK
    stepped = cleo.client.get(mine).text
    assert "Back after the harvest" in stepped and f'action="{mine}/return"' in stepped
    assert post(cleo, mine, f"{mine}/return").status_code == 303
    assert status_of(node, ids["cleo"]) == Membership.RETURNED

    # When: she leaves, with a note of appreciation.
    left = post(cleo, mine, f"{mine}/leave", note="Thank you all for the *soup*.")

    # Then: she is out and signed out, told so; Ada reads the note on her page.
    assert left.status_code == 303 and left.headers["location"] == "/"
    assert status_of(node, ids["cleo"]) == Membership.LEFT
    farewell = cleo.client.get("/").text
    assert "You have left the circle. Thank you for all you gave." in farewell
    assert cleo.client.get("/home", follow_redirects=False).status_code == 303
    ada = signed_in(c, "ada")
    assert "Thank you all for the <em>soup</em>." in ada.client.get(mine).text


def test_the_secretary_records_a_step_back_for_someone_else(kitchen_circle: Circle) -> None:
    c, node, ids = kitchen_circle, kitchen_circle.node, kitchen_circle.ids
    ada = signed_in(c, "ada")
    ben = f"/people/{ids['ben']}"
    assert post(ada, ben, f"{ben}/step-back", note="").status_code == 303
    assert status_of(node, ids["ben"]) == Membership.STEPPED_BACK
    # His hats are released.
    assert node.records.peek_circle().hats_worn_by(ids["ben"]) == []


def test_erasure_asks_to_confirm_on_a_second_page(kitchen_circle: Circle) -> None:
    c, node, ids = kitchen_circle, kitchen_circle.node, kitchen_circle.ids
    node.people.leave(ids["cleo"], ids["cleo"], "So long")
    ada = signed_in(c, "ada")
    cleo = f"/people/{ids['cleo']}"
    # Ben (not the secretary) gets no erase form, and a 403 page when he posts anyway.
    ben = signed_in(c, "ben")
    assert f'action="{cleo}/erase"' not in ben.client.get(cleo).text
    assert post(ben, "/people", f"{cleo}/erase", confirmed="yes").status_code == 403
    # Someone who has not left cannot be erased.
    assert (
        f'action="/people/{ids["eli"]}/erase"' not in ada.client.get(f"/people/{ids['eli']}").text
    )
    kept = post(ada, "/people", f"/people/{ids['eli']}/erase", confirmed="yes")
    assert kept.status_code == 409
    assert "Personal data is erased once someone has left the circle" in kept.text

    # When: Ada asks to erase Cleo's data.
    asked = post(ada, cleo, f"{cleo}/erase")

    # Then: a second page asks to confirm; nothing is erased yet.
    assert asked.status_code == 200
    assert "This cannot be undone." in asked.text and "Yes, erase" in asked.text
    assert '<input type="hidden" name="confirmed" value="yes">' in asked.text
    assert node.records.person_name(ids["cleo"]) == "Cleo"

    # When: she confirms. Then: it is done.
    done = post(ada, cleo, f"{cleo}/erase", confirmed="yes")
    assert done.status_code == 303
    assert node.records.person_name(ids["cleo"]) == FORMER_PARTICIPANT
    assert "Their personal data are erased." in ada.client.get(cleo).text
