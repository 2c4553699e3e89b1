"""A meeting's own page, over HTTP (no browser): each step's form, refused beside its field,
offered only to those the circle's rules let take it (others get a 403 page when they post),
and a guest reading no confidential item.

Cast (tests/node/api/world.py's kitchen): Ada the secretary, Ben the facilitator, Cleo a full
participant, Eli a learning participant, Gus a guest; the circle's clock reads 1 March 2026."""

from __future__ import annotations

import re

import httpx

from domain.records import AgendaItem
from domain.values import MeetingStage
from tests.conftest import Clock
from tests.node.api.world import Circle
from tests.web.test_sessions import Browserless


class Person(Browserless):
    """Someone of the kitchen circle, signed in through the form."""

    def __init__(self, c: Circle, who: str) -> None:
        super().__init__(c.client.app)  # type: ignore[arg-type]
        assert self.sign_in(c.tokens[who]).status_code == 303

    def post(self, path: str, page: str, **fields: str | list[str]) -> httpx.Response:
        """Send a form of `page` to `path`, with the page's CSRF token."""
        return self.client.post(
            path, data={"csrf": self.csrf(page), **fields}, follow_redirects=False
        )


def _scheduled(c: Circle, clock: Clock) -> str:
    return c.node.meetings.schedule_meeting(c.ids["ben"], "March meeting", clock())


def _field_error(page: str, form: str, field: str) -> str:
    found = re.search(rf'<p class="field-error" id="{form}-{field}-error">([^<]*)</p>', page)
    assert found, page
    return found.group(1)


def test_the_list_links_each_meeting_and_marks_the_minutes_waiting_for_me(
    kitchen_circle: Circle, clock: Clock
) -> None:
    c, ids, node = kitchen_circle, kitchen_circle.ids, kitchen_circle.node
    # Given: a meeting whose minutes are recorded, and one still planned.
    held = _scheduled(c, clock)
    node.meetings.record_attendance(ids["ada"], held, [ids["ada"], ids["ben"]])
    node.meetings.consent_agenda(ids["ben"], held, ["Rota"])
    node.meetings.record_minutes(ids["ada"], held, "We agreed the rota")
    planned = node.meetings.schedule_meeting(ids["ben"], "April meeting", clock())
    # When: Ben, the facilitator, and Cleo open the list.
    ben = Person(c, "ben").client.get("/meetings").text
    cleo = Person(c, "cleo").client.get("/meetings").text
    # Then: each meeting links to its page; the minutes waiting for the circle's consent are
    # marked for Ben, who records it, and not for Cleo.
    for meeting_id in (held, planned):
        assert f'<a href="/meetings/{meeting_id}">' in ben
    assert ben.count("Its minutes wait for you") == 1
    assert re.search(rf'id="meeting-{held}">.*?Its minutes wait for you', ben, re.S)
    assert "Its minutes wait for you" not in cleo


def test_a_meeting_is_recorded_step_by_step_on_its_page(
    kitchen_circle: Circle, clock: Clock
) -> None:
    c, ids, node = kitchen_circle, kitchen_circle.ids, kitchen_circle.node
    mid = _scheduled(c, clock)
    page = f"/meetings/{mid}"
    ada, ben, cleo = Person(c, "ada"), Person(c, "ben"), Person(c, "cleo")

    # Cleo tells the secretary she will be absent; Ada records Ben's absence for him.
    told = cleo.post(f"{page}/absences", page, person_id=ids["cleo"], note="Away")
    assert told.status_code == 303 and told.headers["location"] == page
    assert "The secretary knows you will be absent." in cleo.client.get(page).text
    assert ada.post(f"{page}/absences", page, person_id=ids["ben"]).status_code == 303
    meeting = node.records.get_meeting(mid)
    assert [(n.person_id, n.told_by, n.note) for n in meeting.absences] == [
        (ids["cleo"], ids["cleo"], "Away"),
        (ids["ben"], ids["ada"], None),
    ]
    shown = ada.client.get(page).text
    assert "Ben&#39;s absence is recorded." in shown
    assert 'Ben <span class="muted">(recorded by Ada)</span>' in shown

    # Ada records who came (Ben came after all; Gus, a guest, too).
    present = [ids["ada"], ids["ben"], ids["eli"], ids["gus"]]
    assert ada.post(f"{page}/attendance", page, present=present).status_code == 303
    assert node.records.get_meeting(mid).stage == MeetingStage.OPEN
    assert "Absent: Cleo (told ahead)." in ada.client.get(page).text

    # Ben records the agenda: the second item confidential; blank rows are left out.
    agenda = ben.post(
        f"{page}/agenda", page, item1="Rota", item2="Pay rise for Dan", confidential2="yes"
    )
    assert agenda.status_code == 303
    items = node.records.get_meeting(mid).agenda
    assert [(i.title, i.confidential) for i in items] == [
        ("Rota", False),
        ("Pay rise for Dan", True),
    ]

    # Ben asks the guests to leave for item 2; Ada records both outcomes.
    assert ben.post(f"{page}/agenda/2/guests-left", page).status_code == 303
    assert node.records.get_meeting(mid).agenda[1].guests_left == [ids["gus"]]
    assert "Gus left for this item." in ben.client.get(page).text
    decided = ada.post(f"{page}/agenda/1/decided", page, outcome="Two cooks a night", reference="")
    assert decided.status_code == 303
    assert (
        ada.post(f"{page}/agenda/2/decided", page, outcome="A rise from April").status_code == 303
    )
    assert [i.outcome for i in node.records.get_meeting(mid).agenda] == [
        "Two cooks a night",
        "A rise from April",
    ]

    # Ada records the minutes, those of the confidential item apart.
    minutes = ada.post(
        f"{page}/minutes", page, text="We agreed the rota", confidential_text="Dan's rise"
    )
    assert minutes.status_code == 303
    meeting = node.records.get_meeting(mid)
    assert (meeting.minutes, meeting.confidential_minutes) == ("We agreed the rota", "Dan's rise")
    assert meeting.stage == MeetingStage.MINUTES_RECORDED

    # Ben records the circle's consent to the minutes: the meeting closes.
    assert "Record the consent to the minutes" in ben.client.get(page).text
    assert ben.post(f"{page}/minutes/consent", page).status_code == 303
    assert node.records.get_meeting(mid).stage == MeetingStage.CLOSED
    closed = ben.client.get(page).text
    assert "The minutes are consented: the meeting is closed." in closed
    assert "<form" not in closed.split('<main id="main" tabindex="-1">')[1]


