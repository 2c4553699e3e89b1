"""Back-stops and what a co-op sees of its member circles, over HTTP: the kitchen's secretary
records a back-stop for a hat; the kitchen's records and minutes reach the co-op, where anyone
signed in (a guest too) reads them, paginated. Two nodes in one process.

Cast: in each circle, Ada (secretary), Ben (facilitator), Cleo (full), Eli (learning), Gus
(guest); the kitchen is part of the co-op.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from domain.values import Purpose
from node.demo.scripted import consent_to
from tests.conftest import Clock
from tests.node.api.world import Circle, assert_problem, member_pair
from tests.node.circles import sync


@pytest.fixture
def pair(tmp_path: Path, clock: Clock) -> Iterator[tuple[Circle, Circle]]:
    """The co-op and the kitchen circle, the kitchen part of the co-op."""
    nodes, coop, kitchen_circle = member_pair(tmp_path, clock)
    yield coop, kitchen_circle
    for node in nodes.values():
        node.close()


def _sync(*circles: Circle) -> None:
    sync({str(n): c.node for n, c in enumerate(circles)})


def test_the_secretary_records_and_clears_a_back_stop(pair: tuple[Circle, Circle]) -> None:
    _, k = pair
    cleo = k.ids["cleo"]
    # Only the secretary records it; the wearer is not their own back-stop.
    assert_problem(
        k.post("cleo", "/hats/facilitator/back-stop", {"person_id": cleo}),
        403,
        "not_permitted",
        "Only the secretary can record a hat's back-stop",
    )
    assert_problem(
        k.post("ada", "/hats/facilitator/back-stop", {"person_id": k.ids["ben"]}),
        422,
        "invalid_request",
        "This person wears the facilitator hat; its back-stop is someone else",
    )
    assert_problem(
        k.post("ada", "/hats/baker/back-stop", {"person_id": cleo}),
        404,
        "not_found",
        "The circle has no hat 'baker'",
    )
    # Ada records that Cleo steps in for the facilitator.
    hat = k.ok("ada", "/hats/facilitator/back-stop", {"person_id": cleo})
    assert hat["back_stop"] == {"person_id": cleo, "name": "Cleo"}
    circle = k.get("gus", "/circle").json()
    facilitator = next(h for h in circle["hats"] if h["hat_id"] == "facilitator")
    assert facilitator["back_stop"] == cleo
    lines = [line["text"] for line in k.get("eli", "/logbook?limit=100").json()["items"]]
    assert "Cleo is the facilitator's back-stop: they step in when its wearer cannot" in lines
    # Cleared, and a second clearing is refused.
    cleared = k.client.delete("/api/hats/facilitator/back-stop", headers=k.as_("ada"))
    assert cleared.status_code == 204
    assert k.get("gus", "/hats/facilitator").json()["back_stop"] is None
    assert_problem(
        k.client.delete("/api/hats/facilitator/back-stop", headers=k.as_("ada")),
        409,
        "wrong_stage",
        "The facilitator hat has no back-stop to clear",
    )


def test_the_coop_reads_its_member_circles_records_and_minutes(
    pair: tuple[Circle, Circle],
) -> None:
    coop, k = pair
    kitchen_id = k.node.feed.node_id
    # Given: the kitchen names a back-stop, adopts a policy, and holds a meeting.
    k.ok("ada", "/hats/facilitator/back-stop", {"person_id": k.ids["cleo"]})
    consent_to(k.node, Purpose.ADOPT_POLICY, {}, title="Compost the scraps", text="Weekly")
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

    # Then: a guest of the co-op lists its member circles.
    (member,) = coop.get("gus", "/linked-circles").json()["items"]
    assert (member["circle"], member["name"], member["link"]) == (kitchen_id, "Kitchen", "member")
    assert member["aim"] == "Feed the neighbourhood" and member["status"] == "active"
    assert member["minutes"] == 3
    facilitator = next(h for h in member["hats"] if h["hat"] == "facilitator")
    assert facilitator["wearers"][0]["name"] == "Ben"
    assert facilitator["back_stop_name"] == "Cleo"
    assert coop.get("eli", f"/linked-circles/{kitchen_id}").json() == member

    # Its decisions in force, with their text.
    decisions = coop.get("gus", f"/linked-circles/{kitchen_id}/decisions").json()
    assert [(d["title"], d["text"], d["kind"]) for d in decisions["items"]] == [
        ("Compost the scraps", "Weekly", "policy")
    ]
    due = coop.get("gus", f"/linked-circles/{kitchen_id}/decisions?reviews_due=true").json()
    assert due["items"] == [] and due["total"] == 0

    # Its minutes, the latest first, paginated.
    page = coop.get("gus", f"/linked-circles/{kitchen_id}/minutes?limit=2").json()
    assert page["total"] == 3 and [m["title"] for m in page["items"]] == ["Meeting 3", "Meeting 2"]
    assert page["items"][0]["items"] == [{"title": "The rota", "outcome": "Agreed"}]
    rest = coop.get("gus", f"/linked-circles/{kitchen_id}/minutes?offset=2&limit=2").json()
    assert [m["minutes"] for m in rest["items"]] == ["Minutes 1"]

    # The co-op's logbook names what arrived.
    lines = [line["text"] for line in coop.get("gus", "/logbook?limit=100").json()["items"]]
    assert "Kitchen sent its minutes of 'Meeting 1' (held 2026-06-01)" in lines


def test_a_circle_that_is_not_linked_has_no_records_here(pair: tuple[Circle, Circle]) -> None:
    coop, _ = pair
    assert_problem(
        coop.get("gus", "/linked-circles/cn1aaaa"),
        404,
        "not_found",
        "This circle does not know the circle cn1aaaa",
    )
    # Signing in is needed.
    assert coop.client.get("/api/linked-circles").status_code == 401
