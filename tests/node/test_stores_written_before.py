"""Stores written before the package move still open.

tests/fixtures/store-v1/ holds the store of one circle node as the code wrote it before the
modules of node/ moved into subpackages (its README says what is in it and how it was made):
a co-op's node, peered with a member circle's node, holding every kind of aggregate the node
stores and a snapshot of every kind the node snapshots, once on SQLite and once on PostgreSQL.

The event store names each stored event by its class's topic (module and class name:
`node.feeds:OwnFeed.Appended`), and each snapshot the aggregate it holds
(`domain.circle:Circle`). A class that moves gets a new topic; the old one must still resolve
to it (eventsourcing's `register_topic`), or every store written before no longer opens. Here
today's node opens the fixture, loads every aggregate and snapshot in it, reads its logbook
and appends to its feed.
"""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit
from uuid import UUID

import pytest
from eventsourcing.domain import Aggregate
from eventsourcing.utils import resolve_topic

from domain.circle import Circle
from domain.decision import Decision
from domain.errors import WrongStage
from domain.meeting import Meeting
from domain.person import PersonalDetails
from domain.proposal import Proposal
from domain.register import Index, Register
from domain.relationships import Relationship
from domain.selection import HatSelection
from domain.support import SupportRequest
from domain.values import Purpose, Stage
from federation.pages import verify_page
from federation.verify import Accepted, check_entry, decode_entry, verify_inception
from node.app.credentials import Credentials
from node.app.idempotency import CarriedOut
from node.app.logbook import read_logbook
from node.app.node import CircleNode
from node.app.peer_view import PeerView, RemotePerson
from node.app.persistence import open_node
from node.network.feeds import OwnFeed, PeerFeed
from node.network.messages import DECISION_RECORD
from node.network.peers import Delivery, Peer, PeerIndex
from node.settings import Settings
from tests.conftest import Clock, require_postgres

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "store-v1"

# The class of each aggregate in the store, by the topic the store names it by. The topics are
# the store's and never change; the classes are wherever they live now.
CLASSES: dict[str, type[Aggregate]] = {
    "domain.circle:Circle": Circle,
    "domain.proposal:Proposal": Proposal,
    "domain.selection:HatSelection": HatSelection,
    "domain.decision:Decision": Decision,
    "domain.meeting:Meeting": Meeting,
    "domain.person:PersonalDetails": PersonalDetails,
    "domain.register:Register": Register,
    "domain.register:Index": Index,
    "domain.relationships:Relationship": Relationship,
    "domain.support:SupportRequest": SupportRequest,
    "node.credentials:Credentials": Credentials,
    "node.requests:CarriedOut": CarriedOut,
    "node.feeds:OwnFeed": OwnFeed,
    "node.feeds:PeerFeed": PeerFeed,
    "node.peers:Peer": Peer,
    "node.peers:PeerIndex": PeerIndex,
    "node.peers:Delivery": Delivery,
    "node.peer_view:PeerView": PeerView,
    "node.peer_view:RemotePerson": RemotePerson,
}
# The node snapshots every kind but these (personal details and the names of other circles'
# people are erasable; a request carried out is one event).
NEVER_SNAPSHOTTED = {
    "domain.person:PersonalDetails",
    "node.peer_view:RemotePerson",
    "node.requests:CarriedOut",
}
PAGE = 500


def _stored(node: CircleNode) -> tuple[dict[UUID, str], set[str]]:
    """Every aggregate in the stored events table, with the topic its first event names its
    class by (`domain.circle:Circle.Founded`: `domain.circle:Circle`); and every event topic."""
    aggregates: dict[UUID, str] = {}
    topics: set[str] = set()
    start = 1
    while True:
        rows = node.store.recorder.select_notifications(start=start, limit=PAGE)
        for row in rows:
            topics.add(row.topic)
            if row.originator_version == 1:
                aggregates[UUID(str(row.originator_id))] = row.topic.rsplit(".", 1)[0]
        if len(rows) < PAGE:
            return aggregates, topics
        start = rows[-1].id + 1


def _unresolved(topics: set[str]) -> str:
    """The topics that no longer resolve, one a line, with why (empty if none)."""
    unresolved = []
    for topic in sorted(topics):
        try:
            resolve_topic(topic)
        except Exception as error:  # a TopicError, or the ImportError of a module gone
            unresolved.append(f"{topic}: {type(error).__name__}: {error}")
    return "\n".join(unresolved)


def _copy(source: Path, folder: Path, *names: str) -> Path:
    folder.mkdir(mode=0o700)
    for name in names:
        shutil.copyfile(source / name, folder / name)
        (folder / name).chmod(0o600)  # git keeps no modes; the node refuses keys others read
    return folder


