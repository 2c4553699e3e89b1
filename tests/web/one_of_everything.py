"""A world with one of everything the members' pages show, built with the node's use cases (not
the pages), for the test that visits every page (tests/web/test_every_page.py).

The served circle, Riverside Care Co-op: Ada (founder, secretary), Ben (facilitator, and
treasurer), Cleo (full, cook), Eli (learning), Gus (guest) and Hal (applying, on trial). It
has a hat with an open selection, proposals at several stages (a draft, one with a question,
one in its consent round with a concern and an objection), a decision by consent and an
everyday one (appealed by Eli), a budget, and a meeting with its agenda and minutes. The Garden
circle, on a second node, joined the network through it, is one of its member circles (its
decisions and minutes reach the co-op) and asked it for support, which the co-op offered.

`values` holds, for each name a page's path may carry, the values to fill it with: a page is
visited once for each. `member_pages()` names every page a member may open, `SIGNED_OUT` those
for anyone, and `filled` a page's paths with the world's values (tests/web/test_every_page.py,
and tests/web/test_pages_under_a_prefix.py, which walks them under a co-op host's prefix).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

import pytest
from fastapi.routing import APIRoute

from domain.records import AgendaItem
from domain.values import Purpose
from node.app.node import CircleNode
from node.app.persistence import open_node
from node.demo.scripted import consent_to, form_aim, select
from node.http.web import PAGES, page_table
from node.settings import Settings
from tests.node.circles import sync
from tests.web.conftest import join_network, serve_node

CO_OP = "Riverside Care Co-op"
GARDEN = "Garden circle"
# A word with no break in it, in what members write: it wraps rather than widens a page.
LONG_WORD = "Supercalifragilisticexpialidocious" * 8
POLICY = f"""Rotas are published a week ahead.

- Two people for each visit
- Nobody works more than two Sundays a month

