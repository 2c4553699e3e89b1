"""Sign-in sessions of the web pages, kept in the node's store (node/store/session_rows.py).

The session cookie carries only a random session id (256 bits, `secrets`); what it stands for
(the person, the id of the token they signed in with, a notice to show once) is a row of the
store's session table, keyed by the id's SHA-256: the store never holds the id itself, so a
copy of the store lets no one in. The CSRF token of the session's forms is not stored either:
it is derived from the id (an HMAC keyed by it), and compared in constant time. Signing out
deletes the row at once, so a copied cookie is worth nothing afterwards.

Being in the store, a session survives a restart of the node and holds on every worker on one
store (PostgreSQL): a browser signed in through one worker is signed in on all, and signing out
through one ends the session on all. A backup holds no session (node/cli/backup.py): a node
restored from one starts with everyone signed out, so no old cookie gets in.

A session is also opened, without a person, for the sign-in form itself, so that its POST
carries a CSRF token like every other form; signing in replaces it with a new session (a new
id and a new CSRF token), so an id planted before sign-in is never the signed-in one.

Sessions end after `IDLE` seconds without a request, `LIFETIME` seconds after sign-in at the
latest, and at once when the token they were opened with is revoked or its person leaves the
circle (checked on every request by node.http.web.visits, against the store, so on every
worker). A request writes nothing unless the session was last seen over `TOUCH_EVERY` seconds
ago (so its idle time is counted to within that). Ended sessions are deleted when seen, at each
sign-in, and every `PRUNE_EVERY` seconds when a session is opened; at most `MAX_SESSIONS` are
kept (then the least used are deleted, sign-in forms' first).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from node.store.session_rows import MemorySessionRows, SessionRow, SessionRows

COOKIE = "circle_session"
IDLE = 8 * 3600.0
LIFETIME = 7 * 24 * 3600.0
SIGN_IN_LIFETIME = 3600.0  # a session opened for the sign-in form only
MAX_SESSIONS = 10_000
TOUCH_EVERY = 60.0  # a session's `seen` is written at most once a minute
PRUNE_EVERY = 600.0


@dataclass
class Session:
    id: str
    started: float
    seen: float
    person: str | None = None
    token_id: str | None = None
    notice: str | None = None  # shown once, on the next page (after a redirect)
    csrf: str = field(init=False)

    def __post_init__(self) -> None:
        # Derived from the id, so the store holds nothing a form could be forged with.
        self.csrf = hmac.new(self.id.encode(), b"csrf", hashlib.sha256).hexdigest()

    def csrf_matches(self, submitted: str | None) -> bool:
        """Whether a form's CSRF token is this session's (compared in constant time)."""
        return bool(submitted) and hmac.compare_digest(
            self.csrf.encode(), (submitted or "").encode()
        )

    def data(self) -> bytes:
        return json.dumps(
            {"person": self.person, "token_id": self.token_id, "notice": self.notice}
        ).encode()


def cookie_name(prefix: str) -> str:
    """The session cookie's name for a circle served under `prefix` (node.http.circle_paths):
    `circle_session` at the site's root, `circle_session_kitchen` under `/c/kitchen`. The
    cookie's `Path` is the prefix too, so a browser sends each circle only its own cookie; the
    name keeps a circle's cookie apart from that of a circle served at the root (`Path=/`,
    sent everywhere on the site)."""
    last = prefix.rstrip("/").rsplit("/", 1)[-1]
    return f"{COOKIE}_{re.sub(r'[^A-Za-z0-9_-]', '_', last)}" if last else COOKIE


def _key(session_id: str) -> bytes:
    return hashlib.sha256(session_id.encode()).digest()


class SessionStore:
    """Sessions by id, in the store's session table (or, made without one, in memory)."""

    def __init__(
        self,
        rows: SessionRows | None = None,
        clock: Callable[[], float] = time.time,
        max_sessions: int = MAX_SESSIONS,
    ) -> None:
        self.rows: SessionRows = rows if rows is not None else MemorySessionRows()
        self.clock = clock
        self.max_sessions = max_sessions
        self._pruned = clock()
        self._lock = threading.Lock()

    def open(
        self, person: str | None = None, token_id: str | None = None, notice: str | None = None
    ) -> Session:
        now = self.clock()
        self._prune(now, signing_in=person is not None)
        session = Session(
            id=secrets.token_urlsafe(32),
            started=now,
            seen=now,
            person=person,
            token_id=token_id,
            notice=notice,
        )
        row = SessionRow(_key(session.id), session.data(), person is not None, now, now)
        self.rows.insert(row)
        return session

    def get(self, session_id: str | None) -> Session | None:
        """The live session with this id (its idle time starts again), or None."""
        if not session_id or len(session_id) > 100:
            return None
        key = _key(session_id)
        row = self.rows.select(key)
        if row is None:
            return None
        now = self.clock()
        if self._expired(row, now):
            self.rows.delete(key)
            return None
        if now - row.seen >= TOUCH_EVERY:
            self.rows.touch(key, now)
        held = json.loads(row.data)
        return Session(
            id=session_id,
            started=row.started,
            seen=now,
            person=held.get("person"),
            token_id=held.get("token_id"),
            notice=held.get("notice"),
        )

    def close(self, session_id: str) -> None:
        self.rows.delete(_key(session_id))

    def leave_notice(self, session: Session, notice: str) -> None:
        """A line to show on the session's next page (whichever worker serves it)."""
        session.notice = notice
        self.rows.rewrite(_key(session.id), session.data())

    def take_notice(self, session: Session) -> str | None:
        """The notice left for this page, forgotten once taken."""
        notice = session.notice
        if notice is not None:
            session.notice = None
            self.rows.rewrite(_key(session.id), session.data())
        return notice

    def __len__(self) -> int:
        return self.rows.count()

    def _expired(self, row: SessionRow, now: float) -> bool:
        lifetime = LIFETIME if row.signed_in else SIGN_IN_LIFETIME
        return now - row.seen > IDLE or now - row.started > lifetime

    def _prune(self, now: float, signing_in: bool) -> None:
        """Delete ended sessions (at a sign-in, and now and then); if the table is still
        full, the least recently used tenth, sign-in forms first."""
        with self._lock:
            due = signing_in or now - self._pruned >= PRUNE_EVERY
            if due:
                self._pruned = now
        if due:
            self.rows.delete_expired(now - IDLE, now - LIFETIME, now - SIGN_IN_LIFETIME)
        if self.rows.count() < self.max_sessions:
            return
        self.rows.delete_expired(now - IDLE, now - LIFETIME, now - SIGN_IN_LIFETIME)
        if self.rows.count() >= self.max_sessions:
            self.rows.delete_least_used(max(1, self.max_sessions // 10))
