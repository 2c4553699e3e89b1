"""Confidential agenda items never leave the node, and the circle's own archive holds them,
marked confidential.

The cast: the kitchen circle, a member circle of the co-op (so that it sends the co-op its
public decisions and its summary), its founder facilitating and keeping the logbook, and Gus,
a guest.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import msgspec

from domain.records import AgendaItem
from domain.values import Purpose
from federation.verify import decode_entry, decode_signed_entry
from federation.wire import MAX_PAGE_ENTRIES
from node.app.archive import export_archive, verify_archive
from node.app.node import KNOWN_TYPES, CircleNode
from tests.node.circles import consent_to, founder, sync

# What only the kitchen's full and learning participants read.
TITLE = "Kestrel pay review"
OUTCOME = "Kestrel rise agreed"
MINUTES = "Kestrel minutes: the rise starts in April"
SECRETS = (TITLE, OUTCOME, MINUTES)


def hold_a_meeting_with_a_confidential_item(node: CircleNode) -> str:
    """A meeting of the founder and Gus (a guest) that takes an open item and a confidential
    one, the guests leaving for it, and closes with its minutes consented."""
    ada = founder(node)
    gus = node.people.apply_to_join("Gus", "guest")
    node.people.admit(ada, gus, "guest")
    mid = node.meetings.schedule_meeting(ada, "March circle meeting", node.records.now())
    node.meetings.record_attendance(ada, mid, [ada, gus])
    node.meetings.consent_agenda(ada, mid, ["Rota", AgendaItem(TITLE, confidential=True)])
    node.meetings.ask_guests_to_leave(ada, mid, 2)
    node.meetings.record_item_decided(ada, mid, 1, "Weekly rota")
    node.meetings.record_item_decided(ada, mid, 2, OUTCOME)
    node.meetings.record_minutes(ada, mid, "We agreed a weekly rota", confidential_text=MINUTES)
    node.meetings.consent_minutes(ada, mid)
    return mid


def feed_bodies(node: CircleNode) -> list[Any]:
    """Every body of the node's own feed that it holds, decoded."""
    raw = node.store.feeds.select_entries(node.feed.feed_id, -1, MAX_PAGE_ENTRIES)
    digests = [d for d in (decode_entry(decode_signed_entry(e)).body_hash for e in raw) if d]
    stored = node.store.stored_bodies(digests)
    return [msgspec.msgpack.decode(stored[d][0]) for d in digests if d in stored]


def test_no_feed_entry_carries_a_confidential_item(linked: dict[str, CircleNode]) -> None:
    # Given: the kitchen, a member circle of the co-op, holds a meeting with a confidential
    # item, and consents to a policy (which it publishes, and which changes its summary).
    kitchen = linked["kitchen"]
    before = kitchen.feed.own_feed().head
    hold_a_meeting_with_a_confidential_item(kitchen)
    consent_to(kitchen, Purpose.ADOPT_POLICY, {}, title="Compost the kitchen scraps")

    # When: everything is moved to the co-op.
    sync(linked)

    # Then: the kitchen told the co-op of its policy and summary...
    assert kitchen.feed.own_feed().head > before
    bodies = [str(body) for body in feed_bodies(kitchen)]
    assert any("Compost the kitchen scraps" in body for body in bodies)

    # ...and no entry of its feed carries the confidential item's title, outcome or minutes.
    for secret in SECRETS:
        assert not any(secret in body for body in bodies), secret

    # And: nothing the co-op holds from the kitchen's feed does either.
    coop = linked["coop"]
    raw = coop.store.feeds.select_entries(kitchen.feed.feed_id, -1, MAX_PAGE_ENTRIES)
    digests = [d for d in (decode_entry(decode_signed_entry(e)).body_hash for e in raw) if d]
    held = [
        str(msgspec.msgpack.decode(data)) for data, _ in coop.store.stored_bodies(digests).values()
    ]
    assert held and not any(secret in body for body in held for secret in SECRETS)


def test_the_archive_holds_confidential_items_marked_so(
    linked: dict[str, CircleNode], tmp_path: Path
) -> None:
    # Given: the kitchen held a meeting with a confidential item.
    kitchen = linked["kitchen"]
    mid = hold_a_meeting_with_a_confidential_item(kitchen)

    # When: its operator exports the circle's archive.
    archive = tmp_path / "kitchen.archive"
    export_archive(kitchen, archive)

    # Then: it verifies offline, and holds the meeting whole, its confidential parts marked.
    assert verify_archive(archive, KNOWN_TYPES).logbook_lines > 0
    members = msgspec.msgpack.decode(archive.read_bytes()[:-32], type=dict[str, bytes])
    (meeting,) = [m for m in msgspec.json.decode(members["meetings.json"]) if m["id"] == mid]
    assert [(i["number"], i["title"], i["confidential"]) for i in meeting["agenda"]] == [
        (1, "Rota", False),
        (2, TITLE, True),
    ]
    assert meeting["agenda"][1]["outcome"] == OUTCOME
    assert len(meeting["agenda"][1]["guests_left"]) == 1
    assert (meeting["minutes"], meeting["confidential_minutes"]) == (
        "We agreed a weekly rota",
        MINUTES,
    )

    # And: the logbook's lines about the confidential item are marked confidential, the
    # others are not.
    logbook = msgspec.json.decode(members["logbook.json"])
    marked = {line["text"] for line in logbook if line.get("confidential")}
    assert marked == {
        f"Confidential item(s) of 'March circle meeting': {TITLE}",
        f"'March circle meeting', item 2 (confidential): {OUTCOME}",
        "Minutes of the confidential items of 'March circle meeting' recorded",
    }
    agenda = "Agenda of 'March circle meeting' consented: Rota; a confidential item"
    assert agenda in {line["text"] for line in logbook}
