"""A batch of changes taken with a run of a peer's entries rolls back what a refused message
changed (PROTOCOL.md 11.2, step 7): the refusal is recorded, nothing else of the message is."""

from __future__ import annotations

from pathlib import Path
from uuid import uuid4

from domain.register import Index, index_id
from domain.values import Purpose
from node.app.node import CircleNode
from node.app.persistence import open_node
from node.demo.scripted import consent_to, founder, make_active, select
from node.network.batch import Batch
from node.settings import Settings
from tests.conftest import Clock
from tests.node.circles import sync


def test_a_rollback_undoes_what_was_done_since_the_checkpoint_and_nothing_before() -> None:
    node = CircleNode(env={"PERSISTENCE_MODULE": "node.store.memory_store"})
    node.circle.found_circle(name="Kitchen", aim="Feed", domain="Food", founder_name="Ada")
    ada = founder(node)
    batch = Batch(node.store.repository)
    circle = batch.get(node.records.circle_id, node.records.get_circle)
    before = circle.define_hat(ada, "Cook", "Cooks", [], ["menu"], 12, "operational")
    batch.entries.append((b"f" * 32, 1, b"entry"))
    mark = batch.checkpoint()

    # A message changes the circle, files a record in a new index, adds an entry row and
    # erases a body and a record in the save; then it is refused.
    circle.define_hat(ada, "Gardener", "Grows", [], ["garden"], 12, "operational")
    batch.get(index_id("support"), lambda: Index(kind="support")).file(uuid4())
    batch.entries.append((b"f" * 32, 2, b"another"))
    erased = uuid4()
    batch.get(erased, lambda: Index(kind="person"))
    batch.erase([b"h" * 32], [erased])
    assert erased not in {a.id for a in batch.aggregates()}
    assert batch.save_kwargs() == {"erase_bodies": [b"h" * 32], "erase_events": [erased]}
    batch.rollback(mark)

    again = batch.get(node.records.circle_id, node.records.get_circle)
    assert set(again.hats) == set(node.records.get_circle().hats) | {before}
    assert [type(e).__name__ for e in again.pending_events] == ["HatDefined"]
    assert index_id("support") not in batch
    assert batch.entries == [(b"f" * 32, 1, b"entry")]
    assert batch.save_kwargs() == {"erase_bodies": [], "erase_events": []}
    # What was done before the checkpoint is saved as it was.
    node.save(*batch.aggregates())
    assert before in node.records.get_circle().hats and len(node.records.get_circle().hats) == len(
        again.hats
    )


def test_an_aggregate_made_in_the_batch_is_rebuilt_from_its_own_events() -> None:
    node = CircleNode(env={"PERSISTENCE_MODULE": "node.store.memory_store"})
    batch = Batch(node.store.repository)
    index = batch.get(index_id("person"), lambda: Index(kind="person"))
    first = uuid4()
    index.file(first)
    mark = batch.checkpoint()
    index.file(uuid4())
    batch.rollback(mark)
    rebuilt = batch.get(index_id("person"), lambda: Index(kind="person"))
    assert rebuilt.ids() == [first] and len(rebuilt.pending_events) == 2
    node.save(rebuilt)
    assert node.store.repository.get(index_id("person")).ids() == [first]


def test_a_delegate_named_to_a_dissolved_co_op_leaves_no_trace_but_the_refusal(
    tmp_path: Path, clock: Clock
) -> None:
    """PROTOCOL.md 11.2, step 7: the co-op's circle is dissolved when its member names a delegate.
    Taking the message records the delegate on the relationship, then seating them fails: the
    refusal is recorded, and the relationship does not hold the delegate."""
    nodes = {}
    for key in ("coop", "kitchen"):
        node = open_node(Settings(data_dir=tmp_path / key), clock)
        node.circle.found_circle(name=key, aim="Care", domain="Care", founder_name=f"{key} founder")
        make_active(node)
        nodes[key] = node
    coop, kitchen = nodes["coop"], nodes["kitchen"]
    try:
        push = kitchen.relations.ask_to_join_network(
            coop.feed.descriptor("coop", "http://coop"), "http://coop", "http://kitchen", "Hello"
        )
        coop.intake.receive_push(push)
        consent_to(coop, Purpose.ADMIT_TO_NETWORK, {"circle": kitchen.feed.node_id})
        sync(nodes)
        consent_to(kitchen, Purpose.APPLY_TO_COOP, {"circle": coop.feed.node_id})
        sync(nodes)
        consent_to(coop, Purpose.ADMIT_MEMBER, {"circle": kitchen.feed.node_id})
        sync(nodes)
        consent_to(coop, Purpose.DISSOLVE, {})
        assert coop.records.get_circle().status == "dissolved"
        cook = kitchen.people.apply_to_join("Kim Cook")
        kitchen.people.admit(founder(kitchen), cook)
        select(kitchen, "delegate", cook)
        sync(nodes)
        rel = coop.relations.relationship(kitchen.feed.node_id)
        assert any(r.startswith("link.delegate: This circle is dissolved") for r in rel.refusals)
        assert rel.delegate is None
        assert f"{kitchen.feed.node_id}/delegate" not in coop.records.get_circle().participants
    finally:
        for node in nodes.values():
            node.close()
