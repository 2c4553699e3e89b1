"""Two or three nodes exchanging feeds in one process (no HTTP): storage, exactly-once,
bodies and audiences, equivocation, join requests, rotation and restarts."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest

from federation.feed import FeedState, append
from federation.pages import verify_page
from federation.verify import Equivocation, Reason, Rejected, decode_entry, verify_inception
from federation.wire import FeedPage, Push, encode
from node.app.node import KNOWN_TYPES, CircleNode
from node.app.persistence import open_node, rotate_node_key
from node.network.identity import KEYS_FILE, PENDING_FILE, stage_rotation
from node.network.own_feed import IdentityError
from node.settings import Settings
from node.store.keyfiles import KeyFileError
from tests.conftest import Clock

TYPES = KNOWN_TYPES


def connect(a: CircleNode, b: CircleNode) -> None:
    a.peering.add_peer(b.feed.descriptor("b", "http://b.invalid"), "http://b.invalid")
    b.peering.add_peer(a.feed.descriptor("a", "http://a.invalid"), "http://a.invalid")


def deliver(sender: CircleNode, receiver: CircleNode) -> int:
    """Push everything owed, as the outbox would; returns how many entries were new."""
    total = 0
    while (push := sender.outbox.pending_push(receiver.feed.feed_id)) is not None:
        reply = receiver.intake.receive_push(push)
        sender.outbox.acknowledge(receiver.feed.feed_id, reply.next_seq)
        total += reply.accepted
        if reply.accepted == 0:
            break
    return total


def publish(node: CircleNode, count: int) -> str:
    """Found a circle (if needed) and take `count` everyday decisions; returns the founder."""
    if not node.records.is_founded:
        founder = node.circle.found_circle(
            name="Kitchen", aim="Feed", domain="Food", founder_name="Ada"
        )
        hat = node.hats.define_hat(founder, "Cook", "Cooks", [], ["menu"])
        selection = node.hats.open_selection(founder, hat)
        node.hats.nominate(founder, selection, founder, "Me")
        node.hats.open_change_round(founder, selection)
        node.hats.propose_candidate(founder, selection, founder, "Me")
        node.consent.consent(founder, selection)
        node.consent.close_consent_round(founder, selection)
    founder = next(iter(node.records.get_circle().participants))
    for number in range(count):
        node.decisions.take_everyday_decision(founder, "cook", "menu", f"Menu {number}", "Soup")
    return founder


def test_a_change_and_its_entry_are_saved_together(make) -> None:  # type: ignore[no-untyped-def]
    node = make("a")
    publish(node, 2)
    # The circle's profile, and each decision, are entries of the feed.
    types = [decode_entry(s).type for s in node.feed.own_entries(0, 100)]
    assert types.count("circle.profile") == 1 and types.count("decision.record") == 2
    # A refused command appends nothing.
    head = node.feed.own_feed().head
    with pytest.raises(Exception, match="outside the domain"):
        node.decisions.take_everyday_decision(
            next(iter(node.records.get_circle().participants)), "cook", "budget", "Oven", "Buy one"
        )
    assert node.feed.own_feed().head == head


def test_entries_are_taken_once_with_their_effects(make) -> None:  # type: ignore[no-untyped-def]
    a, b = make("a"), make("b")
    connect(a, b)
    publish(a, 3)
    assert deliver(a, b) == a.feed.own_feed().head
    view = b.relations.peer_view(a.feed.feed_id)
    assert view is not None and {d["title"] for d in view.decisions.values()} == {
        "Menu 0",
        "Menu 1",
        "Menu 2",
    }
    version = view.version
    # Redelivered, and pulled again: nothing is stored twice, no effect applied twice.
    everything = Push(a.feed.feed_id, a.feed.own_entries(0, 100), [])
    reply = b.intake.receive_push(everything)
    assert reply.accepted == 0 and reply.next_seq == a.feed.own_feed().next_seq
    assert b.intake.receive_page(a.feed.page(0, 100, b.feed.feed_id)) == 0
    assert b.relations.peer_view(a.feed.feed_id).version == version  # type: ignore[union-attr]


def test_two_workers_taking_the_same_page_store_it_once(make, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    a, b = make("a"), make("b")
    connect(a, b)
    publish(a, 20)
    page = a.feed.page(0, 1000, b.feed.feed_id)
    other = open_node(Settings(data_dir=tmp_path / "b"))
    results: list[int] = []
    workers = [
        threading.Thread(target=lambda n=n: results.append(n.intake.receive_page(page)))
        for n in (b, other)
    ]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    other.close()
    assert sorted(results) == [0, len(page.entries)]
    assert b.peering.peer_feed(a.feed.feed_id).next_seq == a.feed.own_feed().next_seq


def test_a_gap_is_reported_and_filled_by_a_pull(make) -> None:  # type: ignore[no-untyped-def]
    a, b = make("a"), make("b")
    connect(a, b)
    publish(a, 4)
    entries = a.feed.own_entries(0, 100)
    reply = b.intake.receive_push(Push(a.feed.feed_id, entries[2:], []))
    assert reply.accepted == 0 and reply.reason == "gap" and reply.next_seq == 1
    assert b.intake.receive_page(a.feed.page(0, 100, b.feed.feed_id)) == len(entries)


def test_bodies_are_withheld_from_readers_outside_their_audience(make) -> None:  # type: ignore[no-untyped-def]
    a, b, c = make("a"), make("b"), make("c")
    connect(a, b)
    connect(a, c)
    own = a.feed.own_feed()
    signed = own.append(a.feed.keys, "network.join_request", b"for b only", 1, [b.feed.feed_id])
    a.save(
        own,
        entries=[(a.feed.feed_id, own.head, encode(signed))],
        bodies=[a.store.body_row(b"for b only", [b.feed.feed_id])],
    )
    digest = decode_entry(signed).body_hash
    assert a.feed.page(0, 10, b.feed.feed_id).bodies == [b"for b only"]
    assert a.feed.page(0, 10, c.feed.feed_id).bodies == []
    assert a.feed.page(0, 10, None).bodies == []
    assert a.feed.body_for(digest, b.feed.feed_id) == b"for b only"
    with pytest.raises(PermissionError):
        a.feed.body_for(digest, c.feed.feed_id)
    # C holds the entry without the body, and its copy of the feed still verifies.
    assert c.intake.receive_page(a.feed.page(0, 10, c.feed.feed_id)) == 1
    assert c.feed.body_for(digest, None) is None
    # Erased at the source, the body is gone; the feed still verifies for a newcomer.
    assert a.store.erase_bodies([digest]) == 1
    assert a.feed.body_for(digest, b.feed.feed_id) is None
    state, _ = verify_page(
        verify_inception(a.feed.inception()), a.feed.own_entries(0, 10), TYPES, lambda seq: None
    )
    assert state.next_seq == a.feed.own_feed().next_seq


def test_an_equivocating_peer_is_stopped_and_the_proof_kept(make) -> None:  # type: ignore[no-untyped-def]
    a, b = make("a"), make("b")
    connect(a, b)
    publish(a, 2)
    deliver(a, b)
    # A signs a second entry at its latest seq.
    head = a.feed.own_feed().head
    previous, published = a.feed.own_entries(head - 2, 2)
    state = FeedState(
        a.feed.feed_id, head, previous.hash, a.feed.keys.current_public, a.feed.keys.next_digest
    )
    fork, _ = append(state, a.feed.keys, "decision.record", b"\x80", 5)
    reply = b.intake.receive_push(Push(a.feed.feed_id, [fork], []))
    assert reply.reason == Reason.EQUIVOCATION and reply.accepted == 0
    peer = b.peering.peer(a.feed.feed_id)
    assert peer is not None and peer.stopped and peer.equivocation_seq == head
    assert peer.equivocation_held == encode(published)
    assert peer.equivocation_conflicting == encode(fork)
    # Nothing more is taken from that feed, pushed or pulled.
    publish(a, 1)
    with pytest.raises(Rejected) as refused:
        b.intake.receive_push(a.outbox.pending_push(b.feed.feed_id))  # type: ignore[arg-type]
    assert refused.value.reason == Reason.FEED_STOPPED
    with pytest.raises(Rejected):
        b.intake.receive_page(a.feed.page(0, 100, b.feed.feed_id))


def test_a_fork_in_a_pulled_page_is_caught_too(make) -> None:  # type: ignore[no-untyped-def]
    a, b = make("a"), make("b")
    connect(a, b)
    publish(a, 2)
    deliver(a, b)
    head = a.feed.own_feed().head
    previous, _ = a.feed.own_entries(head - 2, 2)
    state = FeedState(
        a.feed.feed_id, head, previous.hash, a.feed.keys.current_public, a.feed.keys.next_digest
    )
    fork, _ = append(state, a.feed.keys, "decision.record", b"\x80", 5)
    with pytest.raises(Equivocation):
        b.intake.receive_page(FeedPage(a.feed.feed_id, [fork], [], head))
    assert b.peering.peer(a.feed.feed_id).stopped  # type: ignore[union-attr]


def test_an_unknown_node_may_only_ask_to_join(make) -> None:  # type: ignore[no-untyped-def]
    a, stranger = make("a"), make("stranger")
    publish(stranger, 1)
    # Its feed without a join request is refused; nothing is stored.
    with pytest.raises(Rejected) as refused:
        a.intake.receive_push(
            Push(
                stranger.feed.feed_id,
                [stranger.feed.inception(), *stranger.feed.own_entries(0, 99)],
                [],
            )
        )
    assert refused.value.reason == Reason.UNKNOWN_NODE
    # A join request without the feed before it cannot be verified: refused.
    push = stranger.feed.ask_to_join(a.feed.feed_id, "http://stranger.invalid", "Stranger", "Hello")
    with pytest.raises(Rejected) as refused:
        a.intake.receive_push(Push(stranger.feed.feed_id, push.entries[-1:], push.bodies))
    assert refused.value.reason == Reason.UNKNOWN_NODE
    # One without its body, or one with the chain broken, is refused too.
    with pytest.raises(Rejected) as refused:
        a.intake.receive_push(Push(stranger.feed.feed_id, push.entries, []))
    assert refused.value.reason == Reason.MALFORMED
    with pytest.raises(Rejected):
        a.intake.receive_push(
            Push(stranger.feed.feed_id, [push.entries[0], *push.entries[2:]], push.bodies)
        )
    assert a.peering.peer(stranger.feed.feed_id) is None
    # The whole request is taken: the node is an applicant, known by its URL, nothing more.
    reply = a.intake.receive_push(push)
    assert reply.accepted == len(push.entries) - 1
    applicant = a.peering.peer(stranger.feed.feed_id)
    assert applicant is not None and applicant.status == "applicant"
    assert applicant.url == "http://stranger.invalid" and applicant.name == "Stranger"
    assert [p.feed_id for p in a.peering.peers()] == [stranger.feed.feed_id]
    # Until its circle is admitted, it pushes nothing more.
    publish(stranger, 1)
    reply = a.intake.receive_push(Push(stranger.feed.feed_id, stranger.feed.own_entries(0, 99), []))
    assert reply.accepted == 0 and reply.reason == Reason.UNKNOWN_NODE


def test_the_outbox_survives_a_restart(make, tmp_path: Path, clock: Clock) -> None:  # type: ignore[no-untyped-def]
    a, b = make("a"), make("b")
    connect(a, b)
    publish(a, 2)
    owed = a.outbox.pending_push(b.feed.feed_id)
    assert owed is not None and len(owed.entries) == a.feed.own_feed().head
    a.close()
    reopened = open_node(Settings(data_dir=tmp_path / "a"), clock)
    again = reopened.outbox.pending_push(b.feed.feed_id)
    assert again is not None and again.entries == owed.entries
    assert deliver(reopened, b) == len(owed.entries)
    assert reopened.outbox.pending_push(b.feed.feed_id) is None
    reopened.close()


def test_rotation_is_followed_and_a_crash_midway_is_finished(make, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    settings = Settings(data_dir=tmp_path / "a")
    a, b = make("a"), make("b")
    connect(a, b)
    publish(a, 1)
    old_key = a.feed.keys.current_public  # type: ignore[union-attr]
    rotate_node_key(a, settings)
    assert a.feed.own_feed().key != old_key and not (settings.data_dir / PENDING_FILE).exists()
    publish(a, 1)
    deliver(a, b)
    assert b.peering.peer_feed(a.feed.feed_id).key == a.feed.own_feed().key
    # A crash after the rotation entry was saved but before the new keys were moved in place:
    # the next start finishes the rotation.
    a.close()
    node = open_node(settings)
    staged = node.feed.keys.rotated()  # type: ignore[union-attr]
    stage_rotation(settings.data_dir, staged)
    own = node.feed.own_feed()
    signed, _ = own.rotate(node.feed.keys, 1)  # type: ignore[arg-type]
    node.save(own, entries=[(own.feed_id, own.head, encode(signed))])
    node.close()
    restarted = open_node(settings)
    assert restarted.feed.keys is not None
    assert restarted.feed.keys.current_public == restarted.feed.own_feed().key
    assert not (settings.data_dir / PENDING_FILE).exists()
    restarted.close()


def test_keys_that_do_not_match_the_feed_or_that_others_can_read_are_refused(
    tmp_path: Path,
) -> None:
    settings = Settings(data_dir=tmp_path / "a")
    open_node(settings).close()
    keyfile = settings.data_dir / KEYS_FILE
    assert os.stat(keyfile).st_mode & 0o777 == 0o600
    os.chmod(keyfile, 0o640)
    with pytest.raises(KeyFileError, match="chmod 600"):
        open_node(settings)
    keyfile.unlink()
    # Without its key file, the node refuses to start (and makes no new identity).
    with pytest.raises(IdentityError, match=r"node\.keys is missing"):
        open_node(settings)
    assert not keyfile.exists()
    # With another node's keys, it refuses too.
    other = Settings(data_dir=tmp_path / "other")
    open_node(other).close()
    (other.data_dir / KEYS_FILE).rename(keyfile)
    with pytest.raises(IdentityError, match="does not hold the key"):
        open_node(settings)


def test_a_change_peers_would_refuse_is_refused_and_nothing_stored(make) -> None:  # type: ignore[no-untyped-def]
    from domain.errors import InvalidRequest

    node = make("a")
    founder = publish(node, 0)
    head = node.feed.own_feed().head
    with pytest.raises(InvalidRequest, match="too large to share"):
        node.decisions.take_everyday_decision(founder, "cook", "menu", "Huge", "x" * 300_000)
    assert node.feed.own_feed().head == head and len(node.records.list_decisions()) == 0


def test_pages_and_pushes_stay_within_their_byte_limits(make) -> None:  # type: ignore[no-untyped-def]
    from federation.wire import MAX_PAGE_BYTES, MAX_PUSH_BYTES

    a, b = make("a"), make("b")
    connect(a, b)
    own = a.feed.own_feed()
    entries, bodies = [], []
    for number in range(40):
        body = number.to_bytes(4, "big") + b"x" * 250_000
        signed = own.append(a.feed.keys, "decision.record", body, 1)  # type: ignore[arg-type]
        entries.append((a.feed.feed_id, own.head, encode(signed)))
        bodies.append(a.store.body_row(body, []))
    a.save(own, entries=entries, bodies=bodies)
    page = a.feed.page(0, 1000, None)
    assert 0 < len(page.entries) < 40 and len(encode(page)) <= MAX_PAGE_BYTES
    push = a.outbox.pending_push(b.feed.feed_id)
    assert push is not None and len(encode(push)) <= MAX_PUSH_BYTES
    # Delivered batch by batch, all of it arrives.
    assert deliver(a, b) == 40


def test_a_descriptor_of_another_version_is_refused(make) -> None:  # type: ignore[no-untyped-def]
    from msgspec.structs import replace

    a, b = make("a"), make("b")
    with pytest.raises(Rejected) as refused:
        a.peering.add_peer(replace(b.feed.descriptor("b", "http://b"), version=2), "http://b")
    assert refused.value.reason == Reason.UNKNOWN_VERSION


def test_a_body_bound_by_a_public_entry_is_public(make) -> None:  # type: ignore[no-untyped-def]
    a, b, c = make("a"), make("b"), make("c")
    connect(a, b)
    own = a.feed.own_feed()
    rows, bodies = [], []
    for audience in ([b.feed.feed_id], []):
        signed = own.append(a.feed.keys, "decision.record", b"same words", 1, audience)  # type: ignore[arg-type]
        rows.append((a.feed.feed_id, own.head, encode(signed)))
        bodies.append(a.store.body_row(b"same words", audience))
    a.save(own, entries=rows, bodies=bodies)
    digest = decode_entry(decode_signed(rows[0][2])).body_hash
    assert a.feed.body_for(digest, c.feed.feed_id) == b"same words"
    # Bound twice for different readers: each may read it, nobody else.
    connect(a, c)
    own = a.feed.own_feed()
    rows, bodies = [], []
    for audience in ([b.feed.feed_id], [c.feed.feed_id]):
        signed = own.append(a.feed.keys, "decision.record", b"two readers", 1, audience)  # type: ignore[arg-type]
        rows.append((a.feed.feed_id, own.head, encode(signed)))
        bodies.append(a.store.body_row(b"two readers", audience))
    a.save(own, entries=rows, bodies=bodies)
    digest = decode_entry(decode_signed(rows[0][2])).body_hash
    assert (
        a.feed.body_for(digest, b.feed.feed_id)
        == a.feed.body_for(digest, c.feed.feed_id)
        == b"two readers"
    )
    with pytest.raises(PermissionError):
        a.feed.body_for(digest, None)
    assert b"two readers" in a.feed.page(0, 100, c.feed.feed_id).bodies


def decode_signed(raw: bytes):  # type: ignore[no-untyped-def]
    from federation.verify import decode_signed_entry

    return decode_signed_entry(raw)


def test_a_removed_peer_is_no_longer_heard(make) -> None:  # type: ignore[no-untyped-def]
    a, b = make("a"), make("b")
    connect(a, b)
    publish(a, 1)
    assert b.peering.remove_peer(a.feed.feed_id)
    with pytest.raises(Rejected) as refused:
        b.intake.receive_push(a.outbox.pending_push(b.feed.feed_id))  # type: ignore[arg-type]
    assert refused.value.reason == Reason.UNKNOWN_NODE
    # Nor are its pages taken, should anything still pull them.
    with pytest.raises(Rejected) as refused:
        b.intake.receive_page(a.feed.page(0, 100, b.feed.feed_id))
    assert refused.value.reason == Reason.UNKNOWN_NODE
    assert b.peering.peer_feed(a.feed.feed_id).next_seq == 1
    assert not b.peering.remove_peer(a.feed.feed_id)  # removing twice says it was not a peer


def test_erasure_on_request_spares_bodies_other_feeds_bind(make) -> None:  # type: ignore[no-untyped-def]
    from node.network.messages import LINK_DELEGATE, LinkPerson, encode_body

    a, b, c = make("a"), make("b"), make("c")
    connect(a, c)
    connect(b, c)
    # A and B each publish the same body naming their person "p1", and C takes both.
    shared = encode_body(LinkPerson(c.feed.node_id, "p1", "Pat"))
    for node in (a, b):
        own = node.feed.own_feed()
        signed = own.append(node.feed.keys, LINK_DELEGATE, shared, 1)
        node.save(
            own,
            entries=[(node.feed.feed_id, own.head, encode(signed))],
            bodies=[node.store.body_row(shared, [])],
        )
    deliver(a, c)
    digest = decode_entry(a.feed.own_entries(0, 10)[-1]).body_hash
    # Named by A's feed alone, the body would be erased when A erases p1 ...
    assert c.erasure.erase_remote_person(a.feed.node_id, "p1", [digest]).bodies == [digest]
    # ... but B's feed binds it too: C keeps it.
    deliver(b, c)
    assert c.erasure.erase_remote_person(a.feed.node_id, "p1", [digest]).bodies == []


def say(node: CircleNode, type_: str, body: bytes, audience: list[bytes]) -> None:
    """Append an entry of `type_` with `body` to the node's feed, as its writer would."""
    own = node.feed.own_feed()
    signed = own.append(node.feed.keys, type_, body, 1, audience)  # type: ignore[arg-type]
    node.save(
        own,
        entries=[(node.feed.feed_id, own.head, encode(signed))],
        bodies=[node.store.body_row(body, audience)],
    )