def test_refused_forms_say_why_beside_their_field(kitchen_circle: Circle, clock: Clock) -> None:
    c, ids, node = kitchen_circle, kitchen_circle.ids, kitchen_circle.node
    mid = _scheduled(c, clock)
    page = f"/meetings/{mid}"
    ada, ben = Person(c, "ada"), Person(c, "ben")

    # Attendance with nobody present.
    refused = ada.post(f"{page}/attendance", page)
    assert refused.status_code == 422
    assert _field_error(refused.text, "attendance", "present") == "A meeting needs someone present"
    assert node.records.get_meeting(mid).stage == MeetingStage.PLANNED

    node.meetings.record_attendance(ids["ada"], mid, [ids["ada"], ids["ben"], ids["gus"]])
    # An agenda without an item.
    refused = ben.post(f"{page}/agenda", page, item1="  ")
    assert refused.status_code == 422
    assert _field_error(refused.text, "agenda", "item1") == "An agenda needs at least one item"
    assert 'id="agenda-item1" name="item1" value="  "' in refused.text
    assert node.records.get_meeting(mid).stage == MeetingStage.OPEN

    node.meetings.consent_agenda(
        ids["ben"], mid, ["Rota", AgendaItem("Pay rise", confidential=True)]
    )
    # An outcome without its text, beside that item's field.
    refused = ada.post(f"{page}/agenda/1/decided", page, outcome=" ", reference="x")
    assert refused.status_code == 422
    assert _field_error(refused.text, "item1", "outcome") == "Say what was decided"
    assert 'id="item1-reference" name="reference" value="x"' in refused.text
    # A confidential item taken while a guest is still there: about no field, at the top.
    refused = ada.post(f"{page}/agenda/2/decided", page, outcome="A rise")
    assert refused.status_code == 409
    assert '<p class="refusal" role="alert"' in refused.text
    assert "the facilitator asks the guests to leave" in refused.text
    assert [i.outcome for i in node.records.get_meeting(mid).agenda] == [None, None]
    # Minutes without their text.
    refused = ada.post(f"{page}/minutes", page, text="", confidential_text="Kept")
    assert refused.status_code == 422
    assert _field_error(refused.text, "minutes", "text") == "Minutes need their text"
    assert ">Kept</textarea>" in refused.text
    assert node.records.get_meeting(mid).minutes is None