Questions to {LONG_WORD}."""

UNKNOWN = "/no-such-page"
# Pages for those not signed in, visited signed out (`{unsubscribe}`: an unsubscribe link).
SIGNED_OUT = ("/", "/sign-in", "/sign-in/link/{token}", "{unsubscribe}", UNKNOWN)
PARAMETER = re.compile(r"{(\w+)}")


def member_pages() -> list[str]:
    """Every page a member may open: those the page table names and every GET route of the
    page modules (the overview at / too)."""
    routes = {
        route.path
        for module in PAGES
        for route in module.router.routes
        if isinstance(route, APIRoute) and "GET" in (route.methods or ())
    }
    return sorted({"/", *page_table().values(), *routes})


@dataclass
class World:
    url: str
    node: CircleNode
    garden_url: str
    garden: CircleNode
    unsubscribe: str  # the path of an unsubscribe link from a mail
    people: dict[str, str] = field(default_factory=dict)  # first name -> person id
    tokens: dict[str, str] = field(default_factory=dict)  # first name -> personal token
    # A page's path parameter -> (what the value is, the value), one visit each.
    values: dict[str, list[tuple[str, str]]] = field(default_factory=dict)


@contextmanager
def one_of_everything(folder: Path) -> Iterator[World]:
    with ExitStack() as stack:
        co_op = open_node(Settings(data_dir=folder / "co-op"))
        stack.callback(co_op.close)
        garden = open_node(Settings(data_dir=folder / "garden"))
        stack.callback(garden.close)
        people = _the_circle(co_op)
        values = _its_records(co_op, people)
        values.update(_its_network(co_op, garden))
        token, unsubscribe = _mail_links(co_op, people["Eli"])
        values["token"] = [("eli", token)]
        tokens = {
            name: co_op.tokens.issue_token(person)[1]
            for name, person in people.items()
            if name != "Hal"
        }
        url, _ = stack.enter_context(serve_node(co_op))
        garden_url, _ = stack.enter_context(serve_node(garden))
        yield World(url, co_op, garden_url, garden, unsubscribe, people, tokens, values)


def _the_circle(node: CircleNode) -> dict[str, str]:
    ada = node.circle.found_circle(
        name=CO_OP,
        aim="Care at home for everyone in the valley, given and received by neighbours",
        domain="Visits, their rota and the co-op's budget",
        founder_name="Ada Archer",
    )
    people = {"Ada": ada}
    for name, level in (
        ("Ben Baker", "full"),
        ("Cleo Cook", "full"),
        ("Eli Evans", "learning"),
        ("Gus Green", "guest"),
    ):
        people[name.split()[0]] = node.people.add_founding_member(ada, name, level)
    form_aim(node, "Care is what the co-op is for")
    select(node, "facilitator", people["Ben"])
    select(node, "secretary", ada)
    node.circle.activate_circle(ada)
    people["Hal"] = node.people.apply_to_join("Hal Hughes", contact="Met at the market")
    node.people.start_trial(ada, people["Hal"], 3)
    node.people.hold_trial_session(ada, people["Hal"])
    return people


def _its_records(node: CircleNode, people: dict[str, str]) -> dict[str, list[tuple[str, str]]]:
    ada, ben, cleo, eli = (people[name] for name in ("Ada", "Ben", "Cleo", "Eli"))
    today = node.records.today()

    # Hats: the cook (Cleo) takes everyday decisions on menus and the rota; the treasurer
    # (Ben) keeps the budget; a gardener is being selected.
    cook = node.hats.define_hat(
        ada, "Cook", "Good food at every visit", ["Plans the menus"], ["menus", "rota"], 6
    )
    select(node, cook, cleo)
    treasurer = node.hats.define_hat(ada, "Treasurer", "Keeps the accounts", [], ["budget"])
    select(node, treasurer, ben)
    gardener = node.hats.define_hat(ada, "Gardener", "Keeps the garden", [], ["garden"])
    selection = node.hats.open_selection(ben, gardener)
    node.hats.nominate(cleo, selection, eli, "Eli knows the plants")

    # Proposals at several stages.
    draft = node.proposals.draft_proposal(cleo, "Soup on Mondays", "Soup, every Monday.")
    asked = node.proposals.draft_proposal(cleo, "A second kitchen", "Open a second kitchen.")
    node.proposals.present(cleo, asked)
    node.proposals.ask_question(eli, asked, "Where would it be?")
    in_round = node.proposals.draft_proposal(ada, "Sunday visits", POLICY)
    node.proposals.present(ada, in_round)
    node.proposals.open_reactions(ben, in_round)
    node.proposals.react(eli, in_round, "Good for the families")
    node.consent.open_consent_round(ben, in_round)
    node.consent.consent(ada, in_round, "Watch the drivers' hours")
    node.consent.raise_objection(cleo, in_round, f"It leaves the kitchen short: {LONG_WORD}")

    # Decisions: one by consent, one everyday decision within the cook's domain, appealed.
    consented = consent_to(node, Purpose.ADOPT_POLICY, {}, POLICY, title="Published rotas")
    (by_consent,) = (str(d.id) for d in node.records.list_decisions() if d.proposal_id == consented)
    everyday = node.decisions.take_everyday_decision(
        cleo, cook, "menus", "Vegetarian Fridays", "Every Friday's meal is vegetarian."
    )
    appeal = node.appeals.lodge(eli, everyday, "Nobody asked the families")

    # The budget, for the season.
    plan = node.plans.make_plan(
        ben,
        treasurer,
        "budget",
        "Spring",
        "Food 800, fuel 200",
        today,
        today + timedelta(days=90),
        amount="1000",
        currency="GBP",
    )

    # A meeting next week, its agenda consented (an item confidential), minutes recorded.
    when = node.records.now() + timedelta(days=7)
    meeting = node.meetings.schedule_meeting(ben, "Spring planning", when)
    node.meetings.tell_absence(cleo, meeting, cleo, "Away that week")
    node.meetings.record_attendance(ada, meeting, [ada, ben, eli, people["Gus"]])
    node.meetings.consent_agenda(
        ben,
        meeting,
        ["The rota", AgendaItem("A member's health", confidential=True), "Any other business"],
    )
    node.meetings.record_item_decided(ada, meeting, 1, "Two people for each visit")
    node.meetings.record_minutes(
        ada, meeting, f"We agreed the rota.\n\n- Ben drives\n- {LONG_WORD}", "Eli is better."
    )
    return {
        "person_id": [("full", cleo), ("on trial", people["Hal"])],
        "hat_id": [("worn", cook), ("selecting", gardener)],
        "selection_id": [("open", selection)],
        "proposal_id": [
            ("draft", draft),
            ("questions", asked),
            ("round", in_round),
            ("consented", consented),
        ],
        "decision_id": [("consented", by_consent), ("everyday", everyday)],
        "plan_id": [("budget", plan)],
        "meeting_id": [("minuted", meeting)],
        "appeal_id": [("gathering", appeal)],
    }


def _its_network(co_op: CircleNode, garden: CircleNode) -> dict[str, list[tuple[str, str]]]:
    """The Garden circle joins the network through the co-op and becomes one of its member
    circles; its decisions and minutes reach the co-op; it asks the co-op for support."""
    nodes = {"co-op": co_op, "garden": garden}
    garden.circle.found_circle(
        name=GARDEN, aim="Vegetables for the visits", domain="The garden", founder_name="Gil"
    )
    gil = next(iter(garden.records.get_circle().participants))
    garden.people.add_founding_member(gil, "Gwen")
    form_aim(garden)
    select(garden, "facilitator", gil)
    select(garden, "secretary", gil)
    garden.circle.activate_circle(gil)
    join_network(co_op, garden)
    sync(nodes)
    consent_to(garden, Purpose.APPLY_TO_COOP, {"circle": co_op.feed.node_id})
    sync(nodes)
    consent_to(co_op, Purpose.ADMIT_MEMBER, {"circle": garden.feed.node_id})
    sync(nodes)
    consent_to(garden, Purpose.ADOPT_POLICY, {}, "Beds rest one year in four", title="Fallow")
    meeting = garden.meetings.schedule_meeting(
        gil, "Sowing", garden.records.now() + timedelta(days=3)
    )
    garden.meetings.record_attendance(gil, meeting, [gil])
    garden.meetings.consent_agenda(gil, meeting, ["What to sow"])
    garden.meetings.record_minutes(gil, meeting, "Beans, then leeks.")
    garden.meetings.consent_minutes(gil, meeting)
    consent_to(
        garden,
        Purpose.REQUEST_SUPPORT,
        {"kind": "people", "circles": [co_op.feed.node_id]},
        text="Two people to help dig in April",
    )
    sync(nodes)
    (request,) = co_op.support.support_requests()
    consent_to(
        co_op,
        Purpose.OFFER_SUPPORT,
        {"circle": garden.feed.node_id, "request": str(request.id)},
        text="Ben and Cleo can come",
    )
    sync(nodes)
    other = garden.feed.node_id
    return {
        "other": [("member circle", other)],
        "circle": [("member circle", other)],
        "request_id": [("offered", str(request.id))],
    }


def _mail_links(node: CircleNode, person: str) -> tuple[str, str]:
    """A sign-in link's token, as an admission mail carries, and an unsubscribe link's path."""
    links = node.links.links()
    token = links.issue(person, node.records.now())
    node.save(links)
    return token, f"/unsubscribe/{person}/{node.links.unsubscribe_signature(person)}"


def filled(template: str, world: World) -> list[tuple[str, str]]:
    """The page's paths with the world's values, each with its screenshot's name; fails
    naming a parameter the world has no value for."""
    if template == "{unsubscribe}":
        return [(world.unsubscribe, "unsubscribe")]
    names = PARAMETER.findall(template)
    missing = [name for name in names if name not in world.values]
    if missing:
        pytest.fail(
            f"{template}: the world of tests/web/one_of_everything.py has no value for "
            f"{', '.join(missing)}: add one there"
        )
    visits = [(template, template)]
    for name in names:
        visits = [
            (path.replace(f"{{{name}}}", value), shot.replace(f"{{{name}}}", label))
            for path, shot in visits
            for label, value in world.values[name]
        ]
    return [(path, _shot_name(shot)) for path, shot in visits]


def _shot_name(path: str) -> str:
    name = re.sub(r"[^a-z0-9]+", "-", path.lower()).strip("-")
    return name or "overview"