def test_an_own_entry_that_cannot_be_signed_refuses_the_message_not_the_push(  # type: ignore[no-untyped-def]
    make, monkeypatch: pytest.MonkeyPatch
) -> None:
    from domain.relationships import Relationship
    from federation.wire import MAX_BODY_BYTES
    from node.app import publishing
    from node.network import messages as m
    from node.network.batch import Outgoing

    a, b = make("a"), make("b")
    connect(a, b)
    b.circle.found_circle(name="Garden", aim="Grow", domain="Land", founder_name="Bo")
    # Given: A asks B to peer, then records a decision; and taking the request at B would make
    # B write an entry too large to sign (as a summary of a co-op's many circles could be).
    say(a, m.PEERING_REQUEST, encode(m.Addressed(to=b.feed.node_id)), [b.feed.feed_id])
    publish(a, 1)
    outgoing = publishing.outgoing

    def too_large(node, aggregates):  # type: ignore[no-untyped-def]
        entries = outgoing(node, aggregates)
        if any(isinstance(x, Relationship) and x.peering == "asked" for x in aggregates):
            entries.append(Outgoing(m.CIRCLE_SUMMARY, b"x" * (MAX_BODY_BYTES + 1), []))
        return entries

    monkeypatch.setattr(publishing, "outgoing", too_large)
    # When A's entries are pushed to B.
    push = a.outbox.pending_push(b.feed.feed_id)
    assert push is not None
    reply = b.intake.receive_push(push)
    # Then every entry is taken, the request refused with its reason, the decision taken.
    assert (reply.accepted, reply.reason) == (len(push.entries), "")
    relationship = b.relations.relationship(a.feed.node_id)
    assert relationship.peering == "none"
    assert relationship.refusals == [
        f"{m.PEERING_REQUEST}: This is too large to share with other circles: a body of "
        f"{MAX_BODY_BYTES + 1} bytes is more than {MAX_BODY_BYTES}"
    ]
    assert len(b.relations.peer_view(a.feed.feed_id).decisions) == 1  # type: ignore[union-attr]
    assert b.feed.own_feed().head == 1  # B's profile, and nothing of the refused summary