def everything_in_the_store_opens(node: CircleNode, clock: Clock) -> None:
    # Given: the store as the code before the package move wrote it.
    aggregates, event_topics = _stored(node)
    assert set(aggregates.values()) == set(CLASSES), "the fixture holds every kind of aggregate"

    # Then: every topic its events name resolves, and every aggregate loads, as the class it
    # was stored as: from its latest snapshot, and replayed from every one of its events.
    unresolved = _unresolved(event_topics)
    assert not unresolved, f"stored topics that no longer resolve:\n{unresolved}"
    for aggregate_id, stored_as in aggregates.items():
        loaded: Aggregate = node.store.repository.get(aggregate_id)
        assert type(loaded) is CLASSES[stored_as], (aggregate_id, stored_as)
        events: list[Any] = list(node.store.events.get(aggregate_id))
        replayed: Any = None
        for event in events:
            replayed = event.mutate(replayed)
        assert type(replayed) is CLASSES[stored_as]
        assert replayed.version == loaded.version

    # And: the snapshots are there, one kind at least for each kind the node snapshots, and
    # each becomes the aggregate, at its version, of the class it names.
    assert node.store.snapshots is not None
    snapshotted: set[str] = set()
    for aggregate_id, stored_as in aggregates.items():
        snapshots: list[Any] = list(node.store.snapshots.get(aggregate_id))
        for snapshot in snapshots:
            assert snapshot.topic == stored_as
            unresolved = _unresolved({snapshot.topic})
            assert not unresolved, f"a snapshot's topic no longer resolves:\n{unresolved}"
            restored = snapshot.mutate(None)
            assert type(restored) is CLASSES[stored_as]
            assert restored.version == snapshot.originator_version
            snapshotted.add(stored_as)
    assert snapshotted == set(CLASSES) - NEVER_SNAPSHOTTED

    # And: the circle, its listings and its peer read as before.
    circle = node.records.get_circle()
    assert circle.name == "Calder Valley Care Circle"
    assert (
        len(node.records.list_proposals()) >= 100
        and node.records.list_decisions()
        and node.records.list_meetings()
    )
    assert (
        node.records.list_selections()
        and node.relations.relationships()
        and node.support.support_requests()
    )
    # Meetings stored before absences and confidential minutes read as having none.
    assert all(
        meeting.absences == [] and meeting.confidential_minutes is None
        for meeting in node.records.list_meetings()
    )
    (kitchen,) = node.peering.peers()
    assert kitchen.name == "Kitchen circle"
    assert node.peering.peer_feed(kitchen.feed_id).next_seq > 1

    # When: the logbook is read (as /api/logbook reads it).
    logbook = [entry.text for entry in read_logbook(node)]

    # Then: it tells the circle's story from its founding, people named where they are on
    # file, the records of the other circle, and the erasure.
    assert logbook[0].startswith(
        "Ada Okafor founded the circle 'Calder Valley Care Circle' with the aim:"
    )
    assert "This circle welcomed Kitchen circle as a member circle, by consent" in logbook
    assert "A former participant's personal data was erased on request" in logbook
    assert len(logbook) > 500

    # When: someone takes an everyday decision, which the node publishes on its feed.
    own = node.feed.own_feed()
    before = own.state
    rota = next(hat for hat, worn in circle.hats.items() if worn.name == "Rota holder")
    (holder,) = circle.wearers(rota)
    clock.advance(days=60)
    node.decisions.take_everyday_decision(holder, rota, "rota", "Rota after the move", "As before")

    # Then: the feed has one entry more, signed with the node's key, chained to the entries
    # written before; and the whole feed verifies from its inception.
    assert node.feed.own_feed().head == own.head + 1
    (signed,) = node.feed.own_entries(own.head, 10)
    assert decode_entry(signed).type == DECISION_RECORD
    verdict = check_entry(before, signed, node.intake.known_types, lambda seq: None)
    assert isinstance(verdict, Accepted)
    state = verify_inception(node.feed.inception(), node.feed.feed_id)
    entries = node.feed.own_entries(0, 2**31)
    for at in range(0, len(entries), 1000):
        state, _ = verify_page(
            state, entries[at : at + 1000], node.intake.known_types, lambda seq: None
        )
    assert state.next_seq == node.feed.own_feed().next_seq
    assert state.last_hash == node.feed.own_feed().last_hash


