"""What linked circles sent, in the pages (over HTTP, no browser): the co-op reads its member
circle's records (aim, hats with their wearers and back-stops), its decisions in force (those
due for review apart) and its minutes, paginated; the kitchen reads its co-op's. Two nodes in
one process (tests/node/api/world.py, `member_pair`)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from domain.values import Purpose
from node.demo.scripted import consent_to
from tests.conftest import Clock
from tests.node.api.world import Circle, member_pair
from tests.node.circles import sync
from tests.web.test_appeal_pages import signed_in


@pytest.fixture
def pair(tmp_path: Path, clock: Clock) -> Iterator[tuple[Circle, Circle]]:
    """The co-op and the kitchen circle, the kitchen part of the co-op."""
    nodes, coop, kitchen = member_pair(tmp_path, clock)
    yield coop, kitchen
    for node in nodes.values():
        node.close()


def _sync(coop: Circle, kitchen: Circle) -> None:
    sync({"coop": coop.node, "kitchen": kitchen.node})


def test_the_co_op_reads_its_member_circles_records_decisions_and_minutes(
    pair: tuple[Circle, Circle],
) -> None:
    coop, k = pair
    kitchen_id = k.node.feed.node_id
    # Given: the kitchen names a back-stop, adopts a policy, and holds three meetings.
    k.node.hats.name_back_stop(k.ids["ada"], "facilitator", k.ids["cleo"])
    consent_to(k.node, Purpose.ADOPT_POLICY, {}, title="Compost the scraps", text="*Weekly*")
    ada, ben = k.ids["ada"], k.ids["ben"]
    for number in range(3):
        meeting = k.node.meetings.schedule_meeting(
            ben, f"Meeting {number + 1}", datetime(2026, 6, number + 1, tzinfo=UTC)
        )
        k.node.meetings.record_attendance(ada, meeting, [ada, ben])
        k.node.meetings.consent_agenda(ben, meeting, ["The rota"])
        k.node.meetings.record_item_decided(ada, meeting, 1, "Agreed")
        k.node.meetings.record_minutes(ada, meeting, f"Minutes {number + 1}")
        k.node.meetings.consent_minutes(ben, meeting)
    _sync(coop, k)

    # When: Gus, a guest of the co-op, goes from the network page to the linked circles.
    gus = signed_in(coop, "gus")
    assert '<a href="/linked-circles">' in gus.client.get("/network").text
    listed = gus.client.get("/linked-circles").text
    # Then: the kitchen is listed as a member circle, with its aim and its minutes' count.
    row = re.search(rf'<tr id="linked-{kitchen_id}">.*?</tr>', listed, re.S)
    assert row is not None
    assert f'<a href="/linked-circles/{kitchen_id}">Kitchen</a>' in row.group(0)
    assert "a member circle of this one" in row.group(0)
    assert "Feed the neighbourhood" in row.group(0) and ">3</td>" in row.group(0)

    # Its page: aim, hats with wearers and the back-stop.
    page = gus.client.get(f"/linked-circles/{kitchen_id}").text
    facilitator = re.search(r"<td data-label=\"Hat\">Facilitator</td>.*?</tr>", page, re.S)
    assert facilitator is not None
    assert "Ben" in facilitator.group(0) and ">Cleo</td>" in facilitator.group(0)

    # Its decisions in force, its text as Markdown; none due for review.
    decisions = gus.client.get(f"/linked-circles/{kitchen_id}/decisions").text
    assert "<strong>Compost the scraps</strong>" in decisions and "<em>Weekly</em>" in decisions
    due = gus.client.get(f"/linked-circles/{kitchen_id}/decisions?reviews_due=true").text
    assert "Compost the scraps" not in due and "None due for review." in due

    # Its minutes, the latest first, two at a time, with a link to the older ones.
    minutes = f"/linked-circles/{kitchen_id}/minutes"
    first = gus.client.get(f"{minutes}?limit=2").text
    assert re.findall(r"<h2>(Meeting \d)</h2>", first) == ["Meeting 3", "Meeting 2"]
    assert "1 to 2 of 3" in first
    older = f"{minutes}?offset=2&amp;limit=2"
    assert f'<a href="{older}">Older</a>' in first
    rest = gus.client.get(older.replace("&amp;", "&")).text
    assert re.findall(r"<h2>(Meeting \d)</h2>", rest) == ["Meeting 1"]
    assert "The rota: " in rest and "Minutes 1" in rest
    assert f'<a href="{minutes}?offset=0&amp;limit=2">Newer</a>' in rest
    assert "Older</a>" not in rest


def test_the_member_circle_reads_its_co_op_and_an_unknown_circle_is_not_found(
    pair: tuple[Circle, Circle],
) -> None:
    coop, k = pair
    coop_id = coop.node.feed.node_id
    _sync(coop, k)
    eli = signed_in(k, "eli")
    listed = eli.client.get("/linked-circles").text
    assert f'<a href="/linked-circles/{coop_id}">Equal Care Co-op</a>' in listed
    assert "the co-op this circle is part of" in listed
    # A circle this one does not know: a 404 page with the domain's sentence.
    missing = eli.client.get("/linked-circles/cn1aaaa")
    assert missing.status_code == 404
    assert "This circle does not know the circle cn1aaaa" in missing.text
    assert eli.client.get("/linked-circles/cn1aaaa/minutes").status_code == 404
    # A window the API would refuse is refused here too.
    assert eli.client.get(f"/linked-circles/{coop_id}/minutes?limit=0").status_code in (400, 422)
    # Signing in is needed.
    anonymous = coop.client.get("/linked-circles", follow_redirects=False)
    assert anonymous.status_code == 303
    assert anonymous.headers["location"] == "/sign-in?next=/linked-circles"
