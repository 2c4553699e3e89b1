"""Hypothesis against the node's own decoders and its intake of other nodes' feeds.

- `node.network.messages.decode_body`, for every body type: random bytes, mutated encodings and
  generated records give a record of the type or None, never an exception.
- `receive_push` and `receive_page`: random, mutated, reordered, replayed and foreign pushes and
  pages never raise anything but `Rejected`, and the receiver never holds an entry (or a body)
  that does not verify: what it holds of the peer's feed is always a prefix of what the peer
  signed, and verifies from its inception.
- A hostile peer signing well-formed entries with arbitrary bodies of every type: every entry
  is taken (the signatures verify) and the circle's effects never raise.
- The same pushes over HTTP (`POST /federation/inbox`): never a 5xx.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import msgspec
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from domain.values import SupportKind
from federation.feed import node_id
from federation.keys import NodeKeys
from federation.pages import verify_page
from federation.verify import Rejected, decode_signed_entry, verify_inception
from federation.wire import (
    PROTOCOL_VERSION,
    FeedPage,
    NodeDescriptor,
    Push,
    SignedEntry,
    body_hash,
    encode,
)
from node.app.node import KNOWN_TYPES, CircleNode
from node.http.server import ServerOptions, create_app
from node.network import messages as m
from tests.federation.feeds import Feed
from tests.federation.test_decoders_fuzz import mutate

MEMORY = {"PERSISTENCE_MODULE": "node.store.memory_store"}
SCALE = int(os.environ.get("CIRCLE_NODE_FUZZ_SCALE", "1"))  # `make fuzz` runs many more
MOMENT = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)


def fuzz(examples: int) -> settings:
    return settings(
        max_examples=examples * SCALE,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )


def receiver() -> CircleNode:
    """A founded circle's node in memory, with a fixed clock (so its node id never changes)."""
    keys = NodeKeys.from_seeds(bytes([41]) * 32, bytes([141]) * 32)
    node = CircleNode(env=MEMORY, clock=lambda: MOMENT, keys=keys)
    node.circle.found_circle(name="Kitchen", aim="Feed", domain="Food", founder_name="Ada")
    return node


RECEIVER_FEED = receiver().feed.feed_id
RECEIVER_ID = node_id(RECEIVER_FEED)


def _record(cls: type[msgspec.Struct], **values: Any) -> bytes:
    return m.encode_body(cls(**values))


def authored_feed() -> tuple[Feed, dict[bytes, bytes]]:
    """The peer's feed: a message of each kind (some to the receiver alone), a rotation in the
    middle, and an entry whose body is withheld; with the bodies, by hash."""
    feed = Feed.start(seed=7)
    bodies: dict[bytes, bytes] = {}
    to = [RECEIVER_FEED]

    def add(entry_type: str, body: bytes, audience: list[bytes] | None = None) -> None:
        feed.add(entry_type, body, audience=audience or [])
        bodies[body_hash(body)] = body

    add(
        m.CIRCLE_PROFILE,
        _record(
            m.CircleProfile,
            name="Garden",
            aim="Grow",
            domain="Land",
            kind="general",
            parent=None,
            status="active",
        ),
    )
    add(m.PEERING_REQUEST, _record(m.Addressed, to=RECEIVER_ID), to)
    add(
        m.LINK_DELEGATE,
        _record(m.LinkPerson, to=RECEIVER_ID, person="p1", name="Bo Gardener"),
        to,
    )
    feed.rotate()
    add(
        m.CONSENT_REQUEST,
        _record(m.ConsentRequest, to=RECEIVER_ID, proposal="x", round=1, title="T", text="X"),
        to,
    )
    add(
        m.SUPPORT_REQUEST,
        _record(m.SupportRequestMessage, request="r1", kind="people", text="Help", to=["network"]),
    )
    feed.add(m.PEERING_ACCEPT, _record(m.Addressed, to="cn1someone-else"), audience=[bytes(32)])
    add(m.PERSON_ERASED, _record(m.PersonErased, to=RECEIVER_ID, person="p1", bodies=[]), to)
    return feed, bodies


