"""Issue 15's showcase: a circle founded by `circle-node init` is then run wholly from the pages,
in a real browser. Nothing is done by the API or the node's commands after `init`: from the
founder's personal token, each step is clicked by the member whose step it is, in their own
browser. The founder admits four people (each copies the token shown once on the page), the
circle selects its facilitator and its secretary, forms its aim, starts its work, consents to a
proposal after integrating an objection, its facilitator takes an everyday decision, it holds a
meeting with minutes, and the logbook tells all of it."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from typer.testing import CliRunner

from domain.values import CircleStatus, MeetingStage, Stage
from node.app.node import CircleNode
from node.app.persistence import open_node
from node.cli.main import app as command
from node.settings import Settings
from tests.web.browsing import Browser, Page, Shot, expect, signed_in_with_token
from tests.web.conftest import serve_node

AIM = "Good food for everyone who comes to the community centre"
AIM_TITLE = "Our aim, formed together"
FORMED_AIM = "Good food, cooked together, for everyone who comes to the community centre"


@dataclass
class Founded:
    """A node made by `circle-node init`, served: its URL, and the founder's token as `init`
    printed it."""

    url: str
    node: CircleNode
    founder_token: str


@pytest.fixture
def founded(tmp_path: Path) -> Iterator[Founded]:
    data = tmp_path / "kitchen"
    result = CliRunner().invoke(
        command,
        [
            *("init", "--data", str(data), "--name", "Kitchen circle", "--aim", AIM),
            *("--domain", "The kitchen, its rota and its budget", "--founder", "Ann Archer"),
        ],
    )
    assert result.exit_code == 0, result.output
    printed = re.search(
        r"Founder's personal token \(shown this once; keep it safe\): (\S+)", result.output
    )
    assert printed, result.output
    node = open_node(Settings.load(data))
    try:
        with serve_node(node) as (url, _):
            yield Founded(url, node, printed.group(1))
    finally:
        node.close()


def signed_in(browser: Browser, founded: Founded, token: str, name: str) -> Page:
    """A browser of their own for one person, signed in with their token from the sign-in page."""
    page = signed_in_with_token(browser, founded.url, token)
    expect(page.locator(".notice")).to_have_text(f"Welcome, {name}.")
    expect(page.locator("header .who")).to_contain_text(f"Signed in as {name}")
    return page


def click(page: Page, button: str) -> None:
    page.get_by_role("button", name=button, exact=True).click()


def notice(page: Page, sentence: str) -> None:
    expect(page.locator(".notice")).to_have_text(sentence)


def nav(page: Page, link: str) -> None:
    page.get_by_role("link", name=link, exact=True).click()


def from_home(page: Page, title: str) -> None:
    """What waits for them, opened from their home page's list."""
    nav(page, "Home")
    page.locator("#waiting").get_by_role("link", name=title).click()


def open_proposal(page: Page, title: str) -> None:
    nav(page, "Proposals")
    page.get_by_role("link", name=title, exact=True).click()


def open_meeting(page: Page) -> None:
    nav(page, "Meetings")
    page.get_by_role("link", name="First circle meeting", exact=True).click()


def admit(ann: Page, name: str, level: str) -> str:
    """Ann records someone's application on /people and admits them at `level`; returns the
    personal token the page shows this once."""
    nav(ann, "People")
    ann.get_by_label("Name", exact=True).fill(name)
    ann.get_by_label("Applies to take part as").select_option(level)
    click(ann, "Record the application")
    expect(ann.locator(".notice")).to_contain_text(f"The application of {name} is recorded")
    ann.get_by_label("Admit as").select_option(level)
    click(ann, f"Admit {name}")
    expect(ann.locator("#new-token")).to_contain_text(f"{name} is admitted: their personal token")
    expect(ann.locator("#new-token")).to_contain_text("Copy it now: it is shown this once.")
    token = ann.locator("#token").inner_text().strip()
    assert token.startswith("cn_")
    return token


