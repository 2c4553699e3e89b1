"""A meeting held by clicking, in a real browser: scheduled, attendance, the agenda (one item
confidential), an item decided, the minutes and their consent; then read in the logbook, found
by its kind and its words."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from domain.values import MeetingStage
from tests.web.browsing import Browser, Shot, expect, signed_in_page
from tests.web.conftest import Circle


def test_a_meeting_held_by_clicking_and_read_in_the_logbook(
    browser: Browser, circle: Circle, shot: Shot
) -> None:
    # Given: Ann, who wears the facilitator's and the secretary's hats, signed in.
    page = signed_in_page(browser, circle, "Ann", "/meetings")

    # She schedules a meeting for later today, and opens its page from the list.
    when = datetime.now(UTC) + timedelta(minutes=30)
    page.get_by_label("Title").fill("Kitchen circle meeting")
    page.get_by_label("When").fill(when.strftime("%Y-%m-%dT%H:%M"))
    page.get_by_role("button", name="Schedule").click()
    expect(page.locator(".notice")).to_have_text("The meeting is scheduled.")
    page.get_by_role("link", name="Kitchen circle meeting").click()
    expect(page.locator("h1")).to_have_text("Kitchen circle meeting")
    expect(page.locator("#stage")).to_have_text("planned")

    # Attendance: everyone but Cat came.
    page.get_by_label("Cat Cook").uncheck()
    page.get_by_role("button", name="Record attendance").click()
    expect(page.locator(".notice")).to_have_text("Attendance is recorded: the meeting is open.")
    expect(page.locator("#present")).to_have_text("Present: Ann Archer, Ben Baker, Dan Dish.")
    expect(page.locator("#absent")).to_have_text("Absent: Cat Cook.")
    shot(page, "meeting-attendance")

    # The agenda: the rota, and a confidential item.
    page.get_by_label("Item 1", exact=True).fill("The summer rota")
    page.get_by_label("Item 2", exact=True).fill("A volunteer's health")
    page.get_by_label("Item 2 is confidential").check()
    page.get_by_role("button", name="Record the agenda").click()
    expect(page.locator(".notice")).to_have_text("The agenda is recorded.")
    expect(page.locator("#item-2")).to_contain_text("confidential")

    # Item 1 decided.
    page.get_by_label("What was decided on item 1").fill("Two cooks a night, **all summer**")
    page.get_by_role("button", name="Record the outcome of item 1").click()
    expect(page.locator(".notice")).to_have_text("What was decided on item 1 is recorded.")
    expect(page.locator("#item-1 strong", has_text="all summer")).to_have_count(1)
    shot(page, "meeting-item-decided")

    # The minutes, then the circle's consent to them.
    page.get_by_label("Minutes (without the confidential items)").fill("We agreed the summer rota.")
    page.get_by_label("Minutes of the confidential items").fill("Cover for Dan's shifts.")
    page.get_by_role("button", name="Record the minutes").click()
    expect(page.locator("#minutes")).to_have_text("We agreed the summer rota.")
    page.get_by_role("button", name="Record the consent to the minutes").click()
    expect(page.locator(".notice")).to_have_text(
        "The minutes are consented: the meeting is closed."
    )
    expect(page.locator("#stage")).to_have_text("closed")
    shot(page, "meeting-closed")
    (meeting,) = circle.node.records.list_meetings()
    assert meeting.stage == MeetingStage.CLOSED
    assert meeting.agenda[0].outcome == "Two cooks a night, **all summer**"

    # Then: the logbook tells it, found by its kind, and by its words.
    page.get_by_role("link", name="Logbook", exact=True).click()
    page.get_by_label("Kind").select_option("meetings")
    page.get_by_role("button", name="Search").click()
    lines = page.locator("#logbook")
    expect(lines).to_contain_text("Minutes of 'Kitchen circle meeting' consented")
    expect(lines).to_contain_text(
        "'Kitchen circle meeting', item 1: Two cooks a night, **all summer**"
    )
    expect(lines).to_contain_text("Agenda of 'Kitchen circle meeting' consented")
    expect(lines).not_to_contain_text("Ann Archer drafted")
    page.get_by_label("Words").fill("summer rota")
    page.get_by_role("button", name="Search").click()
    expect(page.locator("#logbook tr")).to_have_count(2)  # the heading row and one line
    shot(page, "logbook-search")