PEER, PEER_BODIES = authored_feed()
AUTHENTIC = PEER.entries
OTHER = Feed.start(seed=9)  # another node, whose entries the peer may try to pass off
for _ in range(len(AUTHENTIC)):
    OTHER.add(m.PEERING_END, b"x")


def with_peer(held: int = 0) -> CircleNode:
    """A fresh receiver that knows the peer and already holds its first `held` entries."""
    node = receiver()
    descriptor = NodeDescriptor(
        PROTOCOL_VERSION, PEER.state.feed_id, PEER.inception, 0, "Garden", "http://g.invalid"
    )
    node.peering.add_peer(descriptor, "http://g.invalid")
    if held:
        reply = node.intake.receive_push(
            Push(PEER.state.feed_id, AUTHENTIC[:held], list(PEER_BODIES.values()))
        )
        assert reply.next_seq == held + 1, reply
    return node


def assert_holds_only_what_verifies(node: CircleNode) -> int:
    """What the node holds of the peer's feed is a prefix of what the peer signed, verifies
    from its inception, and every body held for it is the one its entry binds."""
    feed_id = PEER.state.feed_id
    held_seq = node.peering.peer_feed(feed_id).next_seq
    raw = node.store.feeds.select_entries(feed_id, -1, 10_000)
    assert len(raw) == held_seq
    held = [decode_signed_entry(item) for item in raw]
    assert held == [PEER.inception, *AUTHENTIC[: held_seq - 1]]
    state, entries = verify_page(verify_inception(held[0]), held[1:], KNOWN_TYPES, lambda seq: None)
    assert state.next_seq == held_seq
    digests = [entry.body_hash for entry in entries if entry.body_hash]
    for digest, (body, _) in node.store.stored_bodies(digests).items():
        assert body_hash(body) == digest
    return held_seq


@st.composite
def hostile_runs(draw: Callable[..., Any]) -> tuple[list[SignedEntry], list[bytes]]:
    """A run of the peer's entries, spoiled: mutated, swapped, repeated, dropped, replaced by
    another node's or random ones; with bodies that are the right ones, mutated, or random."""
    start = draw(st.integers(0, len(AUTHENTIC)))
    run = list(AUTHENTIC[start : start + draw(st.integers(0, len(AUTHENTIC)))])
    for _ in range(draw(st.integers(0, 3))):
        kind = draw(st.sampled_from(["mutate", "swap", "repeat", "drop", "foreign", "random"]))
        at = draw(st.integers(0, max(len(run) - 1, 0)))
        if kind == "foreign":
            run.insert(at, draw(st.sampled_from(OTHER.entries)))
        elif kind == "random":
            run.insert(
                at,
                SignedEntry(
                    draw(st.binary(max_size=300)), draw(st.binary(min_size=64, max_size=64))
                ),
            )
        elif not run:
            continue
        elif kind == "mutate":
            original = run[at]
            if draw(st.booleans()):
                run[at] = SignedEntry(mutate(original.entry, draw), original.signature)
            else:
                signature = mutate(original.signature, draw)[:64].ljust(64, b"\x00")
                run[at] = SignedEntry(original.entry, signature)
        elif kind == "swap":
            other = draw(st.integers(0, len(run) - 1))
            run[at], run[other] = run[other], run[at]
        elif kind == "repeat":
            run.insert(at, run[draw(st.integers(0, len(run) - 1))])
        else:
            del run[at]
    bodies = [
        draw(st.sampled_from([body, mutate(body, draw)]))
        for body in PEER_BODIES.values()
        if draw(st.booleans())
    ]
    bodies += draw(st.lists(st.binary(max_size=200), max_size=2))
    return run, bodies


FEEDS = st.sampled_from(["peer"] * 6 + ["own", "other", "random"])


def feed_of(choice: str, node: CircleNode, draw: Callable[..., Any]) -> bytes:
    return {
        "peer": PEER.state.feed_id,
        "own": node.feed.feed_id,
        "other": OTHER.state.feed_id,
        "random": draw(st.binary(min_size=32, max_size=32)),
    }[choice]


