"""The decisions pages over HTTP (no browser): an everyday decision taken on the list's form and
read on its page, its refusals beside their fields, the due dates updated and what that did,
a decision's page with what can be done with it (renew, amend, revoke, challenge, appeal), and
those the rules do not let do these things: no form, and a 403 page when they post anyway."""

from __future__ import annotations

import re
from datetime import date

from domain.values import DecisionStatus, Purpose
from node.demo.scripted import consent_to
from tests.conftest import Clock
from tests.node.api.world import Circle
from tests.web.visiting import signed_in


def text_of(html: str) -> str:
    """The page's words, without tags, spaces run together."""
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def everyday(csrf: str, **fields: str) -> dict[str, str]:
    """The everyday decision's form, as Ben the facilitator fills it in."""
    return {
        "csrf": csrf,
        "hat_id": "facilitator",
        "area": "meetings",
        "title": "Tuesday meetings",
        "text": "We meet on **Tuesdays** at six.",
        **fields,
    }


def test_a_hat_wearer_takes_an_everyday_decision_and_reads_it_on_its_page(
    kitchen_circle: Circle,
) -> None:
    c, node = kitchen_circle, kitchen_circle.node
    # Given: Ben, the facilitator, on the decisions page: it offers him the form, with his hat.
    ben = signed_in(c, "ben")
    page = ben.client.get("/decisions").text
    assert 'action="/decisions" id="everyday"' in page
    assert '<option value="facilitator">Facilitator (meetings, process)</option>' in page

    # When: he takes an everyday decision in the meetings area of his hat's domain.
    taken = ben.client.post(
        "/decisions", data=everyday(ben.csrf("/decisions")), follow_redirects=False
    )

    # Then: he is taken to the decision's page, which shows it in full.
    (decision,) = node.records.list_decisions()
    assert taken.status_code == 303
    assert taken.headers["location"] == f"/decisions/{decision.id}"
    shown = ben.client.get(taken.headers["location"])
    assert "Your everyday decision is taken." in shown.text
    assert "We meet on <strong>Tuesdays</strong> at six." in shown.text
    words = text_of(shown.text)
    assert "Taken by Ben as Facilitator, in meetings" in words
    assert "Review date 2026-08-31" in words  # six months on, as the circle's default says
    assert "Term no end" in words
    # And: the list links the decision to its page.
    assert (
        f'href="/decisions/{decision.id}"><strong>Tuesday meetings'
        in ben.client.get("/decisions").text
    )


def test_the_everyday_form_refuses_beside_its_fields(kitchen_circle: Circle) -> None:
    c, node = kitchen_circle, kitchen_circle.node
    ben = signed_in(c, "ben")
    csrf = ben.csrf("/decisions")
    cases = [
        # (what Ben changes, the field the sentence stands beside, the sentence, the status)
        ({"review_date": "2026-02-01"}, "review_date", "The review date must be in the future"),
        ({"review_date": "soon"}, "review_date", "The review date is not a date"),
        ({"term_end": "2026-03-01"}, "term_end", "The term must end in the future"),
        ({"title": " "}, "title", "A decision needs a title"),
        ({"area": ""}, "area", "Say which area of the hat&#39;s domain"),
    ]
    for change, field, sentence in cases:
        # When: he sends the form with a value the circle refuses.
        refused = ben.client.post("/decisions", data=everyday(csrf, **change))
        # Then: the sentence stands beside that field, which takes the focus; what he typed
        # stays.
        assert refused.status_code == 422, change
        assert f'<p class="field-error" id="everyday-{field}-error">{sentence}' in refused.text
        assert f'aria-describedby="everyday-{field}-error" autofocus' in refused.text
        assert "We meet on **Tuesdays** at six.</textarea>" in refused.text
    # An area outside his hat's domain is not his to decide: said at the top of the page.
    outside = ben.client.post("/decisions", data=everyday(csrf, area="budget"))
    assert outside.status_code == 403
    assert re.search(
        r'<p class="refusal" role="alert" id="refusal"[^>]*>&#39;budget&#39; is outside the '
        r"domain of the facilitator hat",
        outside.text,
    )
    assert node.records.list_decisions() == []


def test_someone_without_a_hat_gets_no_form_and_a_403_page(kitchen_circle: Circle) -> None:
    c, node = kitchen_circle, kitchen_circle.node
    # Given: Gus, a guest, wears no hat: the page offers him neither the everyday form nor
    # the due dates' update (full participants run it).
    gus = signed_in(c, "gus")
    page = gus.client.get("/decisions").text
    assert 'id="everyday"' not in page and 'id="due-dates"' not in page
    csrf = gus.csrf("/decisions")

    # When: he posts both anyway.
    taken = gus.client.post("/decisions", data=everyday(csrf))
    updated = gus.client.post("/decisions/update-due-dates", data={"csrf": csrf})

    # Then: the circle's rules refuse him, and nothing changed.
    assert taken.status_code == 403
    assert "Only the facilitator can take everyday decisions with this hat" in taken.text
    assert updated.status_code == 403
    assert "Only full participants can update due dates" in updated.text
    assert node.records.list_decisions() == []