def test_a_sqlite_store_written_before_the_move_opens(tmp_path: Path, clock: Clock) -> None:
    """The SQLite store, its node keys beside it, copied and opened by today's node."""
    folder = _copy(FIXTURE / "sqlite", tmp_path / "node", "circle.sqlite", "node.keys")
    node = open_node(Settings(data_dir=folder), clock)
    try:
        everything_in_the_store_opens(node, clock)
    finally:
        node.close()


def _restorable(dump: str) -> str:
    """The dump as SQL: without psql's `\\restrict` and `\\unrestrict` lines, which pg_dump
    writes around it for psql (no other meta-command is expected)."""
    lines = []
    for line in dump.splitlines():
        if line.startswith(("\\restrict ", "\\unrestrict ")):
            continue
        assert not line.startswith("\\"), f"a psql meta-command in the dump: {line}"
        lines.append(line)
    return "\n".join(lines)


@dataclass(frozen=True)
class ConsentedAim:
    """A consented proposal to change a circle's aim, as the circle reads one."""

    circle_id: UUID
    subject: dict[str, Any]
    id: UUID = field(default_factory=uuid.uuid4)
    purpose: str = Purpose.CHANGE_AIM
    stage: str = Stage.CONSENTED


def test_a_circle_stored_before_its_aim_was_formed_together(tmp_path: Path, clock: Clock) -> None:
    """Circles stored before the aim was formed together (and before trials were counted)
    read the defaults: one still forming must form its aim before it starts; an active one
    goes on as it was."""
    folder = _copy(FIXTURE / "sqlite", tmp_path / "node", "circle.sqlite", "node.keys")
    node = open_node(Settings(data_dir=folder), clock)
    try:
        # Given: the fixture's circle, active, stored before any of this was recorded.
        circle = node.records.get_circle()

        # Then: it formed no aim together and names no link to the mission, and stays active;
        # no one's trial has a number of sessions agreed.
        assert (circle.status, circle.aim_formed, circle.mission_link) == ("active", False, None)
        assert all(
            (p.trial_sessions, p.sessions_held) == (None, 0) for p in circle.participants.values()
        )
        # And: its snapshot, written without them, restores with the same defaults.
        snapshot: Any = list(node.store.snapshots.get(circle.id))[-1]
        assert "aim_formed" not in snapshot.state and "mission_link" not in snapshot.state
        restored = snapshot.mutate(None)
        assert (restored.status, restored.aim_formed, restored.mission_link) == (
            "active",
            False,
            None,
        )

        # Given: the same circle as it was stored while it was forming (its events up to the
        # one that started its work), with its facilitator and secretary selected.
        events: list[Any] = list(node.store.events.get(circle.id))
        started = next(i for i, e in enumerate(events) if type(e).__name__ == "Activated")
        forming: Any = None
        for event in events[:started]:
            forming = event.mutate(forming)
        founder, today = events[0].founder_id, clock().date()
        assert (forming.status, forming.aim_formed) == ("forming", False)

        # Then: it cannot start until it has formed its aim together.
        with pytest.raises(WrongStage, match="Form the circle's aim together first"):
            forming.activate(founder, today)

        # When: it forms its aim by consent, it starts.
        forming.revise_aim(ConsentedAim(forming.id, {"aim": forming.aim}))
        forming.activate(founder, today)
        assert (forming.status, forming.aim_formed) == ("active", True)
    finally:
        node.close()


@pytest.fixture
def restored_postgres() -> Iterator[str]:
    """A database of its own, made from the fixture's pg_dump; dropped afterwards."""
    import psycopg
    from psycopg import sql

    base = require_postgres()
    name = f"circle_store_v1_{uuid.uuid4().hex[:12]}"
    url = urlunsplit(urlsplit(base)._replace(path=f"/{name}"))
    dump = _restorable((FIXTURE / "postgres" / "postgres.sql").read_text(encoding="utf-8"))
    with psycopg.connect(base, autocommit=True) as admin:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        with psycopg.connect(url, autocommit=True) as connection:
            connection.execute(dump.encode())
        yield url
    finally:
        with psycopg.connect(base, autocommit=True) as admin:
            admin.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )


@pytest.mark.postgres
def test_a_postgres_store_written_before_the_move_opens(
    restored_postgres: str, tmp_path: Path, clock: Clock
) -> None:
    """The same scenario's store on PostgreSQL, restored from its pg_dump into a database of
    its own, with its node keys, opened by today's node."""
    folder = _copy(FIXTURE / "postgres", tmp_path / "node", "node.keys")
    node = open_node(Settings(data_dir=folder, database_url=restored_postgres), clock)
    try:
        everything_in_the_store_opens(node, clock)
    finally:
        node.close()