@fuzz(300)
@given(data=st.data(), held=st.integers(0, len(AUTHENTIC)), which=FEEDS)
def test_hostile_pushes_are_refused_and_nothing_unverified_is_held(
    data: st.DataObject, held: int, which: str
) -> None:
    node = with_peer(held)
    entries, bodies = data.draw(hostile_runs())
    push = Push(feed_of(which, node, data.draw), entries, bodies)
    try:
        reply = node.intake.receive_push(push)
    except Rejected:
        reply = None
    now_held = assert_holds_only_what_verifies(node)
    assert now_held >= held + 1
    if reply is not None and push.feed == PEER.state.feed_id:
        assert reply.next_seq == now_held
        assert reply.accepted == now_held - held - 1
    if push.feed != PEER.state.feed_id:
        assert now_held == held + 1  # another feed's push takes nothing of the peer's
        assert node.peering.peer(push.feed) is None  # nor makes its sender known


@fuzz(200)
@given(data=st.data(), held=st.integers(0, len(AUTHENTIC)))
def test_hostile_pages_are_refused_and_nothing_unverified_is_held(
    data: st.DataObject, held: int
) -> None:
    node = with_peer(held)
    entries, bodies = data.draw(hostile_runs())
    page = FeedPage(PEER.state.feed_id, entries, bodies, data.draw(st.integers(0, 2**53)))
    try:
        taken = node.intake.receive_page(page)
    except Rejected:
        taken = 0
    assert assert_holds_only_what_verifies(node) == held + 1 + taken


# A hostile peer: well-formed, validly signed entries with bodies of its choosing.

TEXT = st.text(max_size=30)
# Mostly plausible values (so that runs of messages move relationships on), sometimes not.
TO = st.sampled_from([RECEIVER_ID] * 4 + ["network", "", "cn1nobody"]) | TEXT
IDS = st.sampled_from(["r1", "r2", "p1", "00000000-0000-4000-8000-000000000000", RECEIVER_ID])
PLAUSIBLE: dict[str, st.SearchStrategy[Any]] = {
    "to": TO,
    "request": IDS | TEXT,
    "proposal": IDS | TEXT,
    "person": IDS | TEXT,
    "accepted": st.sampled_from([RECEIVER_ID, ""]) | TEXT,
    "node": st.sampled_from([RECEIVER_ID, node_id(OTHER.state.feed_id)]) | TEXT,
    "kind": st.sampled_from([kind.value for kind in SupportKind]) | TEXT,
    "seat": st.sampled_from(["delegate", "leader", ""]) | TEXT,
    "round": st.integers(0, 3) | st.integers(-(2**63), 2**63 - 1),  # what MessagePack carries
    "appellants": st.integers(0, 4) | st.integers(-(2**63), 2**63 - 1),
    "hearing": st.sampled_from(["care_and_counsel", "broader_circle", "circle"]) | TEXT,
    "appeal": IDS | TEXT,
    "decision": IDS | TEXT,
    "legal_name": st.none() | TEXT,
    "legal_number": st.none() | TEXT,
    "legal_registry": st.none() | TEXT,
    "inception": st.sampled_from(
        [encode(OTHER.inception), encode(PEER.inception), b"", b"\x92\xc4\x00\xc4\x00"]
    )
    | st.binary(max_size=120),
}


def _body_strategy(cls: type[msgspec.Struct]) -> st.SearchStrategy[bytes]:
    overrides = {
        name: strategy for name, strategy in PLAUSIBLE.items() if name in cls.__struct_fields__
    }
    if cls is m.SupportRequestMessage:
        overrides["to"] = st.lists(TO, max_size=3)
    return st.builds(cls, **overrides).map(m.encode_body)


SIGNED_BODIES = st.one_of(
    *[
        st.tuples(st.just(entry_type), _body_strategy(cls))
        for entry_type, cls in m.BODY_TYPES.items()
    ],
    st.tuples(st.sampled_from(sorted(m.BODY_TYPES)), st.binary(min_size=1, max_size=200)),
)