def test_a_fault_of_the_receiver_while_applying_refuses_the_message_not_the_push(  # type: ignore[no-untyped-def]
    make, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    from node.app import inbound
    from node.network import messages as m

    a, b = make("a"), make("b")
    connect(a, b)
    b.circle.found_circle(name="Garden", aim="Grow", domain="Land", founder_name="Bo")
    say(a, m.PEERING_REQUEST, encode(m.Addressed(to=b.feed.node_id)), [b.feed.feed_id])
    publish(a, 1)

    def broken(context, record):  # type: ignore[no-untyped-def]
        context.relationship().peering_requested()
        raise KeyError("a bug")

    monkeypatch.setitem(inbound.HANDLERS, m.PEERING_REQUEST, broken)
    push = a.outbox.pending_push(b.feed.feed_id)
    assert push is not None
    reply = b.intake.receive_push(push)
    assert (reply.accepted, reply.reason) == (len(push.entries), "")
    relationship = b.relations.relationship(a.feed.node_id)
    assert relationship.peering == "none"  # what the handler did before it failed is undone
    assert relationship.refusals == [
        f"{m.PEERING_REQUEST}: This node could not apply it (an error of its own)"
    ]
    assert "could not be applied" in caplog.text


def test_a_body_of_another_length_than_its_entry_says_is_never_taken(make) -> None:  # type: ignore[no-untyped-def]
    from dataclasses import replace as replaced

    from federation.feed import append
    from federation.wire import ENTRY_SIGNING_CONTEXT, Entry, SignedEntry, body_hash
    from node.network import messages as m

    a, b, c = make("a"), make("b"), make("c")
    connect(a, b)
    connect(a, c)
    # Given: A's writer (another implementation's) gives an entry a body_size one byte more
    # than its body has, then writes an ordinary entry.
    assert a.feed.keys is not None
    body = encode(m.CircleProfile("Kitchen", "Feed", "Food", "team", None, "active"))
    state = a.feed.own_feed().state
    lying = Entry(1, state.feed_id, state.next_seq, state.last_hash, 1, m.CIRCLE_PROFILE, [],
                  body_hash(body), len(body) + 1)  # fmt: skip
    encoded = encode(lying)
    first = SignedEntry(encoded, a.feed.keys.current.sign(ENTRY_SIGNING_CONTEXT + encoded))
    after_first = replaced(state, next_seq=state.next_seq + 1, last_hash=first.hash)
    second, _ = append(after_first, a.feed.keys, m.DECISION_RECORD, None, 2)
    # When B is pushed both with the body, and C pulls them in a page with the body.
    reply = b.intake.receive_push(Push(a.feed.feed_id, [first, second], [body]))
    taken = c.intake.receive_page(FeedPage(a.feed.feed_id, [first, second], [body], 2))
    # Then both take both entries, as a node not sent the body does, and neither the body.
    assert (reply.accepted, reply.reason) == (2, "")
    assert taken == 2
    for node in (b, c):
        assert node.peering.peer_feed(a.feed.feed_id).next_seq == 3
        assert node.store.stored_bodies([body_hash(body)]) == {}
        assert node.relations.peer_view(a.feed.feed_id) is None  # the profile had no effect
