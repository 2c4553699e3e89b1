"""Taking back over HTTP, in process: a peer serves a node its held copy only when the node
signs for itself; a restored node, until it has taken its feed back, answers 503 to what would
publish (API, pages, inbox) and says why in /healthz and on every page.

The cast: `a2` is node `a` restored from a backup taken before its last two decisions; `b` is
its peer and holds all of them; `c` is a node `b` does not know.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from domain.values import Purpose
from federation.httpsig import sign_request
from federation.verify import decode_page
from federation.wire import Push, encode
from node.app.node import CircleNode
from node.app.persistence import open_node
from node.cli.backup import backup
from node.cli.restore import restore
from node.demo.scripted import consent_to
from node.http.server import ServerOptions, create_app
from node.network.take_back import HELD_BACK
from node.settings import Settings
from tests.node.api.test_authorisation_matrix import signed_in
from tests.node.test_federation_node import connect, deliver, publish


@pytest.fixture
def restored(tmp_path: Path) -> Iterator[tuple[CircleNode, CircleNode, CircleNode]]:
    a = open_node(Settings(data_dir=tmp_path / "a"))
    b = open_node(Settings(data_dir=tmp_path / "b"))
    c = open_node(Settings(data_dir=tmp_path / "c"))
    connect(a, b)
    publish(a, 1)
    deliver(a, b)
    backup(Settings(data_dir=tmp_path / "a"), tmp_path / "a.tar")
    publish(a, 2)
    deliver(a, b)
    a.close()
    restore(tmp_path / "a.tar", tmp_path / "a2")
    a2 = open_node(Settings(data_dir=tmp_path / "a2"))
    yield a2, b, c
    for node in (a2, b, c):
        node.close()


def signed_get(
    client: TestClient, signer: CircleNode, path: str, host: str = "testserver"
) -> object:
    assert signer.feed.keys is not None
    headers = sign_request(
        "GET",
        f"http://{host}{path}",
        {},
        b"",
        key_id=signer.feed.node_id,
        private_key=signer.feed.keys.current,
    )
    return client.get(path, headers={**headers, "host": host})


def test_a_peer_serves_its_held_copy_to_the_feeds_own_node_alone(
    restored: tuple[CircleNode, CircleNode, CircleNode],
) -> None:
    a2, b, c = restored
    client = TestClient(create_app(b, None, ServerOptions(public_url="http://testserver")))
    held = b.peering.peer_feed(a2.feed.feed_id)
    # Signed by the feed's own node: every entry b holds after `after`, with their bodies.
    response = signed_get(client, a2, "/federation/held?after=0&limit=1000")
    assert response.status_code == 200  # type: ignore[attr-defined]
    page = decode_page(response.content)  # type: ignore[attr-defined]
    assert page.feed == a2.feed.feed_id and page.head == held.next_seq - 1
    assert len(page.entries) == held.next_seq - 1 > a2.feed.own_feed().head
    # Anyone else: 401, with the reason; nothing of the feed.
    unsigned = client.get("/federation/held?after=0")
    assert unsigned.status_code == 401 and unsigned.json()["reason"] == "signature_missing"
    stranger = signed_get(client, c, "/federation/held?after=0")
    assert stranger.status_code == 401  # type: ignore[attr-defined]
    assert stranger.json()["reason"] == "signature_unknown_key"  # type: ignore[attr-defined]
    elsewhere = signed_get(client, a2, "/federation/held?after=0", host="other.example")
    assert elsewhere.status_code == 401  # type: ignore[attr-defined]
    assert elsewhere.json()["reason"] == "signature_wrong_authority"  # type: ignore[attr-defined]
    # b itself reading "its own feed" here: b holds no copy of its own feed.
    own = signed_get(client, b, "/federation/held?after=0")
    assert own.status_code == 401  # type: ignore[attr-defined]


def test_until_taken_back_what_would_publish_answers_503_and_says_why(
    restored: tuple[CircleNode, CircleNode, CircleNode],
) -> None:
    a2, b, _ = restored
    founder = next(iter(a2.records.get_circle().participants))
    circle = a2.records.get_circle()
    hat = next(hat_id for hat_id, hat in circle.hats.items() if hat.name == "Cook")
    _, token = a2.tokens.issue_token(founder)
    proposal = consent_to(a2, Purpose.ADOPT_POLICY, {}, text="Bread on Fridays", close=False)
    head = a2.feed.own_feed().head
    # No `with`: delivery does not run, so the node stays held back.
    app = create_app(a2, None, ServerOptions(public_url="http://testserver"))
    client = TestClient(app, follow_redirects=False)
    health = client.get("/healthz").json()
    assert health["status"] == "taking_back" and health["taking_back"] == HELD_BACK
    # The member API: an everyday decision would publish a record: 503, with the sentence.
    response = client.post(
        "/api/decisions",
        json={"hat_id": hat, "area": "menu", "title": "Too soon", "text": "Soup"},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert response.status_code == 503, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["reason"] == "taking_back"
    assert "restored from a backup" in response.json()["detail"]
    assert "Retry-After" in response.headers
    # The pages: the banner on every page, and a 503 page for a step that would publish.
    csrf = signed_in(client, token)
    page = client.get("/circle")
    assert "Restored from a backup:" in page.text
    closed = client.post(f"/proposals/{proposal}/close-round", data={"csrf": csrf})
    assert closed.status_code == 503 and "restored from a backup" in closed.text
    assert re.search(r"Traceback|Internal", closed.text) is None
    # The inbox takes nothing meanwhile (what a peer's entries cause may publish).
    push = Push(b.feed.feed_id, b.feed.own_entries(0, 10), [])
    inbox = client.post(
        "/federation/inbox", content=encode(push), headers={"Content-Type": "application/msgpack"}
    )
    assert inbox.status_code == 503 and inbox.json()["reason"] == "taking_back"
    # Nothing was signed.
    assert a2.feed.own_feed().head == head
    # Once taken back (here in process), the same decision is taken.
    page_b = b.peering.held_copy(a2.feed.feed_id, a2.take_back.base(), 1000)
    assert page_b is not None
    a2.take_back.take([("b", [page_b])])
    assert client.get("/healthz").json()["status"] == "ok"
    response = client.post(
        "/api/decisions",
        json={"hat_id": hat, "area": "menu", "title": "Now", "text": "Soup"},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert response.status_code == 201, response.text
    assert deliver(a2, b) == 1 and not b.peering.peer(a2.feed.feed_id).stopped  # type: ignore[union-attr]


def test_a_held_copy_never_serves_a_body_another_feed_binds(tmp_path: Path) -> None:
    from dataclasses import replace

    from federation.feed import _sign, append, incept, node_id
    from federation.keys import NodeKeys
    from federation.verify import decode_entry
    from federation.wire import JOIN_REQUEST, Entry, JoinRequest

    b = open_node(Settings(data_dir=tmp_path / "b"))
    c = open_node(Settings(data_dir=tmp_path / "c"))
    b.circle.found_circle(name="Kitchen", aim="Feed", domain="Food", founder_name="Ada")
    # Given: b's feed holds a body addressed to c alone; anyone reads the entry's hash.
    b.feed.ask_to_join(c.feed.feed_id, "http://b.invalid", "Kitchen", "SECRET for c only")
    client = TestClient(create_app(b, None, ServerOptions(public_url="http://testserver")))
    page = decode_page(client.get("/federation/feed?after=0&limit=1000").content)
    target = [decode_entry(e) for e in page.entries if decode_entry(e).audience][-1]
    # When a stranger asks b to join with a feed whose entry names that hash (no body), then
    # reads its "own" feed back from b, signing as itself.
    keys = NodeKeys.from_seeds(b"\x07" * 32, b"\x08" * 32)
    inception, state = incept(keys, 1_700_000_000_000)
    naming = Entry(1, state.feed_id, 1, state.last_hash, 1_700_000_000_001, target.type, [],
                   target.body_hash, target.body_size)  # fmt: skip
    named = _sign(keys.current, naming)
    state = replace(state, next_seq=2, last_hash=named.hash)
    body = encode(JoinRequest(b.feed.feed_id, "http://s.invalid", "Stranger", "hello"))
    ask, state = append(state, keys, JOIN_REQUEST, body, 1_700_000_000_002, [b.feed.feed_id])
    pushed = client.post(
        "/federation/inbox",
        content=encode(Push(state.feed_id, [inception, named, ask], [body])),
        headers={"content-type": "application/msgpack"},
    )
    assert pushed.status_code == 200
    url = "http://testserver/federation/held?after=0&limit=1000"
    headers = sign_request(
        "GET", url, {}, b"", key_id=node_id(state.feed_id), private_key=keys.current
    )
    held = client.get("/federation/held?after=0&limit=1000", headers=headers)
    # Then b serves the stranger its entries and its own request, never b's body for c.
    assert held.status_code == 200
    served = decode_page(held.content)
    assert len(served.entries) == 2
    assert body in served.bodies
    assert not any(b"SECRET" in each for each in served.bodies)
    for node in (b, c):
        node.close()
