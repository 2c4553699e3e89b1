"""The budget and plans pages over HTTP (no browser): a budget made and revised by the hat whose
domain it is, the list with its filters, refusals beside their fields, and those the rules do
not let make or revise one: no form (a link to propose it instead), and a 403 page when they
post anyway."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest

from node.app.node import CircleNode
from node.app.persistence import open_node
from node.demo.scripted import select
from node.settings import Settings
from tests.conftest import Clock
from tests.node.api.world import Circle, kitchen
from tests.web.visiting import signed_in

# The period of the spring budget: the circle's clock reads 1 March.
SPRING = (date(2026, 3, 1), date(2026, 5, 31))


@pytest.fixture
def kitchen_circle(tmp_path: Path, clock: Clock) -> Iterator[Circle]:
    """The kitchen circle, where Ben also wears the treasurer hat (its domain: the budget)."""
    node: CircleNode = open_node(Settings(data_dir=tmp_path / "kitchen"), clock)
    c = kitchen(node)
    hat = node.hats.define_hat(c.ids["ada"], "Treasurer", "Keeps the accounts", [], ["budget"])
    select(node, hat, c.ids["ben"])
    yield c
    node.close()


def text_of(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def budget(csrf: str, **fields: str) -> dict[str, str]:
    """The spring budget, as Ben the treasurer fills in the form."""
    return {
        "csrf": csrf,
        "hat_id": "treasurer",
        "kind": "budget",
        "title": "Spring food",
        "text": "Vegetables and **bread**.",
        "period_start": "2026-03-01",
        "period_end": "2026-05-31",
        "review_date": "",
        "amount": "1200.50",
        "currency": "gbp",
        **fields,
    }


def test_the_treasurer_makes_a_budget_and_revises_it(kitchen_circle: Circle) -> None:
    c, node = kitchen_circle, kitchen_circle.node
    # Given: Ben, on the budget and plans page, reached from the decisions page.
    ben = signed_in(c, "ben")
    assert 'href="/plans"' in ben.client.get("/decisions").text
    page = ben.client.get("/plans").text
    assert '<option value="treasurer">Treasurer (budget)</option>' in page

    # When: he makes the spring budget with his treasurer hat.
    made = ben.client.post("/plans", data=budget(ben.csrf("/plans")), follow_redirects=False)

    # Then: its page shows it, with its amount, period and review date (the period's end).
    (plan,) = node.plans.list_plans()
    assert made.status_code == 303 and made.headers["location"] == f"/plans/{plan.id}"
    shown = ben.client.get(made.headers["location"]).text
    assert "The budget or plan is made." in shown
    assert "Vegetables and <strong>bread</strong>." in shown
    words = text_of(shown)
    for text in (
        "Period 2026-03-01 to 2026-05-31",
        "Amount 1200.50 GBP",
        "Review date 2026-05-31",
        "Made by Ben as Treasurer, on 2026-03-01",
    ):
        assert text in words, text

    # When: he revises its amount.
    csrf = ben.csrf(f"/plans/{plan.id}")
    revised = ben.client.post(
        f"/plans/{plan.id}/revise",
        data={
            "csrf": csrf,
            "hat_id": "treasurer",
            "text": "Vegetables, bread and tea.",
            "period_start": "2026-03-01",
            "period_end": "2026-05-31",
            "review_date": "",
            "amount": "1500",
            "currency": "GBP",
        },
        follow_redirects=False,
    )
    # Then: the budget is revised, as its page says.
    assert revised.status_code == 303
    words = text_of(ben.client.get(f"/plans/{plan.id}").text)
    assert "The budget is revised." in words
    assert "Amount 1500 GBP" in words and "Revised 1 time" in words
    assert node.plans.get_plan(str(plan.id)).text == "Vegetables, bread and tea."


def test_the_list_filters_by_kind_and_time(kitchen_circle: Circle) -> None:
    c, ids, node = kitchen_circle, kitchen_circle.ids, kitchen_circle.node
    plan = node.plans.make_plan(
        ids["ben"],
        "treasurer",
        "budget",
        "Spring food",
        "Bread",
        *SPRING,
    )
    cleo = signed_in(c, "cleo")
    link = f'href="/plans/{plan}"'
    assert link in cleo.client.get("/plans").text
    assert link in cleo.client.get("/plans?kind=budget&when=current").text
    assert link not in cleo.client.get("/plans?kind=plan").text
    assert link not in cleo.client.get("/plans?when=past").text
    assert "No budget or plan for this time." in cleo.client.get("/plans?when=past").text


def test_the_plan_forms_refuse_beside_their_fields(kitchen_circle: Circle) -> None:
    c, node = kitchen_circle, kitchen_circle.node
    ben = signed_in(c, "ben")
    csrf = ben.csrf("/plans")
    cases = [
        ({"period_end": "2026-02-01"}, "period_end", "A plan&#39;s period ends on or after"),
        ({"period_start": ""}, "period_start", "Say the first day of its period"),
        ({"review_date": "2026-02-01"}, "review_date", "The review date must be in the future"),
        ({"amount": "", "currency": "GBP"}, "currency", "A currency goes with an amount"),
        ({"amount": "lots"}, "amount", "A budget&#39;s amount is a number"),
        ({"currency": "pounds"}, "currency", "Name the amount&#39;s currency"),
        ({"title": ""}, "title", "A plan needs a title"),
    ]
    for change, field, sentence in cases:
        refused = ben.client.post("/plans", data=budget(csrf, **change))
        assert refused.status_code == 422, change
        assert f'<p class="field-error" id="plan-{field}-error">{sentence}' in refused.text, change
        assert f'aria-describedby="plan-{field}-error" autofocus' in refused.text
        assert "Vegetables and **bread**.</textarea>" in refused.text
    # A plan is not the treasurer's: his hat's domain covers the budget only.
    outside = ben.client.post("/plans", data=budget(csrf, kind="plan", amount="", currency=""))
    assert outside.status_code == 403
    assert "A plan is outside the domain of the treasurer hat" in outside.text
    assert node.plans.list_plans() == []

    # And: the revision's refusals stand beside their fields too.
    plan = node.plans.make_plan(c.ids["ben"], "treasurer", "budget", "Spring", "Bread", *SPRING)
    refused = ben.client.post(
        f"/plans/{plan}/revise",
        data={"csrf": csrf, "hat_id": "treasurer", "text": "Tea", "amount": "5", "currency": "£"},
    )
    assert refused.status_code == 422
    assert '<p class="field-error" id="revise-currency-error">Name the amount' in refused.text
    assert node.plans.get_plan(plan).revisions == 0


def test_without_the_hat_no_form_but_a_proposal_and_a_403_page(kitchen_circle: Circle) -> None:
    c, ids, node = kitchen_circle, kitchen_circle.ids, kitchen_circle.node
    plan = node.plans.make_plan(ids["ben"], "treasurer", "budget", "Spring", "Bread", *SPRING)
    # Given: Cleo wears no hat over the budget: no form, but a link to propose one instead.
    cleo = signed_in(c, "cleo")
    plans = cleo.client.get("/plans").text
    assert 'id="plan"' not in plans
    assert 'href="/proposals/new?purpose=adopt_plan"' in plans
    page = cleo.client.get(f"/plans/{plan}").text
    assert 'id="revise"' not in page
    assert f'href="/proposals/new?purpose=revise_plan&amp;plan_id={plan}"' in page

    # When: she posts both anyway, with the treasurer hat.
    csrf = cleo.csrf("/plans")
    made = cleo.client.post("/plans", data=budget(csrf))
    revised = cleo.client.post(
        f"/plans/{plan}/revise", data={"csrf": csrf, "hat_id": "treasurer", "text": "Cake"}
    )

    # Then: the circle's rules refuse her, and nothing changed.
    for refused in (made, revised):
        assert refused.status_code == 403
        assert "Only the treasurer can make or revise a budget with this hat" in refused.text
    assert len(node.plans.list_plans()) == 1
    assert node.plans.get_plan(plan).revisions == 0

    # And: Gus, a guest, may not propose one either: no link.
    gus = signed_in(c, "gus")
    assert "/proposals/new" not in gus.client.get("/plans").text


def test_an_unknown_plan_is_a_404_page(kitchen_circle: Circle) -> None:
    assert signed_in(kitchen_circle, "cleo").client.get("/plans/nothing-here").status_code == 404
