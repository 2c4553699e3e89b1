"""Sign-in sessions of the web pages, kept on the server in this process's memory.

The session cookie carries only a random session id (256 bits, `secrets`); what it stands for
(the person, the id of the token they signed in with, the CSRF token of their forms) stays
here, keyed by the id's SHA-256. Signing out forgets the session at once, so a copied cookie
is worth nothing afterwards. No dependency and no key to manage: the store lives as long as the
process. A restart signs everyone out, and several worker processes do not share sessions (a
node serves its members from one process; behind several, use sticky sessions).

A session is also opened, without a person, for the sign-in form itself, so that its POST
carries a CSRF token like every other form; signing in replaces it with a new session (a new
id and a new CSRF token), so an id planted before sign-in is never the signed-in one.

Sessions end after `IDLE` seconds without a request, `LIFETIME` seconds after sign-in at the
latest, and at once when the token they were opened with is revoked or its person leaves the
circle (checked on every request by node.http.web.visits).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

COOKIE = "circle_session"
IDLE = 8 * 3600.0
LIFETIME = 7 * 24 * 3600.0
SIGN_IN_LIFETIME = 3600.0  # a session opened for the sign-in form only
MAX_SESSIONS = 10_000


@dataclass
class Session:
    id: str
    csrf: str
    started: float
    seen: float
    person: str | None = None
    token_id: str | None = None
    notice: str | None = None  # shown once, on the next page (after a redirect)

    def take_notice(self) -> str | None:
        notice, self.notice = self.notice, None
        return notice

    def csrf_matches(self, submitted: str | None) -> bool:
        """Whether a form's CSRF token is this session's (compared in constant time)."""
        return bool(submitted) and hmac.compare_digest(
            self.csrf.encode(), (submitted or "").encode()
        )


def _key(session_id: str) -> str:
    return hashlib.sha256(session_id.encode()).hexdigest()


class SessionStore:
    """Sessions by id, thread-safe (page handlers run in a thread pool)."""

    def __init__(
        self, clock: Callable[[], float] = time.monotonic, max_sessions: int = MAX_SESSIONS
    ) -> None:
        self.clock = clock
        self.max_sessions = max_sessions
        self._sessions: dict[str, Session] = {}
        self._lock = threading.Lock()

    def open(self, person: str | None = None, token_id: str | None = None) -> Session:
        now = self.clock()
        session = Session(
            id=secrets.token_urlsafe(32),
            csrf=secrets.token_urlsafe(32),
            started=now,
            seen=now,
            person=person,
            token_id=token_id,
        )
        with self._lock:
            if len(self._sessions) >= self.max_sessions:
                self._make_room(now)
            self._sessions[_key(session.id)] = session
        return session

    def get(self, session_id: str | None) -> Session | None:
        """The live session with this id (its idle time starts again), or None."""
        if not session_id or len(session_id) > 100:
            return None
        key = _key(session_id)
        now = self.clock()
        with self._lock:
            session = self._sessions.get(key)
            if session is None:
                return None
            if self._expired(session, now):
                del self._sessions[key]
                return None
            session.seen = now
            return session

    def close(self, session_id: str) -> None:
        with self._lock:
            self._sessions.pop(_key(session_id), None)

    def __len__(self) -> int:
        return len(self._sessions)

    def _expired(self, session: Session, now: float) -> bool:
        lifetime = LIFETIME if session.person else SIGN_IN_LIFETIME
        return now - session.seen > IDLE or now - session.started > lifetime

    def _make_room(self, now: float) -> None:
        """Forget expired sessions; if still full, the least recently used tenth, sign-in
        forms first."""
        for key, session in list(self._sessions.items()):
            if self._expired(session, now):
                del self._sessions[key]
        if len(self._sessions) < self.max_sessions:
            return
        oldest = sorted(
            self._sessions.items(), key=lambda item: (item[1].person is not None, item[1].seen)
        )
        for key, _ in oldest[: max(1, self.max_sessions // 10)]:
            del self._sessions[key]
