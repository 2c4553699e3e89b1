"""`person.erased` at the co-op (PROTOCOL.md 11.4, "Erasure"): the kitchen erased someone's
personal data on their request, and the co-op erases what it holds of them, in the save of the
run that brings the message: bodies of the kitchen's that named them, and their name.

Cast (the `linked` fixture): the co-op and the kitchen, a circle that is part of it; Kim, who
cooks in the kitchen, is its delegate, then leaves and asks for her data to be erased.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from uuid import uuid4

import pytest
from eventsourcing.application import AggregateNotFoundError
from eventsourcing.persistence import OperationalError

from domain.register import Index
from federation.verify import decode_entry
from node.app.node import CircleNode
from node.network.messages import (
    CIRCLE_SUMMARY,
    LINK_DELEGATE,
    PERSON_ERASED,
    LinkPerson,
    PersonErased,
    encode_body,
)
from tests.conftest import NodeOpener
from tests.node.circles import founder, make_active, make_member, select, send, sync


def _kim_delegates_then_leaves(kitchen: CircleNode) -> str:
    kim = kitchen.people.apply_to_join("Kim Cook")
    kitchen.people.admit(founder(kitchen), kim)
    select(kitchen, "delegate", kim)
    kitchen.people.leave(kim, kim)
    return kim


def _bodies_of(node: CircleNode, *types: str) -> list[bytes]:
    entries = [decode_entry(signed) for signed in node.feed.own_entries(0, 1000)]
    return [e.body_hash for e in entries if e.type in types and e.body_hash]


def test_what_arrives_in_the_same_run_is_erased_in_its_save(
    linked: dict[str, CircleNode], tmp_path: Path
) -> None:
    coop, kitchen = linked["coop"], linked["kitchen"]
    # Given: the co-op has not yet taken the kitchen's link.delegate and summaries naming Kim
    # when the kitchen erases her data: one run brings them with the person.erased.
    kim = _kim_delegates_then_leaves(kitchen)
    assert kitchen.erasure.erase_person(founder(kitchen), kim) >= 2
    naming = _bodies_of(kitchen, LINK_DELEGATE, CIRCLE_SUMMARY)
    # When: the co-op takes the run (one push).
    push = kitchen.outbox.pending_push(coop.feed.feed_id)
    assert push is not None
    assert PERSON_ERASED in [decode_entry(signed).type for signed in push.entries]
    coop.intake.receive_push(push)
    # Then: her name and the bodies that named her are gone, from the store's file too.
    assert coop.relations.remote_name(kitchen.feed.node_id, kim) == "a former participant"
    held = coop.store.stored_data(naming)
    assert all(b"Kim Cook" not in body for body in held.values())
    assert coop.relations.relationship(kitchen.feed.node_id).refusals == []
    for path in (tmp_path / "coop").rglob("*"):
        if path.is_file():
            assert b"Kim Cook" not in path.read_bytes(), path


def test_the_erasure_is_stored_with_the_run_or_not_at_all(
    linked: dict[str, CircleNode], monkeypatch: pytest.MonkeyPatch
) -> None:
    coop, kitchen = linked["coop"], linked["kitchen"]
    kim = _kim_delegates_then_leaves(kitchen)
    sync(linked)
    assert coop.relations.remote_name(kitchen.feed.node_id, kim) == "Kim Cook"
    kitchen.erasure.erase_person(founder(kitchen), kim)
    # The store refuses to delete anything outside a save: the erasure takes none of that.
    for method in ("delete_bodies", "delete_events"):
        monkeypatch.setattr(coop.store.feeds, method, _store_fails)
    # When the run's save fails, nothing is erased and nothing taken ...
    save = coop.intake._save
    monkeypatch.setattr(coop.intake, "_save", _store_fails)
    with pytest.raises(OperationalError):
        coop.intake.receive_push(kitchen.outbox.pending_push(coop.feed.feed_id))  # type: ignore[arg-type]
    assert coop.relations.remote_name(kitchen.feed.node_id, kim) == "Kim Cook"
    # ... and when it is stored, the erasure is stored with it.
    monkeypatch.setattr(coop.intake, "_save", save)
    sync(linked)
    assert coop.relations.remote_name(kitchen.feed.node_id, kim) == "a former participant"
    naming = _bodies_of(kitchen, LINK_DELEGATE, CIRCLE_SUMMARY)
    assert all(b"Kim Cook" not in body for body in coop.store.stored_data(naming).values())


def _store_fails(*args: object, **kwargs: object) -> None:
    raise OperationalError("the store went away")


def test_only_bodies_that_name_the_person_are_erased(linked: dict[str, CircleNode]) -> None:
    coop, kitchen = linked["coop"], linked["kitchen"]
    # Given: the co-op holds the kitchen's link.delegate naming Kim and summaries naming her.
    kim = _kim_delegates_then_leaves(kitchen)
    sync(linked)
    profile = _bodies_of(kitchen, "circle.profile")
    naming = _bodies_of(kitchen, LINK_DELEGATE)
    # When: a person.erased for Kim lists a body that does not name her (the profile) too.
    body = PersonErased(coop.feed.node_id, kim, [*profile, *naming])
    send(kitchen, coop.feed.node_id, PERSON_ERASED, encode_body(body))
    sync(linked)
    # Then: the bodies naming her are erased, the profile is kept.
    assert set(coop.store.stored_data(profile)) == set(profile)
    assert coop.store.stored_data(naming) == {}


def test_a_refused_erasure_erases_nothing(
    linked: dict[str, CircleNode], make: Callable[[str], CircleNode]
) -> None:
    kitchen = linked["kitchen"]
    # Given: a garden circle, another member of the co-op, which the kitchen follows (the
    # co-op introduced it) but which is neither part of the kitchen nor its co-op.
    garden = make("garden")
    garden.circle.found_circle(name="garden", aim="Grow", domain="Beds", founder_name="Gil")
    make_active(garden)
    nodes = {**linked, "garden": garden}
    make_member(nodes, "coop", "garden")
    # And the kitchen holds a body of the garden's naming someone (a link.delegate the
    # kitchen refused: the garden is not part of it).
    to = kitchen.feed.node_id
    stray = encode_body(LinkPerson(to, "p1", "Pat"))
    send(garden, to, LINK_DELEGATE, stray)
    sync(nodes)
    (digest,) = _bodies_of(garden, LINK_DELEGATE)
    assert kitchen.store.stored_data([digest]) == {digest: stray}
    # When: the garden asks the kitchen to erase Pat's data.
    send(garden, to, PERSON_ERASED, encode_body(PersonErased(to, "p1", [digest])))
    sync(nodes)
    # Then: it is refused (the garden is not linked to the kitchen), and nothing is erased.
    refusals = kitchen.relations.relationship(garden.feed.node_id).refusals
    assert (
        "person.erased: Only a circle that is or was part of this one, or the co-op this one "
        "is part of, erases its people here" in refusals
    )
    assert kitchen.store.stored_data([digest]) == {digest: stray}


def test_a_save_erases_what_it_is_given_after_storing_the_rest(open_store: NodeOpener) -> None:
    """The store's side (memory, SQLite, PostgreSQL): bodies and an aggregate's events erased
    by a save are gone with it, even those the same save brings."""
    node = open_store()
    index = Index(kind="person")
    index.file(uuid4())
    kept, gone, brought = (node.store.body_row(body, []) for body in (b"kept", b"gone", b"new"))
    node.store.save(index, bodies=[kept, gone])
    again = Index(kind="support")  # made and erased in the same save
    again.file(uuid4())
    digests = [gone[0], brought[0]]
    node.store.save(
        again, bodies=[brought], erase_bodies=digests, erase_events=[index.id, again.id]
    )
    assert node.store.stored_data([kept[0], *digests]) == {kept[0]: b"kept"}
    for aggregate_id in (index.id, again.id):
        with pytest.raises(AggregateNotFoundError):
            node.store.repository.get(aggregate_id)
