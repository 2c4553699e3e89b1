"""The meetings page as a guest and a learning participant read it: a confidential item is
withheld from the guest, with the minutes of confidential items (over HTTP, no browser)."""

from __future__ import annotations

import re

from domain.records import AgendaItem
from tests.conftest import Clock
from tests.node.api.world import Circle
from tests.web.test_sessions import Browserless


def test_a_guest_reads_the_meetings_page_without_confidential_items(
    kitchen_circle: Circle, clock: Clock
) -> None:
    c, ids, node = kitchen_circle, kitchen_circle.ids, kitchen_circle.node
    # Given: a meeting that took a confidential item, its minutes kept apart.
    mid = node.meetings.schedule_meeting(ids["ben"], "March", clock())
    node.meetings.record_attendance(ids["ada"], mid, [ids["ada"], ids["ben"], ids["eli"]])
    node.meetings.consent_agenda(
        ids["ben"], mid, ["Rota", AgendaItem("Pay rise for Dan", confidential=True)]
    )
    node.meetings.record_item_decided(ids["ada"], mid, 2, "A rise from April")
    node.meetings.record_minutes(
        ids["ada"], mid, "We agreed the rota", confidential_text="Dan's pay rises"
    )

    # When: Eli (learning) and Gus (a guest) open the meetings page.
    pages = {}
    for who in ("eli", "gus"):
        visitor = Browserless(c.client.app)  # type: ignore[arg-type]
        assert visitor.sign_in(c.tokens[who]).status_code == 303
        pages[who] = visitor.client.get("/meetings").text

    # Then: Eli reads the confidential item, its outcome and minutes; Gus reads that a
    # confidential item was withheld, and the other minutes.
    for text in ("Pay rise for Dan", "A rise from April", "Dan's pay rises", "agreed the rota"):
        assert text in pages["eli"], text
    assert "A confidential item (withheld)" in pages["gus"]
    assert "We agreed the rota" in pages["gus"]
    for text in ("Pay rise", "April", "pay rises"):
        assert text not in pages["gus"], text


def test_the_meetings_page_refuses_a_meeting_in_the_past(kitchen_circle: Circle) -> None:
    c, node = kitchen_circle, kitchen_circle.node
    # Given: Ben, the facilitator, on the meetings page (the circle's clock reads 1 March).
    ben = Browserless(c.client.app)  # type: ignore[arg-type]
    assert ben.sign_in(c.tokens["ben"]).status_code == 303
    csrf = ben.csrf("/meetings")

    # When: he schedules a meeting dated in February.
    refused = ben.client.post(
        "/meetings", data={"csrf": csrf, "title": "Late", "when": "2026-02-20T18:00"}
    )

    # Then: the page says why, keeps what he typed, and nothing is planned.
    assert refused.status_code == 422
    assert "A meeting cannot be planned in the past" in refused.text
    assert 'value="Late"' in refused.text
    assert node.records.list_meetings() == []
    # The sentence stands beside the date field, which it describes and which takes the focus.
    assert (
        '<p class="field-error" id="schedule-when-error">'
        "A meeting cannot be planned in the past" in refused.text
    )
    field = re.search(r'<input type="datetime-local" id="schedule-when"[^>]*>', refused.text)
    assert field is not None
    for attribute in ('aria-invalid="true"', 'aria-describedby="schedule-when-error"', "autofocus"):
        assert attribute in field.group(0), attribute


def test_a_date_that_cannot_be_read_is_refused_beside_its_field(kitchen_circle: Circle) -> None:
    c, node = kitchen_circle, kitchen_circle.node
    ben = Browserless(c.client.app)  # type: ignore[arg-type]
    assert ben.sign_in(c.tokens["ben"]).status_code == 303

    refused = ben.client.post(
        "/meetings", data={"csrf": ben.csrf("/meetings"), "title": "Rota", "when": "soon"}
    )

    assert refused.status_code == 422
    assert 'id="schedule-when-error">The meeting&#39;s date and time is not a date' in refused.text
    assert 'aria-describedby="schedule-when-error"' in refused.text
    assert node.records.list_meetings() == []
