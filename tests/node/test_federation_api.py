"""The federation HTTP API in process: descriptors, pages, bodies, the inbox and its refusals."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from federation.httpsig import sign_request
from federation.verify import decode_descriptor, decode_page, decode_push_reply, verify_inception
from federation.wire import JOIN_REQUEST, MAX_PUSH_BYTES, Push, encode
from node.app.node import CircleNode
from node.app.persistence import open_node
from node.http.server import ServerOptions, create_app
from node.settings import Settings

MSGPACK = {"Content-Type": "application/msgpack"}


@pytest.fixture
def nodes(tmp_path: Path) -> Iterator[tuple[CircleNode, CircleNode, TestClient]]:
    a = open_node(Settings(data_dir=tmp_path / "a"))
    b = open_node(Settings(data_dir=tmp_path / "b"))
    a.circle.found_circle(name="Kitchen", aim="Feed", domain="Food", founder_name="Ada")
    a.peering.add_peer(b.feed.descriptor("b", "http://b.invalid"), "http://b.invalid")
    b.peering.add_peer(a.feed.descriptor("a", "http://testserver"), "http://testserver")
    # No `with`: the app's delivery loops do not run; requests are served all the same.
    client = TestClient(create_app(a, None, ServerOptions(public_url="http://testserver")))
    yield a, b, client
    a.close()
    b.close()


def signed_get(client: TestClient, signer: CircleNode, path: str) -> object:
    url = f"http://testserver{path}"
    assert signer.feed.keys is not None
    headers = sign_request(
        "GET", url, {}, b"", key_id=signer.feed.node_id, private_key=signer.feed.keys.current
    )
    return client.get(path, headers=headers)


def test_the_descriptor_proves_the_node_id(nodes) -> None:  # type: ignore[no-untyped-def]
    a, _, client = nodes
    response = client.get("/federation/node")
    assert response.status_code == 200 and response.headers["content-type"] == "application/msgpack"
    descriptor = decode_descriptor(response.content)
    assert descriptor.name == "Kitchen" and descriptor.url == "http://testserver"
    assert verify_inception(descriptor.inception, descriptor.feed).feed_id == a.feed.feed_id


def test_pages_are_served_and_bounded(nodes) -> None:  # type: ignore[no-untyped-def]
    a, _, client = nodes
    page = decode_page(client.get("/federation/feed?after=0&limit=10").content)
    assert page.feed == a.feed.feed_id and page.head == a.feed.own_feed().head == len(page.entries)
    assert len(page.bodies) == 1  # the circle's public profile
    for query in ("after=-1", "limit=0", "limit=1001", "after=x"):
        response = client.get(f"/federation/feed?{query}")
        assert response.status_code == 400, query
        assert response.headers["content-type"] == "application/problem+json"
        assert response.json()["reason"] == "malformed"


def test_non_public_bodies_need_a_signed_reader_in_their_audience(nodes) -> None:  # type: ignore[no-untyped-def]
    a, b, client = nodes
    own = a.feed.own_feed()
    signed = own.append(a.feed.keys, JOIN_REQUEST, b"to b", 1, [b.feed.feed_id])  # type: ignore[arg-type]
    a.save(
        own,
        entries=[(a.feed.feed_id, own.head, encode(signed))],
        bodies=[a.store.body_row(b"to b", [b.feed.feed_id])],
    )
    from federation.verify import decode_entry

    digest = decode_entry(signed).body_hash.hex()
    assert client.get(f"/federation/bodies/{digest}").status_code == 403
    response = signed_get(client, b, f"/federation/bodies/{digest}")
    assert response.status_code == 200 and response.content == b"to b"  # type: ignore[attr-defined]
    page = decode_page(signed_get(client, b, "/federation/feed?after=0&limit=10").content)  # type: ignore[attr-defined]
    assert b"to b" in page.bodies
    assert b"to b" not in decode_page(client.get("/federation/feed?after=0").content).bodies
    assert client.get("/federation/bodies/00").json()["reason"] == "malformed"
    assert client.get(f"/federation/bodies/{'00' * 32}").status_code == 404
    # A signature that does not verify is refused, not ignored.
    headers = sign_request(
        "GET",
        "http://testserver/federation/feed?after=1",
        {},
        b"",
        key_id=b.feed.node_id,
        private_key=b.feed.keys.current,
    )  # type: ignore[union-attr]
    response = client.get("/federation/feed?after=0", headers=headers)
    assert response.status_code == 401
    assert response.json()["reason"] == "signature_bad_signature"


def test_the_inbox_refuses_bad_input_with_a_reason(nodes) -> None:  # type: ignore[no-untyped-def]
    a, b, client = nodes
    response = client.post("/federation/inbox", content=b"\xc1not msgpack", headers=MSGPACK)
    assert response.status_code == 400 and response.json()["reason"] == "malformed"
    response = client.post(
        "/federation/inbox", content=b"\x00" * (MAX_PUSH_BYTES + 1), headers=MSGPACK
    )
    assert response.status_code == 413 and response.json()["reason"] == "oversize"
    # A known peer's entries are taken.
    b.circle.found_circle(name="Garden", aim="Grow", domain="Land", founder_name="Bo")
    push = b.outbox.pending_push(a.feed.feed_id)
    assert push is not None
    reply = decode_push_reply(
        client.post("/federation/inbox", content=encode(push), headers=MSGPACK).content
    )
    assert reply.accepted == len(push.entries) and reply.reason == ""
    assert a.relations.peer_view(b.feed.feed_id).profile["name"] == "Garden"  # type: ignore[union-attr]


def test_unknown_nodes_may_only_ask_to_join_and_are_rate_limited(nodes, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    a, _, client = nodes
    strangers = [open_node(Settings(data_dir=tmp_path / f"s{n}")) for n in range(5)]
    try:
        # A founded circle's feed without a join request: refused, nothing stored.
        stranger = strangers[0]
        stranger.circle.found_circle(name="S", aim="A", domain="D", founder_name="F")
        push = Push(
            stranger.feed.feed_id,
            [stranger.feed.inception(), *stranger.feed.own_entries(0, 10)],
            [],
        )
        response = client.post("/federation/inbox", content=encode(push), headers=MSGPACK)
        assert response.status_code == 403 and response.json()["reason"] == "unknown_node"
        assert a.peering.peer(stranger.feed.feed_id) is None
        statuses = []
        for other in strangers[1:]:
            other.circle.found_circle(
                name="Orchard", aim="Fruit", domain="Trees", founder_name="Oz"
            )
            push = other.feed.ask_to_join(
                a.feed.feed_id, "http://orchard.invalid", "Orchard", "Hello"
            )
            response = client.post("/federation/inbox", content=encode(push), headers=MSGPACK)
            statuses.append(response.status_code)
        # A burst of three from one address, then 429 with Retry-After.
        assert statuses == [200, 200, 429, 429]
        assert response.headers["retry-after"].isdigit()
        applicants = [p for p in a.peering.peers() if p.status == "applicant"]
        assert [p.url for p in applicants] == ["http://orchard.invalid"] * 2
        # An applicant pushes nothing more until its circle is admitted (and is rate limited).
        other = strangers[1]
        again = other.feed.ask_to_join(
            a.feed.feed_id, "http://orchard.invalid", "Orchard", "Still here"
        )
        response = client.post("/federation/inbox", content=encode(again), headers=MSGPACK)
        assert response.status_code == 429
        a_limiter = client.app.state.served.join_limiter  # type: ignore[attr-defined]
        a_limiter.burst = 10.0
        a_limiter.clear()
        reply = decode_push_reply(
            client.post("/federation/inbox", content=encode(again), headers=MSGPACK).content
        )
        assert reply.accepted == 0 and reply.reason == "unknown_node"
    finally:
        for node in strangers:
            node.close()


def test_a_join_request_for_another_node_is_refused(nodes, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    _, b, client = nodes
    stranger = open_node(Settings(data_dir=tmp_path / "stranger"))
    try:
        push = stranger.feed.ask_to_join(b.feed.feed_id, "http://s.invalid", "S", "Hello B")
        response = client.post("/federation/inbox", content=encode(push), headers=MSGPACK)
        assert response.status_code == 403 and response.json()["reason"] == "unknown_node"
        assert "addressed to another node" in response.json()["detail"]
    finally:
        stranger.close()


def test_unknown_paths_and_methods_are_problems_too(nodes) -> None:  # type: ignore[no-untyped-def]
    _, _, client = nodes
    response = client.get("/federation/nothing")
    assert response.status_code == 404 and response.json()["reason"] == "not_found"
    response = client.delete("/federation/inbox")
    assert response.status_code == 405 and response.json()["reason"] == "method_not_allowed"
    assert response.headers["allow"] == "POST"


def test_a_signature_made_for_another_node_is_refused(nodes) -> None:  # type: ignore[no-untyped-def]
    _, b, client = nodes
    headers = sign_request(
        "GET",
        "http://elsewhere.example/federation/feed?after=0",
        {},
        b"",
        key_id=b.feed.node_id,
        private_key=b.feed.keys.current,  # type: ignore[union-attr]
    )
    response = client.get(
        "/federation/feed?after=0", headers={**headers, "Host": "elsewhere.example"}
    )
    assert response.status_code == 401 and response.json()["reason"] == "signature_wrong_authority"


def test_a_public_url_with_its_default_port_still_takes_signed_reads(tmp_path: Path) -> None:
    a = open_node(Settings(data_dir=tmp_path / "a"))
    b = open_node(Settings(data_dir=tmp_path / "b"))
    try:
        a.peering.add_peer(b.feed.descriptor("b", "http://b.invalid"), "http://b.invalid")
        client = TestClient(create_app(a, None, ServerOptions(public_url="http://TestServer:80")))
        response = signed_get(client, b, "/federation/feed?after=0")
        assert response.status_code == 200  # type: ignore[attr-defined]
    finally:
        a.close()
        b.close()


def test_own_authority_drops_user_information_and_judges_ports_by_the_public_url(
    tmp_path: Path,
) -> None:
    a = open_node(Settings(data_dir=tmp_path / "a"))
    b = open_node(Settings(data_dir=tmp_path / "b"))
    try:
        a.peering.add_peer(b.feed.descriptor("b", "http://b.invalid"), "http://b.invalid")
        # Behind a TLS-terminating proxy the server sees http; its public URL names a user.
        options = ServerOptions(public_url="https://user@Node.Example")
        client = TestClient(create_app(a, None, options))
        assert b.feed.keys is not None
        for host in ("node.example", "node.example:443"):
            headers = sign_request(
                "GET",
                f"https://{host}/federation/feed?after=0",
                {},
                b"",
                key_id=b.feed.node_id,
                private_key=b.feed.keys.current,
            )
            response = client.get("/federation/feed?after=0", headers={**headers, "Host": host})
            assert response.status_code == 200, (host, response.text)
        # Port 80 is not https's default: that is another authority.
        headers = sign_request(
            "GET",
            "https://node.example:80/federation/feed?after=0",
            {},
            b"",
            key_id=b.feed.node_id,
            private_key=b.feed.keys.current,
        )
        response = client.get(
            "/federation/feed?after=0", headers={**headers, "Host": "node.example:80"}
        )
        assert response.json()["reason"] == "signature_wrong_authority"
    finally:
        a.close()
        b.close()


def test_signed_reads_are_verified_for_peers_joining_nodes_and_applicants(  # type: ignore[no-untyped-def]
    nodes, tmp_path: Path
) -> None:
    from federation.verify import decode_entry

    a, b, client = nodes
    applicant = open_node(Settings(data_dir=tmp_path / "applicant"))
    try:
        # Given an applicant at A, and a body of A's addressed to it.
        applicant.circle.found_circle(
            name="Orchard", aim="Fruit", domain="Trees", founder_name="Oz"
        )
        push = applicant.feed.ask_to_join(a.feed.feed_id, "http://o.invalid", "Orchard", "Hi")
        assert client.post("/federation/inbox", content=encode(push), headers=MSGPACK).is_success
        assert a.peering.peer(applicant.feed.feed_id).status == "applicant"  # type: ignore[union-attr]
        own = a.feed.own_feed()
        signed = own.append(a.feed.keys, JOIN_REQUEST, b"to you", 1, [applicant.feed.feed_id])  # type: ignore[arg-type]
        a.save(
            own,
            entries=[(a.feed.feed_id, own.head, encode(signed))],
            bodies=[a.store.body_row(b"to you", [applicant.feed.feed_id])],
        )
        digest = decode_entry(signed).body_hash.hex()
        # Then its signed reads get it: in a page, and alone.
        page = decode_page(signed_get(client, applicant, "/federation/feed?after=0").content)  # type: ignore[attr-defined]
        assert b"to you" in page.bodies
        response = signed_get(client, applicant, f"/federation/bodies/{digest}")
        assert response.status_code == 200 and response.content == b"to you"  # type: ignore[attr-defined]
        # A signature that does not verify is refused, whoever it claims to be: the applicant,
        # a peer, a removed peer.
        for claimed in (applicant, b):
            headers = sign_request(
                "GET",
                "http://testserver/federation/feed?after=1",
                {},
                b"",
                key_id=claimed.feed.node_id,
                private_key=claimed.feed.keys.current,  # type: ignore[union-attr]
            )
            response = client.get("/federation/feed?after=0", headers=headers)
            assert response.status_code == 401, claimed.feed.node_id
            assert response.json()["reason"] == "signature_bad_signature"
        # A removed node reads what anyone may read; its bad signatures are refused all the same.
        assert a.peering.remove_peer(applicant.feed.feed_id)
        response = signed_get(client, applicant, f"/federation/bodies/{digest}")
        assert response.status_code == 403  # type: ignore[attr-defined]
        page = decode_page(signed_get(client, applicant, "/federation/feed?after=0").content)  # type: ignore[attr-defined]
        assert b"to you" not in page.bodies
        headers = sign_request(
            "GET",
            "http://testserver/federation/feed?after=1",
            {},
            b"",
            key_id=applicant.feed.node_id,
            private_key=applicant.feed.keys.current,  # type: ignore[union-attr]
        )
        assert client.get("/federation/feed?after=0", headers=headers).status_code == 401
    finally:
        applicant.close()


def test_a_removed_node_is_refused_and_rate_limited_like_an_unknown_one(nodes) -> None:  # type: ignore[no-untyped-def]
    a, b, client = nodes
    b.circle.found_circle(name="Garden", aim="Grow", domain="Land", founder_name="Bo")
    push = b.outbox.pending_push(a.feed.feed_id)
    assert push is not None
    assert a.peering.remove_peer(b.feed.feed_id)
    statuses = []
    for _ in range(4):
        response = client.post("/federation/inbox", content=encode(push), headers=MSGPACK)
        statuses.append((response.status_code, response.json()["reason"]))
    assert statuses == [(403, "unknown_node")] * 3 + [(429, "rate_limited")]
    assert a.peering.peer_feed(b.feed.feed_id).next_seq == 1  # nothing of it taken


def test_a_peer_stopped_for_equivocating_reads_as_anonymous(nodes) -> None:  # type: ignore[no-untyped-def]
    from federation.verify import decode_entry

    a, b, client = nodes
    # Given a body of A's addressed to its peer B, which B's signed reads get.
    own = a.feed.own_feed()
    signed = own.append(a.feed.keys, JOIN_REQUEST, b"to b", 1, [b.feed.feed_id])
    a.save(
        own,
        entries=[(a.feed.feed_id, own.head, encode(signed))],
        bodies=[a.store.body_row(b"to b", [b.feed.feed_id])],
    )
    digest = decode_entry(signed).body_hash.hex()
    assert signed_get(client, b, f"/federation/bodies/{digest}").status_code == 200
    # When A stops B's feed for equivocating.
    peer = a.peering.peer(b.feed.feed_id)
    peer.record_equivocation(3, b"held", b"conflicting")
    a.store.save(peer)
    # Then B's signed reads read what anyone may read: no body addressed to it.
    assert signed_get(client, b, f"/federation/bodies/{digest}").status_code == 403
    page = decode_page(signed_get(client, b, "/federation/feed?after=0").content)
    assert b"to b" not in page.bodies
