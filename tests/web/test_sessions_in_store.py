"""Sessions kept in the node's store: across a restart, across workers on one store, never in
a backup, and ended at once on every worker by signing out, revoking the token or leaving."""

from __future__ import annotations

import hashlib
import sqlite3
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI

from node.app.node import CircleNode
from node.app.persistence import open_node
from node.cli.backup import backup
from node.cli.restore import restore
from node.demo.scripted import make_active
from node.http.server import ServerOptions, create_app
from node.http.web.sessions import COOKIE, IDLE, TOUCH_EVERY, SessionStore
from node.settings import Settings
from node.store.postgres_copy import TABLES
from node.store.session_rows import MemorySessionRows
from tests.conftest import require_postgres
from tests.web.test_sessions import Browserless, Tick


def _app(node: CircleNode) -> FastAPI:
    return create_app(node, None, ServerOptions(public_url="http://testserver"))


def _same_browser(app: FastAPI, browser: Browserless) -> Browserless:
    """The same browser (its cookie) sent to another worker, or to the node after a restart."""
    other = Browserless(app)
    other.client.cookies = browser.client.cookies
    return other


@pytest.fixture(params=["sqlite", "postgres"])
def shared(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[Settings, str]]:
    """A founded, active circle's settings, on SQLite or PostgreSQL, and Ben's id."""
    url = request.getfixturevalue("postgres_url") if request.param == "postgres" else None
    settings = Settings(data_dir=tmp_path / "node", database_url=url)
    node = open_node(settings)
    ann = node.circle.found_circle(name="Kitchen", aim="Food", domain="Kitchen", founder_name="Ann")
    ben = node.people.add_founding_member(ann, "Ben")
    make_active(node)
    node.close()
    yield settings, ben


def test_a_session_survives_a_restart_of_the_node(shared: tuple[Settings, str]) -> None:
    # Given Ben signed in through the pages.
    settings, ben_id = shared
    node = open_node(settings)
    _, token = node.tokens.issue_token(ben_id)
    ben = Browserless(_app(node))
    assert ben.sign_in(token).status_code == 303
    assert ben.client.get("/circle").status_code == 200
    # When the node is stopped and started again on the same store,
    node.close()
    node = open_node(settings)
    try:
        again = _same_browser(_app(node), ben)
        # then his browser is still signed in, and its forms' CSRF token still holds.
        page = again.client.get("/circle", follow_redirects=False)
        assert page.status_code == 200 and "Sign out" in page.text
        signed_out = again.client.post(
            "/sign-out", data={"csrf": again.csrf("/circle")}, follow_redirects=False
        )
        assert signed_out.status_code == 303
        assert again.client.get("/circle", follow_redirects=False).status_code == 303
    finally:
        node.close()


def test_two_workers_on_one_store_share_sessions_and_their_ends(
    shared: tuple[Settings, str],
) -> None:
    # Given two workers serving one node from one store.
    settings, ben_id = shared
    first, second = open_node(settings), open_node(settings)
    try:
        one, two = _app(first), _app(second)
        token_id, token = first.tokens.issue_token(ben_id)
        # When Ben signs in through the first, the second knows him (and shows the welcome
        # the first left for his next page, once).
        ben = Browserless(one)
        assert ben.sign_in(token).status_code == 303
        there = _same_browser(two, ben)
        page = there.client.get("/circle", follow_redirects=False)
        assert page.status_code == 200 and "Welcome, Ben." in page.text
        assert "Welcome, Ben." not in ben.client.get("/circle").text
        # A form drawn by one worker is accepted by the other; signing out through the second
        # ends the session on the first at once.
        csrf = ben.csrf("/circle")
        assert there.client.post("/sign-out", data={"csrf": csrf}).status_code == 200
        assert ben.client.get("/circle", follow_redirects=False).status_code == 303

        # When his token is revoked through one worker, the other ends his session at once.
        assert ben.sign_in(token).status_code == 303
        there = _same_browser(two, ben)
        assert there.client.get("/circle", follow_redirects=False).status_code == 200
        first.tokens.revoke_token(token_id)
        assert there.client.get("/circle", follow_redirects=False).status_code == 303
        assert ben.client.get("/circle", follow_redirects=False).status_code == 303

        # When he leaves the circle through the second, the first ends his session at once.
        _, token = second.tokens.issue_token(ben_id)
        assert ben.sign_in(token).status_code == 303
        assert ben.client.get("/circle", follow_redirects=False).status_code == 200
        second.people.leave(ben_id, ben_id, note="Thank you")
        assert ben.client.get("/circle", follow_redirects=False).status_code == 303
        assert (
            _same_browser(two, ben).client.get("/circle", follow_redirects=False).status_code == 303
        )
    finally:
        first.close()
        second.close()


def test_the_store_holds_neither_the_id_nor_the_csrf_token(tmp_path: Path) -> None:
    # Given Ann signed in, on a node whose store is encrypted.
    settings = Settings(data_dir=tmp_path / "node", encrypt=True)
    node = open_node(settings)
    try:
        ann_id = node.circle.found_circle(
            name="Kitchen", aim="Food", domain="Kitchen", founder_name="Ann"
        )
        _, token = node.tokens.issue_token(ann_id)
        ann = Browserless(_app(node))
        ann.sign_in(token)
        cookie = ann.client.cookies[COOKIE]
        csrf = ann.csrf("/circle")
    finally:
        node.close()
    # Then its session row is keyed by the id's hash, and holds nothing readable.
    with sqlite3.connect(settings.sqlite_path) as db:
        rows = db.execute("SELECT id_hash, data FROM sessions").fetchall()
    assert [bytes(r[0]) for r in rows] == [hashlib.sha256(cookie.encode()).digest()]
    held = b"".join(bytes(r[1]) for r in rows)
    for secret in (cookie, csrf, ann_id, "Welcome"):
        assert secret.encode() not in held