@fuzz(250)
@given(
    messages=st.lists(
        st.tuples(SIGNED_BODIES, st.booleans(), st.sampled_from([True] * 5 + [False])),
        min_size=1,
        max_size=12,
    )
)
def test_a_hostile_peers_signed_messages_never_break_the_receiver(
    messages: list[tuple[tuple[str, bytes], bool, bool]],
) -> None:
    node = with_peer()
    feed = Feed.start(seed=7)  # the peer's keys: what it signs verifies
    bodies = []
    for (entry_type, body), addressed, sent in messages:
        feed.add(entry_type, body, audience=[RECEIVER_FEED] if addressed else [])
        if sent:
            bodies.append(body)
    try:
        reply = node.intake.receive_push(Push(feed.state.feed_id, feed.entries, bodies))
    except Rejected as rejected:
        raise AssertionError(f"a validly signed push was refused: {rejected}") from None
    assert reply.accepted == len(messages), reply
    assert node.peering.peer_feed(feed.state.feed_id).next_seq == len(messages) + 1
    # The receiver's own state still loads and reads.
    assert node.records.get_circle().name == "Kitchen"
    node.relations.relationships()
    node.support.support_requests()


APP = create_app(receiver(), None, ServerOptions(public_url="http://testserver"))
CLIENT = TestClient(APP)


@fuzz(150)
@given(data=st.data(), which=FEEDS)
def test_hostile_pushes_over_http_are_never_a_server_error(data: st.DataObject, which: str) -> None:
    node = with_peer(data.draw(st.integers(0, len(AUTHENTIC))))
    APP.state.served.node = node  # one app, a fresh node each time (the inbox reads app.state.node)
    APP.state.served.join_limiter.clear()
    entries, bodies = data.draw(hostile_runs())
    raw = encode(Push(feed_of(which, node, data.draw), entries, bodies))
    if data.draw(st.booleans()):
        raw = mutate(raw, data.draw)
    response = CLIENT.post(
        "/federation/inbox", content=raw, headers={"Content-Type": "application/msgpack"}
    )
    assert response.status_code in (200, 400, 403, 409, 413, 422, 429), response.text
    if response.status_code != 200:
        assert response.headers["content-type"] == "application/problem+json"
        assert response.json()["reason"]
    assert_holds_only_what_verifies(node)


# node.network.messages.decode_body, for every body type.

BODY_TYPES = st.sampled_from(sorted(m.BODY_TYPES))


@fuzz(300)
@given(entry_type=BODY_TYPES, raw=st.binary(max_size=400))
def test_random_bytes_decode_to_a_record_of_the_type_or_none(entry_type: str, raw: bytes) -> None:
    record = m.decode_body(entry_type, raw)
    assert record is None or isinstance(record, m.BODY_TYPES[entry_type])


@fuzz(400)
@given(data=st.data(), entry_type=BODY_TYPES)
def test_generated_and_mutated_bodies_decode_or_are_none(
    data: st.DataObject, entry_type: str
) -> None:
    cls = m.BODY_TYPES[entry_type]
    # Any values, but whole numbers MessagePack can carry (a record of ours never holds more).
    wide = {
        name: st.integers(-(2**63), 2**64 - 1)
        for name in ("round", "appellants")
        if name in cls.__struct_fields__
    }
    record = data.draw(st.builds(cls, **wide))
    raw = m.encode_body(record)
    assert m.decode_body(entry_type, raw) == record  # a valid body round-trips
    damaged = mutate(raw, data.draw)
    decoded = m.decode_body(entry_type, damaged)
    assert decoded is None or isinstance(decoded, cls)
    # A body of another type is that type's record or None, never another type's.
    other = data.draw(BODY_TYPES)
    decoded = m.decode_body(other, raw)
    assert decoded is None or isinstance(decoded, m.BODY_TYPES[other])


def test_deeply_nested_and_unknown_bodies_are_none() -> None:
    for entry_type in m.BODY_TYPES:
        for raw in (b"\x91" * 100_000, b"\x81\xa1a" * 50_000, b"\xdd\xff\xff\xff\xff", b""):
            assert m.decode_body(entry_type, raw) is None
    assert m.decode_body("no.such.type", m.encode_body(m.Addressed(to="x"))) is None