def test_who_may_not_take_a_step_gets_no_form_and_a_403_page(
    kitchen_circle: Circle, clock: Clock
) -> None:
    c, ids, node = kitchen_circle, kitchen_circle.ids, kitchen_circle.node
    mid = _scheduled(c, clock)
    page = f"/meetings/{mid}"
    cleo, gus = Person(c, "cleo"), Person(c, "gus")

    # Cleo (full, not the secretary) may tell her own absence only; Gus (a guest) none.
    cleo_sees = cleo.client.get(page).text
    assert f'action="{page}/absences"' in cleo_sees
    assert 'name="person_id" value="' + ids["cleo"] + '"' in cleo_sees
    assert f'action="{page}/attendance"' not in cleo_sees
    assert f'action="{page}/absences"' not in gus.client.get(page).text
    for who, path, fields, sentence in (
        (cleo, "attendance", {"present": [ids["cleo"]]}, "Only the secretary can record"),
        (cleo, "absences", {"person_id": ids["ben"]}, "Only the secretary can record someone"),
        (gus, "absences", {"person_id": ids["gus"]}, "Only full participants can tell"),
    ):
        refused = who.post(f"{page}/{path}", page, **fields)
        assert refused.status_code == 403, path
        assert re.search(rf'<p class="refusal" role="alert"[^>]*>{sentence}', refused.text)
    assert node.records.get_meeting(mid).absences == []

    # The agenda's step and the minutes' consent are the facilitator's.
    node.meetings.record_attendance(ids["ada"], mid, [ids["ada"], ids["cleo"]])
    assert f'action="{page}/agenda"' in Person(c, "ben").client.get(page).text
    assert f'action="{page}/agenda"' not in cleo.client.get(page).text
    refused = cleo.post(f"{page}/agenda", page, item1="Mine")
    assert refused.status_code == 403
    assert "Only the facilitator can record the agenda" in refused.text
    node.meetings.consent_agenda(ids["ben"], mid, ["Rota"])
    assert "What was decided on item 1" not in cleo.client.get(page).text
    assert cleo.post(f"{page}/agenda/1/decided", page, outcome="x").status_code == 403
    assert cleo.post(f"{page}/minutes", page, text="x").status_code == 403
    node.meetings.record_minutes(ids["ada"], mid, "Minutes")
    assert "Record the consent to the minutes" not in cleo.client.get(page).text
    assert cleo.post(f"{page}/minutes/consent", page).status_code == 403
    assert node.records.get_meeting(mid).stage == MeetingStage.MINUTES_RECORDED


def test_a_guest_reads_no_confidential_item_on_a_meeting_s_page(
    kitchen_circle: Circle, clock: Clock
) -> None:
    c, ids, node = kitchen_circle, kitchen_circle.ids, kitchen_circle.node
    # Given: a meeting that took a confidential item after its guest left.
    mid = _scheduled(c, clock)
    node.meetings.record_attendance(ids["ada"], mid, [ids["ada"], ids["ben"], ids["gus"]])
    node.meetings.consent_agenda(
        ids["ben"], mid, ["Rota", AgendaItem("Pay rise for Dan", confidential=True)]
    )
    node.meetings.ask_guests_to_leave(ids["ben"], mid, 2)
    node.meetings.record_item_decided(ids["ada"], mid, 2, "A rise from April", "decision-7")
    node.meetings.record_minutes(ids["ada"], mid, "We agreed the rota", "Dan's pay rises")
    # When: Eli (learning) and Gus (the guest) open its page.
    eli = Person(c, "eli").client.get(f"/meetings/{mid}").text
    gus = Person(c, "gus").client.get(f"/meetings/{mid}").text
    # Then: Eli reads the item, its outcome and its minutes; Gus reads it withheld, that he
    # left for it, and the other minutes only.
    for text in ("Pay rise for Dan", "A rise from April", "decision-7", "Dan's pay rises"):
        assert text in eli, text
    assert "A confidential item (withheld)" in gus
    assert "Gus left for this item." in gus
    assert "We agreed the rota" in gus
    for text in ("Pay rise", "April", "decision-7", "pay rises"):
        assert text not in gus, text


def test_an_unknown_meeting_is_a_404_page(kitchen_circle: Circle) -> None:
    ada = Person(kitchen_circle, "ada")
    missing = ada.client.get("/meetings/00000000-0000-4000-8000-000000000000")
    assert missing.status_code == 404
    assert missing.headers["content-type"].startswith("text/html")


def test_minutes_waiting_on_the_home_page_lead_to_the_meeting_s_page(
    kitchen_circle: Circle, clock: Clock
) -> None:
    c, ids, node = kitchen_circle, kitchen_circle.ids, kitchen_circle.node
    # Given: a meeting whose minutes wait for the circle's consent, which Ben records.
    mid = _scheduled(c, clock)
    node.meetings.record_attendance(ids["ada"], mid, [ids["ada"], ids["ben"]])
    node.meetings.consent_agenda(ids["ben"], mid, ["Rota"])
    node.meetings.record_minutes(ids["ada"], mid, "We agreed the rota")
    # When: Ben opens his home page.
    home = Person(c, "ben").client.get("/home").text
    # Then: the minutes waiting link to the meeting's page, where he records the consent.
    assert f'<a href="/meetings/{mid}">March meeting</a>' in home