def select(pages: dict[str, Page], host: str, hat: str, wearer: str, full: list[str]) -> None:
    """The hat's selection, clicked through: `host` opens it from the hat's page, every full
    participant nominates `wearer` with a reason, the change round, the candidate, everyone's
    consent, and the round closed."""
    page = pages[host]
    nav(page, "Hats")
    page.get_by_role("link", name=hat, exact=True).click()
    expect(page.locator("main")).to_contain_text("Nobody wears this hat.")
    click(page, f"Open a selection for the {hat.lower()} hat")
    expect(page.locator(".notice")).to_contain_text("The selection is open")
    for name in full:
        nominating = pages[name]
        nav(nominating, "Selections")
        expect(nominating.locator("#selections")).to_contain_text("Your nomination is awaited")
        nominating.get_by_role("link", name=f"Selection for {hat}").click()
        nominating.get_by_label("Whom you nominate", exact=True).select_option(label=wearer)
        nominating.get_by_label(re.compile(r"^Why \(what makes them right")).fill(
            f"{wearer} would make a good {hat}"
        )
        click(nominating, "Nominate")
        notice(nominating, f"Your nomination of {wearer} is recorded.")
    page.reload()
    expect(page.locator("#nominations li")).to_have_count(len(full))
    click(page, "Open the change round")
    expect(page.locator("#stage")).to_have_text("change round")
    page.get_by_label("Propose as candidate").select_option(label=wearer)
    page.get_by_label("Why this candidate").fill("Nominated by everyone")
    click(page, "Propose the candidate")
    expect(page.locator("#stage")).to_have_text("consent round")
    for name in full:
        answering = pages[name]
        from_home(answering, hat)
        expect(answering.locator("#stage")).to_have_text("consent round")
        click(answering, "I consent")
        notice(answering, "Your consent is recorded.")
    page.reload()
    click(page, "Close the consent round")
    notice(page, f"Consented: {wearer} wears the {hat.lower()} hat.")


