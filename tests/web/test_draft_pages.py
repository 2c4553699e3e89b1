"""Drafting a proposal of every purpose in the pages (over HTTP, no browser): the list of
purposes, each purpose's form drawn from its typed subject, fields filled in from the query
string, typed values read into the subject, and what cannot be read refused beside its field."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from markupsafe import escape

from domain.values import Purpose
from node.app.node import CircleNode
from node.app.persistence import open_node
from node.http.api.subjects import SUBJECTS
from node.http.web.draft_pages import DRAFT_FIELDS, GROUPS, title_of
from node.settings import Settings
from tests.conftest import Clock
from tests.node.api.world import Circle, kitchen, member_pair
from tests.web.test_sessions import Browserless
from tests.web.visiting import signed_in


def field_tag(page: str, form: str, name: str) -> str:
    """The opening tag of the field with this id (an input, a text area or a select)."""
    found = re.search(rf'<(input|textarea|select)[^>]*id="{form}-{name}"[^>]*>', page)
    assert found, f"no field {form}-{name}"
    return found.group(0)


def drafted(c: Circle, title: str) -> list[object]:
    return [p for p in c.node.records.list_proposals() if p.title == title]


@pytest.fixture(scope="module")
def cleo_signed_in(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Browserless]:
    """Cleo of the kitchen circle, signed in, for the tests that only read the forms."""
    node: CircleNode = open_node(Settings(data_dir=tmp_path_factory.mktemp("forms")))
    yield signed_in(kitchen(node), "cleo")
    node.close()


@pytest.mark.parametrize("purpose", list(Purpose))
def test_every_purpose_draws_its_form(cleo_signed_in: Browserless, purpose: Purpose) -> None:
    # Given: Cleo, signed in.
    cleo = cleo_signed_in
    # When: she opens the form for this purpose.
    page = cleo.client.get(f"/proposals/new?purpose={purpose.value}")
    # Then: the form names the purpose, and has a labelled field for every key of its subject,
    # besides the title and the text.
    assert page.status_code == 200, page.text
    assert f"Draft a proposal: {escape(title_of(purpose))}" in page.text
    assert f'<input type="hidden" name="purpose" value="{purpose.value}">' in page.text
    for name in ("title", "text", *SUBJECTS[purpose].model_fields):
        tag = field_tag(page.text, "draft", name)
        assert f'name="{name}"' in tag
        labelled = f'for="draft-{name}"' in page.text or f'<label class="check">{tag}' in page.text
        assert labelled, name
    # And: no key of a subject is named like one of the draft's own fields.
    assert not DRAFT_FIELDS & set(SUBJECTS[purpose].model_fields)


def test_the_purposes_to_choose_from_are_grouped(kitchen_circle: Circle) -> None:
    cleo = signed_in(kitchen_circle, "cleo")
    # When: Cleo opens /proposals/new without a purpose, from the list of proposals.
    listed = cleo.client.get("/proposals").text
    assert 'href="/proposals/new"' in listed
    page = cleo.client.get("/proposals/new?circle=abc").text
    # Then: every purpose is offered, under its group, each linked to its form (keeping what
    # the link filled in).
    positions = [page.index(f"<h2>{group}</h2>") for group in GROUPS]
    assert positions == sorted(positions)
    for purpose in Purpose:
        assert f'href="/proposals/new?purpose={purpose.value}&amp;circle=abc"' in page
        assert escape(title_of(purpose)) in page
    peering = page.index("purpose=request_peering")
    plans = page.index("purpose=adopt_plan")
    policy = page.index("purpose=adopt_policy")
    assert policy < positions[1] < peering < positions[2] < plans
    # And: a purpose that does not exist is a 404 page.
    unknown = cleo.client.get("/proposals/new?purpose=abolish_mondays")
    assert unknown.status_code == 404 and "no purpose called" in unknown.text


def test_a_guest_is_offered_no_draft(kitchen_circle: Circle) -> None:
    c = kitchen_circle
    gus = signed_in(c, "gus")
    # Given: Gus, a guest: the list of proposals offers him no draft, and the drafting page
    # says why, with neither purposes nor a form.
    assert 'href="/proposals/new"' not in gus.client.get("/proposals").text
    for path in ("/proposals/new", "/proposals/new?purpose=adopt_policy"):
        page = gus.client.get(path).text
        assert "guests take part in the rounds" in page
        assert 'name="title"' not in page and "purpose=" not in page
    # When: he posts a draft all the same: the circle refuses it, and nothing is drafted.
    refused = gus.client.post(
        "/proposals", data={"csrf": gus.csrf("/proposals"), "title": "Mine", "text": "Tea"}
    )
    assert refused.status_code == 403
    assert "full and learning participants propose" in refused.text
    assert drafted(c, "Mine") == []


def test_any_field_is_filled_in_from_the_query_string(kitchen_circle: Circle) -> None:
    cleo = signed_in(kitchen_circle, "cleo")
    # When: a link leads to the form for amending a decision, with the decision named.
    page = cleo.client.get(
        "/proposals/new?purpose=amend_decision&decision_id=dec-42&title=Shorter+rota"
    ).text
    # Then: the field holds it, and so does the title.
    assert 'value="dec-42"' in field_tag(page, "draft", "decision_id")
    assert 'value="Shorter rota"' in field_tag(page, "draft", "title")
    # And: a circle named for a peering request, and the circles asked for support, a list
    # given as the parameter repeated, one a line.
    page = cleo.client.get("/proposals/new?purpose=request_peering&circle=node-7").text
    assert 'value="node-7"' in field_tag(page, "draft", "circle")
    page = cleo.client.get(
        "/proposals/new?purpose=request_support&kind=listening&circles=a&circles=b"
    ).text
    assert re.search(r'id="draft-circles"[^>]*>a\nb</textarea>', page)
    assert '<option value="listening" selected>' in page


def test_a_budget_is_drafted_with_its_period_and_amount(kitchen_circle: Circle) -> None:
    c = kitchen_circle
    cleo = signed_in(c, "cleo")
    start = c.node.records.today() + timedelta(days=10)
    end = start + timedelta(days=365)
    # When: Cleo drafts a budget for a year, with its amount.
    posted = cleo.client.post(
        "/proposals",
        data={
            "csrf": cleo.csrf("/proposals/new?purpose=adopt_plan"),
            "purpose": "adopt_plan",
            "title": "Kitchen budget",
            "text": "Food, gas and the new oven.",
            "kind": "budget",
            "period_start": start.isoformat(),
            "period_end": end.isoformat(),
            "amount": "1200.50",
            "currency": "GBP",
        },
        follow_redirects=False,
    )
    # Then: it is drafted, its subject typed as the API would have it.
    assert posted.status_code == 303, posted.text
    (proposal,) = [p for p in c.node.records.list_proposals() if p.title == "Kitchen budget"]
    assert posted.headers["location"] == f"/proposals/{proposal.id}"
    assert proposal.purpose == Purpose.ADOPT_PLAN
    page = cleo.client.get(posted.headers["location"]).text
    assert "<dt>Amount</dt><dd>1200.50</dd>" in page and "<dt>Kind</dt><dd>budget</dd>" in page
    assert proposal.subject == {
        "kind": "budget",
        "period_start": start.isoformat(),
        "period_end": end.isoformat(),
        "amount": str(Decimal("1200.50")),
        "currency": "GBP",
    }


def test_what_cannot_be_read_is_refused_beside_its_field(kitchen_circle: Circle) -> None:
    c = kitchen_circle
    cleo = signed_in(c, "cleo")
    csrf = cleo.csrf("/proposals/new?purpose=adopt_plan")
    form = {
        "csrf": csrf,
        "purpose": "adopt_plan",
        "title": "Kitchen budget",
        "text": "Food and gas.",
        "kind": "budget",
        "period_start": "next spring",
        "period_end": "2099-01-01",
    }
    # When: the period's start is not a date.
    refused = cleo.client.post("/proposals", data=form)
    # Then: 422, the sentence beside that field, which takes the focus; what was typed is kept.
    assert refused.status_code == 422
    page = refused.text
    assert (
        '<p class="field-error" id="draft-period_start-error">'
        "The period start is not a date (YYYY-MM-DD)</p>"
    ) in page
    tag = field_tag(page, "draft", "period_start")
    assert 'aria-describedby="draft-period_start-error"' in tag and "autofocus" in tag
    assert 'value="next spring"' in tag
    assert 'value="Kitchen budget"' in field_tag(page, "draft", "title")
    # When: the amount is not a number, then out of range for the schema.
    for amount, sentence in (
        ("lots", "The amount is not a number (e.g. 1200.50)"),
        ("-5", "Amount: input should be greater than or equal to 0"),
    ):
        form.update(period_start="2099-01-01", period_end="2099-12-31", amount=amount)
        refused = cleo.client.post("/proposals", data=form)
        assert refused.status_code == 422
        assert f'id="draft-amount-error">{sentence}</p>' in refused.text
        assert "autofocus" in field_tag(refused.text, "draft", "amount")
    # When: a required key is left empty.
    form.update(amount="", kind="")
    refused = cleo.client.post("/proposals", data=form)
    assert 'id="draft-kind-error">A proposal to adopt plan must name its kind</p>' in refused.text
    # When: the circle's own rules refuse (a review date in the past): beside that field.
    form.update(kind="budget", review_date="2000-01-01")
    refused = cleo.client.post("/proposals", data=form)
    assert refused.status_code == 422
    assert 'id="draft-review_date-error">The review date must be in the future</p>' in refused.text
    # Then: nothing was drafted.
    assert drafted(c, "Kitchen budget") == []


def test_the_rules_change_with_lists_numbers_and_choices(kitchen_circle: Circle) -> None:
    c = kitchen_circle
    cleo = signed_in(c, "cleo")
    form = {
        "csrf": cleo.csrf("/"),
        "purpose": "change_rules",
        "title": "Votes on money",
        "text": "Money matters go to a vote.",
        "methods_by_topic": "budget: formal_vote\nrota: consent",
        "quorum_percent": "lots",
        "absentee_policy": "reacted_in_advance",
        "long_term_topics": "buildings\n\nland\n",
    }
    # When: the quorum is not a number, then more than the schema allows.
    refused = cleo.client.post("/proposals", data=form)
    assert 'id="draft-quorum_percent-error">The quorum percent is not a whole number' in (
        refused.text
    )
    form["quorum_percent"] = "150"
    refused = cleo.client.post("/proposals", data=form)
    assert refused.status_code == 422
    assert "Quorum percent: input should be less than or equal to 100" in refused.text
    # When: a line of the topics is not "topic: method", or a choice is not offered.
    bad = {**form, "quorum_percent": "60", "methods_by_topic": "budget"}
    refused = cleo.client.post("/proposals", data=bad)
    assert 'id="draft-methods_by_topic-error">Write each line of methods by topic' in refused.text
    bad = {**form, "quorum_percent": "60", "absentee_policy": "whatever"}
    refused = cleo.client.post("/proposals", data=bad)
    assert 'id="draft-absentee_policy-error">Choose the absentee policy from the list' in (
        refused.text
    )
    assert drafted(c, "Votes on money") == []
    # When: every field can be read.
    form["quorum_percent"] = "60"
    assert cleo.client.post("/proposals", data=form, follow_redirects=False).status_code == 303
    # Then: the subject holds each typed value, and nothing for the fields left empty.
    (proposal,) = [p for p in c.node.records.list_proposals() if p.title == "Votes on money"]
    assert proposal.subject == {
        "methods_by_topic": {"budget": "formal_vote", "rota": "consent"},
        "quorum_percent": 60,
        "absentee_policy": "reacted_in_advance",
        "long_term_topics": ["buildings", "land"],
    }


def test_an_answer_to_another_circle_says_yes_or_no(kitchen_circle: Circle) -> None:
    c = kitchen_circle
    cleo = signed_in(c, "cleo")
    page = cleo.client.get("/proposals/new?purpose=answer_consent_request").text
    # The round answered starts as the first; whether the circle consents is a choice.
    assert 'value="1"' in field_tag(page, "draft", "round")
    assert '<option value="yes">Yes</option>' in page
    refused = cleo.client.post(
        "/proposals",
        data={
            "csrf": cleo.csrf("/"),
            "purpose": "answer_consent_request",
            "title": "Our answer",
            "text": "We consent.",
            "circle": "node-1",
            "request": "p-1",
            "consents": "perhaps",
        },
    )
    assert refused.status_code == 422
    assert 'id="draft-consents-error">Say yes or no: consents</p>' in refused.text


def test_a_peering_request_names_a_circle_the_circle_knows(tmp_path: Path, clock: Clock) -> None:
    nodes, coop, _ = member_pair(tmp_path, clock)
    try:
        # Given: Ada, on the co-op's node, which knows the kitchen circle.
        ada = signed_in(coop, "ada")
        other = nodes["kitchen"].feed.node_id
        form = {
            "csrf": ada.csrf(f"/proposals/new?purpose=request_peering&circle={other}"),
            "purpose": "request_peering",
            "title": "Peer with the kitchen",
            "text": "They cook, we care.",
        }
        # When: she names a circle the co-op does not know.
        refused = ada.client.post("/proposals", data={**form, "circle": "node-unknown"})
        # Then: refused with the circle's sentence, and nothing drafted.
        assert refused.status_code == 404, refused.text
        assert drafted(coop, form["title"]) == []
        # When: she names the kitchen, as the link filled it in.
        posted = ada.client.post(
            "/proposals", data={**form, "circle": other}, follow_redirects=False
        )
        # Then: the proposal is drafted, naming it.
        assert posted.status_code == 303, posted.text
        (proposal,) = [p for p in coop.node.records.list_proposals() if p.title == form["title"]]
        assert proposal.purpose == Purpose.REQUEST_PEERING
        assert proposal.subject == {"circle": other}
        # And: its page says what it names, the circle by its name.
        page = ada.client.get(posted.headers["location"]).text
        assert "To request peering" in page
        assert f"<dt>Circle</dt><dd>Kitchen ({other})</dd>" in page
    finally:
        for node in nodes.values():
            node.close()