def test_a_request_writes_the_session_at_most_once_a_minute() -> None:
    touched: list[float] = []

    class Counted(MemorySessionRows):
        def touch(self, key: bytes, seen: float) -> None:
            touched.append(seen)
            super().touch(key, seen)

    tick = Tick()
    sessions = SessionStore(Counted(), clock=tick)
    opened = sessions.open("p1", "t1")
    for _ in range(30):
        tick.now += 1
        assert sessions.get(opened.id) is not None
    assert touched == []
    tick.now += TOUCH_EVERY
    sessions.get(opened.id)
    sessions.get(opened.id)
    assert touched == [tick.now]


def test_ended_sessions_are_deleted_at_a_sign_in_and_now_and_then() -> None:
    # Given ten sessions, all ended (idle too long).
    tick = Tick()
    sessions = SessionStore(clock=tick)
    opened = [sessions.open() for _ in range(5)] + [sessions.open("p1", "t1") for _ in range(5)]
    tick.now += IDLE + 1
    # A request deletes its own ended session, and looks at no other.
    assert sessions.get(opened[0].id) is None
    assert len(sessions) == 9
    # A sign-in deletes every ended session.
    sessions.open("p2", "t2")
    assert len(sessions) == 1
    # So does opening a sign-in form's session, once PRUNE_EVERY has passed since.
    tick.now += IDLE + 1
    sessions.open()
    assert len(sessions) == 1


def test_a_node_restored_from_a_backup_lets_no_old_cookie_in(tmp_path: Path) -> None:
    # Given Ann signed in when the backup is taken, and signed out after it.
    settings = Settings(data_dir=tmp_path / "node")
    node = open_node(settings)
    ann_id = node.circle.found_circle(
        name="Kitchen", aim="Food", domain="Kitchen", founder_name="Ann"
    )
    _, token = node.tokens.issue_token(ann_id)
    ann = Browserless(_app(node))
    ann.sign_in(token)
    saved = tmp_path / "node.backup"
    backup(settings, saved)
    ann.client.post("/sign-out", data={"csrf": ann.csrf("/circle")})
    node.close()
    # When the node is restored from that backup, her old cookie is not signed in.
    restore(saved, tmp_path / "restored")
    restored = open_node(Settings(data_dir=tmp_path / "restored"))
    try:
        assert len(SessionStore(restored.store.sessions)) == 0
        old = _same_browser(_app(restored), ann)
        assert old.client.get("/circle", follow_redirects=False).status_code == 303
    finally:
        restored.close()


def test_a_postgresql_backup_holds_no_session_and_a_restore_empties_the_table(
    postgres_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import psycopg
    from psycopg import sql

    from node.store.session_rows import SessionRow

    # Given Ann signed in on a node on PostgreSQL, and its backup.
    settings = Settings(data_dir=tmp_path / "node", database_url=postgres_url)
    node = open_node(settings)
    ann_id = node.circle.found_circle(
        name="Kitchen", aim="Food", domain="Kitchen", founder_name="Ann"
    )
    _, token = node.tokens.issue_token(ann_id)
    Browserless(_app(node)).sign_in(token)
    assert len(SessionStore(node.store.sessions)) == 1
    node.close()
    saved = tmp_path / "node.backup"
    names = backup(settings, saved)
    assert not [name for name in names if name.endswith("sessions")]
    # And another store that has only an old session row left in it.
    base = require_postgres()
    schema = f"circle_test_{uuid.uuid4().hex[:12]}"
    target_url = f"{base}{'&' if '?' in base else '?'}schema={schema}"
    try:
        stale = open_node(Settings(data_dir=tmp_path / "stale", database_url=target_url))
        stale.store.sessions.insert(SessionRow(b"k" * 32, b"{}", True, 0.0, 0.0))
        stale.close()
        with psycopg.connect(base, autocommit=True) as connection:
            for table in TABLES:
                connection.execute(
                    sql.SQL("TRUNCATE {}.{}").format(sql.Identifier(schema), sql.Identifier(table))
                )
        # When the backup is restored into it, the restored node holds no session.
        monkeypatch.setenv("CIRCLE_NODE_DATABASE_URL", target_url)
        restore(saved, tmp_path / "restored")
        restored = open_node(Settings(data_dir=tmp_path / "restored", database_url=target_url))
        assert len(SessionStore(restored.store.sessions)) == 0
        restored.close()
    finally:
        with psycopg.connect(base, autocommit=True) as connection:
            connection.execute(
                sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(schema))
            )


def test_sessions_work_on_the_in_memory_store() -> None:
    # Given a node on the in-memory store, its pages keep sessions in its dictionary.
    node = CircleNode(env={"PERSISTENCE_MODULE": "node.store.memory_store"})
    try:
        ann_id = node.circle.found_circle(
            name="Kitchen", aim="Food", domain="Kitchen", founder_name="Ann"
        )
        _, token = node.tokens.issue_token(ann_id)
        ann = Browserless(_app(node))
        assert ann.sign_in(token).status_code == 303
        assert "Welcome, Ann." in ann.client.get("/circle").text
        assert len(SessionStore(node.store.sessions)) == 1
        signed_out = ann.client.post("/sign-out", data={"csrf": ann.csrf("/circle")})
        assert "You have signed out." in signed_out.text
        assert ann.client.get("/circle", follow_redirects=False).status_code == 303
    finally:
        node.close()
