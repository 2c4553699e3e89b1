"""The pages show and take times in the circle's time zone, and name it beside each field (over
HTTP, no browser).

Cast: the kitchen circle of tests/node/api/world.py (Ada secretary, Ben facilitator), whose
rules name Pacific/Auckland (UTC+13 in March, NZDT). The clock starts at 2026-03-01 09:00 UTC.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from domain.values import Purpose
from node.app.node import CircleNode
from node.app.persistence import open_node
from node.demo.scripted import consent_to
from node.http.web.rendering import TEMPLATES
from node.settings import Settings
from tests.conftest import Clock
from tests.node.api.world import Circle, kitchen
from tests.web.test_sessions import Browserless


@pytest.fixture
def auckland(tmp_path: Path, clock: Clock) -> Iterator[Circle]:
    node: CircleNode = open_node(Settings(data_dir=tmp_path / "kitchen"), clock)
    circle = kitchen(node)
    consent_to(node, Purpose.CHANGE_RULES, {"time_zone": "Pacific/Auckland"})
    yield circle
    node.close()


def test_a_meeting_is_scheduled_and_shown_in_the_circle_s_time(auckland: Circle) -> None:
    c = auckland
    ben = Browserless(c.client.app)  # type: ignore[arg-type]
    assert ben.sign_in(c.tokens["ben"]).status_code == 303
    # Given: the meetings page names the circle's zone beside the field.
    form = ben.client.get("/meetings").text
    assert "(Pacific/Auckland time)" in form
    # When: Ben schedules a meeting for 18:30 on 10 March, as the field sends it.
    csrf = ben.csrf("/meetings")
    sent = ben.client.post(
        "/meetings",
        data={"csrf": csrf, "title": "March meeting", "when": "2026-03-10T18:30"},
        follow_redirects=False,
    )
    assert sent.status_code == 303, sent.text
    # Then: it is 18:30 in Auckland, 05:30 UTC, and the page shows it at 18:30, named.
    (meeting,) = c.node.records.list_meetings()
    assert meeting.when == datetime(2026, 3, 10, 5, 30, tzinfo=UTC)
    assert "2026-03-10 18:30 NZDT" in ben.client.get("/meetings").text


def test_a_deadline_is_entered_and_shown_in_the_circle_s_time(auckland: Circle) -> None:
    c = auckland
    ada = Browserless(c.client.app)  # type: ignore[arg-type]
    assert ada.sign_in(c.tokens["ada"]).status_code == 303
    # Given: the draft form names the circle's zone beside the deadline.
    assert "Pacific/Auckland time)" in ada.client.get("/proposals/new?purpose=adopt_policy").text
    # When: Ada drafts an asynchronous proposal due at noon on 5 March.
    drafted = ada.client.post(
        "/proposals",
        data={
            "csrf": ada.csrf("/proposals/new"),
            "title": "Tea rota",
            "text": "Two a week",
            "mode": "async",
            "deadline": "2026-03-05T12:00",
        },
        follow_redirects=False,
    )
    assert drafted.status_code == 303, drafted.text
    # Then: the deadline is noon in Auckland (23:00 UTC the day before), shown so on the
    # proposal's page and in the list.
    (proposal,) = [p for p in c.node.records.list_proposals() if p.title == "Tea rota"]
    assert proposal.deadline == datetime(2026, 3, 4, 23, 0, tzinfo=UTC)
    for page in (drafted.headers["location"], "/proposals"):
        assert "until 2026-03-05 12:00 NZDT" in ada.client.get(page).text


def test_any_moment_a_page_shows_is_in_the_page_s_zone() -> None:
    # Given: a moment in UTC, handed to a template as it is stored.
    moment = datetime(2026, 3, 4, 23, 0, tzinfo=UTC)
    shown = TEMPLATES.from_string("{{ moment | when }}")
    # When / Then: a page of a circle in Auckland shows it in Auckland's time, named...
    assert shown.render(moment=moment, time_zone="Pacific/Auckland") == "2026-03-05 12:00 NZDT"
    # ...and a page of a circle in UTC, in UTC.
    assert shown.render(moment=moment, time_zone="UTC") == "2026-03-04 23:00 UTC"