def test_a_circle_founded_by_init_is_run_from_the_pages(
    browser: Browser, founded: Founded, shot: Shot
) -> None:
    # -- The founder signs in with the token `init` printed. The circle is forming.
    ann = signed_in(browser, founded, founded.founder_token, "Ann Archer")
    nav(ann, "Circle")
    expect(ann.locator("main")).to_contain_text("forming")
    expect(ann.locator("#aim")).to_have_text(AIM)
    expect(ann.locator("#not-ready")).to_contain_text("Form the circle's aim together first")
    shot(ann, "founding-01-signed-in")

    # -- She admits four people; each copies the token shown once and signs in with it.
    newcomers = {
        "Ben Baker": "full",
        "Cat Cook": "full",
        "Dan Dish": "full",
        "Eve Egg": "learning",
    }
    pages = {"Ann Archer": ann}
    tokens = []
    for name, level in newcomers.items():
        token = admit(ann, name, level)
        tokens.append(token)
        if name == "Ben Baker":
            shot(ann, "founding-02-token-shown-once")
        pages[name] = signed_in(browser, founded, token, name)
    nav(ann, "People")
    for name in newcomers:
        expect(ann.locator("main")).to_contain_text(name)
    assert not any(token in ann.content() for token in tokens)  # shown that once only
    shot(ann, "founding-03-people")
    ben, cat, dan, eve = (pages[name] for name in newcomers)
    full = ["Ann Archer", "Ben Baker", "Cat Cook", "Dan Dish"]

    # -- The facilitator: while nobody facilitates, Ann runs the selection; Ben is selected.
    select(pages, "Ann Archer", "Facilitator", "Ben Baker", full)
    shot(ann, "founding-04-facilitator-selected")
    # -- The secretary: Ben, now facilitating, runs it; Cat is selected.
    select(pages, "Ben Baker", "Secretary", "Cat Cook", full)
    nav(ben, "Hats")
    expect(ben.locator("#hats tr", has_text="Facilitator")).to_contain_text("Ben Baker")
    expect(ben.locator("#hats tr", has_text="Secretary")).to_contain_text("Cat Cook")
    shot(ben, "founding-05-hats-worn")
    nav(ann, "Circle")
    expect(ann.locator("#not-ready")).to_contain_text("Form the circle's aim together first")

    # -- The aim, formed together: Ann proposes to change it, Ben facilitates, all consent.
    nav(ann, "Proposals")
    ann.get_by_role("link", name="Draft a proposal").click()
    ann.get_by_role("link", name="Change the circle's aim").click()
    ann.get_by_label("Title").fill(AIM_TITLE)
    ann.get_by_label("Proposal", exact=True).fill("We talked it over: we cook together.")
    ann.get_by_label("The new aim").fill(FORMED_AIM)
    click(ann, "Draft")
    expect(ann.locator("#stage")).to_have_text("draft")
    click(ann, "Present the proposal")
    expect(ann.locator("#stage")).to_have_text("presented")
    open_proposal(ben, AIM_TITLE)
    click(ben, "Open the reaction round")
    open_proposal(eve, AIM_TITLE)
    eve.get_by_label("Your reaction").fill("I like 'together'.")
    click(eve, "React")
    expect(eve.get_by_text("Eve Egg: I like 'together'.")).to_be_visible()
    open_proposal(ben, AIM_TITLE)
    click(ben, "Open the consent round")
    expect(ben.locator("#stage")).to_have_text("consent round")
    for name in full:
        from_home(pages[name], AIM_TITLE)
        click(pages[name], "I consent")
        notice(pages[name], "Your consent is recorded.")
    open_proposal(ben, AIM_TITLE)
    click(ben, "Close the consent round")
    expect(ben.locator("#stage")).to_have_text("consented")
    shot(ben, "founding-06-aim-formed")

    # -- Ready: Ann starts the circle's work from the circle's page.
    nav(ann, "Circle")
    expect(ann.locator("#aim")).to_have_text(FORMED_AIM)
    expect(ann.locator("#not-ready")).to_have_count(0)
    click(ann, "Start the circle's work")
    notice(ann, "The circle is active: its work has started.")
    expect(ann.locator("main")).to_contain_text("active")
    expect(ann.locator("#activate")).to_have_count(0)
    shot(ann, "founding-07-active")

    # -- A proposal with an objection, integrated: Dan proposes a tea rota; Cat objects.
    nav(dan, "Proposals")
    dan.get_by_role("link", name="Draft a proposal").click()
    dan.get_by_role("link", name="Adopt a policy").click()
    dan.get_by_label("Title").fill("Tea rota")
    dan.get_by_label("Proposal", exact=True).fill("Everyone takes a turn making tea, weekly.")
    click(dan, "Draft")
    click(dan, "Present the proposal")
    open_proposal(ben, "Tea rota")
    click(ben, "Open the reaction round")
    click(ben, "Open the consent round")
    expect(ben.locator("#stage")).to_have_text("consent round")
    # Eve, a learning participant, speaks but does not answer: nothing waits for her.
    nav(eve, "Home")
    expect(eve.locator("#waiting")).to_have_text("Nothing waits for you now.")
    argument = "On Mondays the kitchen serves the market lunch: tea then leaves it unstaffed."
    from_home(cat, "Tea rota")
    cat.get_by_label("Your objection and its argument").fill(argument)
    click(cat, "Raise the objection")
    notice(cat, "Your objection is recorded as objection 1.")
    for name in ("Ann Archer", "Ben Baker", "Dan Dish"):
        from_home(pages[name], "Tea rota")
        click(pages[name], "I consent")
    open_proposal(ben, "Tea rota")
    click(ben, "Close the consent round")
    notice(ben, "The consent round is closed: integrating.")
    shot(ben, "founding-08-objection")
    amended = "Everyone takes a turn making tea, weekly, except on market Mondays."
    ben.get_by_label("How", exact=True).select_option("amend")
    ben.get_by_label("The amended text, the measure, or why the term is shortened").fill(amended)
    click(ben, "Integrate")
    expect(ben.locator("#text")).to_have_text(amended)
    expect(ben.locator("#objection-1")).to_contain_text("integrated")
    click(ben, "Open the consent round")
    expect(ben.get_by_text("(consent round 2)")).to_be_visible()
    for name in full:
        from_home(pages[name], "Tea rota")
        click(pages[name], "I consent")
        notice(pages[name], "Your consent is recorded.")
    open_proposal(ben, "Tea rota")
    click(ben, "Close the consent round")
    expect(ben.locator("#stage")).to_have_text("consented")
    shot(ben, "founding-09-consented-after-integration")

    # -- An everyday decision: Ben, as facilitator, decides within his hat's domain.
    nav(ben, "Decisions")
    expect(ben.locator("#decisions tr", has_text="Tea rota")).to_contain_text(amended)
    ben.get_by_label("With the hat").select_option("facilitator")
    ben.get_by_label("Area of the hat's domain").fill("meetings")
    ben.get_by_label("Title").fill("Meetings on Tuesdays")
    ben.get_by_label("The decision", exact=False).fill("We meet on *Tuesdays* at six.")
    click(ben, "Take the decision")
    notice(ben, "Your everyday decision is taken.")
    expect(ben.locator("#terms")).to_contain_text("Ben Baker as Facilitator, in meetings")
    shot(ben, "founding-10-everyday-decision")
    # Eve, who wears no hat, reads it and is offered no such form.
    nav(eve, "Decisions")
    expect(eve.locator("#decisions tr", has_text="Meetings on Tuesdays")).to_contain_text(
        "Taken by Ben Baker as Facilitator, in meetings"
    )
    expect(eve.get_by_role("button", name="Take the decision")).to_have_count(0)

    # -- A meeting: Ben schedules it, Dan tells his absence ahead, Cat records who came.
    zone = ZoneInfo(str(founded.node.records.time_zone()))
    when = datetime.now(zone) + timedelta(minutes=30)
    nav(ben, "Meetings")
    ben.get_by_label("Title").fill("First circle meeting")
    ben.get_by_label("When").fill(when.strftime("%Y-%m-%dT%H:%M"))
    click(ben, "Schedule")
    notice(ben, "The meeting is scheduled.")
    ben.get_by_role("link", name="First circle meeting").click()
    expect(ben.locator("#stage")).to_have_text("planned")
    open_meeting(dan)
    dan.get_by_label("Note").fill("At the market that evening")
    click(dan, "Record the absence")
    expect(dan.locator("#absences")).to_contain_text("Dan Dish")
    open_meeting(cat)
    click(cat, "Record attendance")
    notice(cat, "Attendance is recorded: the meeting is open.")
    for name in ("Ann Archer", "Ben Baker", "Cat Cook", "Eve Egg"):
        expect(cat.locator("#present")).to_contain_text(name)
    expect(cat.locator("#present")).not_to_contain_text("Dan Dish")
    expect(cat.locator("#absent")).to_contain_text("Dan Dish (told ahead)")
    # Ben records the agenda the meeting consented to; Cat, what was decided.
    open_meeting(ben)
    ben.get_by_label("Item 1", exact=True).fill("The summer rota")
    click(ben, "Record the agenda")
    notice(ben, "The agenda is recorded.")
    open_meeting(cat)
    cat.get_by_label("What was decided on item 1").fill("Two cooks a night, all summer")
    click(cat, "Record the outcome of item 1")
    notice(cat, "What was decided on item 1 is recorded.")
    shot(cat, "founding-11-meeting-item-decided")
    # Cat records the minutes; Ben records the circle's consent to them.
    cat.get_by_label("Minutes (without the confidential items)").fill(
        "We agreed the summer rota: two cooks a night."
    )
    click(cat, "Record the minutes")
    expect(cat.locator("#minutes")).to_have_text("We agreed the summer rota: two cooks a night.")
    from_home(ben, "First circle meeting")
    expect(ben.locator("#consent-minutes")).to_contain_text(
        "The minutes wait for the circle's consent"
    )
    click(ben, "Record the consent to the minutes")
    notice(ben, "The minutes are consented: the meeting is closed.")
    expect(ben.locator("#stage")).to_have_text("closed")
    shot(ben, "founding-12-meeting-closed")

    # -- The logbook tells each step: the newest on its first page, the others found by words.
    nav(eve, "Logbook")
    logbook = eve.locator("#logbook")
    expect(logbook).to_contain_text("Minutes of 'First circle meeting' consented")
    expect(logbook).to_contain_text("'First circle meeting', item 1: Two cooks a night, all summer")
    expect(logbook).to_contain_text("Meeting 'First circle meeting' scheduled")
    expect(logbook).to_contain_text(
        "Ben Baker, as facilitator, took an everyday decision on meetings: 'Meetings on Tuesdays'"
    )
    shot(eve, "founding-13-logbook")
    for words, lines in (
        ("founded", ["Ann Archer founded the circle 'Kitchen circle' with the aim: " + AIM]),
        (
            "welcomed",
            [
                "Ben Baker was welcomed as a full participant",
                "Cat Cook was welcomed as a full participant",
                "Dan Dish was welcomed as a full participant",
                "Eve Egg was welcomed as a learning participant",
            ],
        ),
        ("put on", ["Ben Baker put on the facilitator hat", "Cat Cook put on the secretary hat"]),
        ("formed its aim", [f"The circle formed its aim together, by consent: {FORMED_AIM}"]),
        ("began its work", ["The circle began its work"]),
        (
            "Tea rota",
            [
                f"Cat Cook objected to 'Tea rota': {argument}",
                f"Objection(s) 1 to 'Tea rota' integrated (amend): {amended}",
                "Consent round 2 on 'Tea rota' closed: consented",
                "Policy in force: 'Tea rota'",
            ],
        ),
    ):
        eve.get_by_label("Words").fill(words)
        click(eve, "Search")
        for line in lines:
            expect(logbook).to_contain_text(line)
    shot(eve, "founding-14-logbook-search")

    # -- And the node's records agree.
    records = founded.node.records
    circle = records.get_circle()
    assert circle.status == CircleStatus.ACTIVE and circle.aim == FORMED_AIM
    assert [records.person_name(p) for p in circle.wearers("facilitator")] == ["Ben Baker"]
    assert [records.person_name(p) for p in circle.wearers("secretary")] == ["Cat Cook"]
    assert {p.title: p.stage for p in records.list_proposals()}["Tea rota"] == Stage.CONSENTED
    (held,) = records.list_meetings()
    assert held.stage == MeetingStage.CLOSED