def test_updating_due_dates_tells_what_it_did(kitchen_circle: Circle, clock: Clock) -> None:
    c, ids, node = kitchen_circle, kitchen_circle.ids, kitchen_circle.node
    # Given: an everyday decision to review on 10 March, and one whose term ends then.
    node.decisions.take_everyday_decision(
        ids["ben"], "facilitator", "meetings", "Tuesdays", "x", review_date=date(2026, 3, 10)
    )
    node.decisions.take_everyday_decision(
        ids["ben"], "facilitator", "meetings", "Trial room", "y", term_end=date(2026, 3, 10)
    )
    clock.advance(days=10)
    cleo = signed_in(c, "cleo")
    assert 'id="due-dates"' in cleo.client.get("/decisions").text

    # When: Cleo, a full participant, runs the update now.
    updated = cleo.client.post(
        "/decisions/update-due-dates",
        data={"csrf": cleo.csrf("/decisions")},
        follow_redirects=False,
    )

    # Then: the page says what it did, and marks the review due.
    assert updated.status_code == 303 and updated.headers["location"] == "/decisions"
    page = cleo.client.get("/decisions").text
    assert (
        "Due dates updated. Decisions now due for review: Tuesdays; "
        "decisions whose term ended: Trial room."
    ) in page
    due = text_of(page.split('id="reviews-due"')[1].split("</div>")[0])
    assert "Tuesdays : review date 2026-03-10 (due)" in due
    assert "Trial room" not in due
    statuses = {d.title: d.status for d in node.records.list_decisions()}
    assert statuses == {"Tuesdays": DecisionStatus.REVIEW_DUE, "Trial room": "expired"}
    # A second run finds nothing more.
    again = cleo.client.post("/decisions/update-due-dates", data={"csrf": cleo.csrf("/decisions")})
    assert "Due dates updated: nothing had come due." in again.text


def test_a_decision_page_leads_to_renew_amend_revoke_and_appeal(kitchen_circle: Circle) -> None:
    c, ids, node = kitchen_circle, kitchen_circle.ids, kitchen_circle.node
    decision = node.decisions.take_everyday_decision(
        ids["ben"], "facilitator", "meetings", "Tuesdays", "We meet on Tuesdays."
    )
    # When: Eli, a learning participant, opens it.
    page = signed_in(c, "eli").client.get(f"/decisions/{decision}").text
    # Then: each change is a proposal drafted on the proposal form, and an appeal leads to
    # the appeals page.
    for purpose in ("renew_decision", "amend_decision", "revoke_decision"):
        assert f'href="/proposals/new?purpose={purpose}&amp;decision_id={decision}"' in page
    assert f'href="/appeals?decision={decision}"' in page
    assert 'id="challenge"' in page


def test_challenging_an_everyday_decision_drafts_a_proposal(kitchen_circle: Circle) -> None:
    c, ids, node = kitchen_circle, kitchen_circle.ids, kitchen_circle.node
    decision = node.decisions.take_everyday_decision(
        ids["ben"], "facilitator", "meetings", "Tuesdays", "We meet on Tuesdays."
    )
    cleo = signed_in(c, "cleo")
    csrf = cleo.csrf(f"/decisions/{decision}")
    before = len(node.records.list_proposals())  # the aim the circle formed

    # When: Cleo challenges it without saying why.
    refused = cleo.client.post(f"/decisions/{decision}/challenge", data={"csrf": csrf, "text": ""})
    # Then: the sentence stands beside the text, and nothing is drafted.
    assert refused.status_code == 422
    assert '<p class="field-error" id="challenge-text-error">' in refused.text
    assert len(node.records.list_proposals()) == before

    # When: she challenges it, to revoke it, with her reason.
    challenged = cleo.client.post(
        f"/decisions/{decision}/challenge",
        data={"csrf": csrf, "text": "Tuesdays clash with the market", "revoke": "yes"},
        follow_redirects=False,
    )
    # Then: a proposal to revoke it is drafted in her name, and the decision names it.
    (proposal,) = [p for p in node.records.list_proposals() if p.proposer == ids["cleo"]]
    assert len(node.records.list_proposals()) == before + 1
    assert challenged.status_code == 303
    assert challenged.headers["location"] == f"/proposals/{proposal.id}"
    assert proposal.purpose == Purpose.REVOKE_DECISION
    assert proposal.proposer == ids["cleo"]
    assert proposal.subject == {"decision_id": decision}
    page = cleo.client.get(f"/decisions/{decision}").text
    assert f'<a href="/proposals/{proposal.id}">Challenge: Tuesdays</a>' in page


def test_a_guest_may_not_challenge_or_propose(kitchen_circle: Circle) -> None:
    c, ids, node = kitchen_circle, kitchen_circle.ids, kitchen_circle.node
    decision = node.decisions.take_everyday_decision(
        ids["ben"], "facilitator", "meetings", "Tuesdays", "We meet on Tuesdays."
    )
    before = len(node.records.list_proposals())
    gus = signed_in(c, "gus")
    page = gus.client.get(f"/decisions/{decision}").text
    assert 'id="challenge"' not in page and "/proposals/new" not in page
    refused = gus.client.post(
        f"/decisions/{decision}/challenge",
        data={"csrf": gus.csrf(f"/decisions/{decision}"), "text": "No"},
    )
    assert refused.status_code == 403
    assert "Guests take part in rounds; full and learning participants propose" in refused.text
    assert len(node.records.list_proposals()) == before


def test_a_policy_is_changed_by_a_proposal_not_a_challenge(kitchen_circle: Circle) -> None:
    c, node = kitchen_circle, kitchen_circle.node
    consent_to(node, Purpose.ADOPT_POLICY, {}, "Everyone washes up", title="Washing up")
    (policy,) = node.records.list_decisions()
    page = signed_in(c, "cleo").client.get(f"/decisions/{policy.id}").text
    assert 'id="challenge"' not in page
    assert f"purpose=amend_decision&amp;decision_id={policy.id}" in page
    assert f'href="/proposals/{policy.proposal_id}"' in page
    assert "A policy, by consent" in page


def test_an_unknown_decision_is_a_404_page(kitchen_circle: Circle) -> None:
    page = signed_in(kitchen_circle, "cleo").client.get("/decisions/nothing-here")
    assert page.status_code == 404
