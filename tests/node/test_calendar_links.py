"""Calendar links at rest and their refusals: a link's secret is stored only as its hash, each
person has one link at most, and a refused command stores nothing.

Cast: the kitchen circle of tests/node/api/world.py (Ada secretary, Ben facilitator, Cleo
full, Eli learning, Gus guest), on SQLite in the test's folder.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from domain.errors import NotFound, NotPermitted
from node.app.calendar_secrets import CALENDAR_SECRETS_ID
from node.app.credentials import token_hash
from node.app.persistence import open_node
from node.settings import Settings
from tests.conftest import Clock
from tests.node.api.world import kitchen
from tests.node.test_secrets import stored_bytes


def test_a_calendar_secret_is_stored_only_as_its_hash(tmp_path: Path, clock: Clock) -> None:
    # Given: a circle on SQLite.
    node = open_node(Settings(data_dir=tmp_path / "kitchen"), clock)
    try:
        c = kitchen(node)
        # When: Cleo makes a link, then replaces it; Ben makes one.
        first = node.calendars.make_link(c.ids["cleo"])
        second = node.calendars.make_link(c.ids["cleo"])
        ben = node.calendars.make_link(c.ids["ben"])
        # Then: each secret opens its person's calendar, except the one replaced.
        assert node.calendars.person_for_secret(first) is None
        assert node.calendars.person_for_secret(second) == c.ids["cleo"]
        assert node.calendars.person_for_secret(ben) == c.ids["ben"]
        links = node.store.kept.peek(CALENDAR_SECRETS_ID).links
        assert sorted(link["person"] for link in links.values()) == sorted(
            [c.ids["cleo"], c.ids["ben"]]
        )
    finally:
        node.close()
    # And: no file of the node holds a secret; the store holds their hashes.
    stored = stored_bytes(tmp_path / "kitchen")
    for secret in (first, second, ben):
        assert secret.encode() not in stored
        assert secret[4:].encode() not in stored
    assert token_hash(second).encode() in stored


def test_refused_calendar_commands_store_nothing(tmp_path: Path, clock: Clock) -> None:
    node = open_node(Settings(data_dir=tmp_path / "kitchen"), clock)
    try:
        c = kitchen(node)
        node.people.leave(c.ids["gus"], c.ids["gus"])
        before = node.store.recorder.max_notification_id()
        # When: someone who left asks for a link, and someone without one revokes theirs.
        with pytest.raises(NotPermitted, match="Someone who has left the circle gets no"):
            node.calendars.make_link(c.ids["gus"])
        with pytest.raises(NotFound, match="You have no calendar link to revoke"):
            node.calendars.revoke_link(c.ids["eli"])
        # Then: nothing was stored.
        assert node.store.recorder.max_notification_id() == before
        assert node.calendars.link_made(c.ids["eli"]) is None
    finally:
        node.close()
