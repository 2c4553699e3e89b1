"""Personal tokens: how members sign in to their node. Only hashes are stored.

A token is `cn_` followed by 43 random URL-safe characters (256 bits). The node keeps its
SHA-256 hash, and a short public id (the hash's first 12 hex digits) to name it when revoking.
Looking a token up hashes it first; the hash is compared in constant time.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import datetime
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate, event

from domain.records import Copied
from node.store.topics import moved_from

CREDENTIALS_ID = uuid5(NAMESPACE_URL, "circle-node:credentials")
TOKEN_PREFIX = "cn_"


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class Credentials(Copied, Aggregate):
    """Every token issued on this node: by hash, whose it is, and whether it is revoked."""

    @staticmethod
    def create_id(**kwargs: Any) -> UUID:
        return CREDENTIALS_ID

    @event("Opened")
    def __init__(self) -> None:
        # token id -> {"hash", "person", "issued", "revoked"}
        self.tokens: dict[str, dict[str, Any]] = {}

    def issue(self, person_id: str, now: datetime) -> tuple[str, str]:
        """A new token for a person; returns (token id, token). The token is shown once."""
        token = TOKEN_PREFIX + secrets.token_urlsafe(32)
        digest = token_hash(token)
        self._issued(digest[:12], digest, person_id, now.isoformat(timespec="seconds"))
        return digest[:12], token

    @event("TokenIssued")
    def _issued(self, token_id: str, digest: str, person_id: str, issued: str) -> None:
        self.tokens[token_id] = {
            "hash": digest,
            "person": person_id,
            "issued": issued,
            "revoked": False,
        }

    def issue_for_session(self, person_id: str, now: datetime) -> str:
        """A token for a session opened by a sign-in link, never shown; returns its id. It is
        revoked when that session signs out, or when the person's tokens are revoked."""
        token = TOKEN_PREFIX + secrets.token_urlsafe(32)
        digest = token_hash(token)
        self._issued_for_session(digest[:12], digest, person_id, now.isoformat(timespec="seconds"))
        return digest[:12]

    @event("SessionTokenIssued")
    def _issued_for_session(self, token_id: str, digest: str, person_id: str, issued: str) -> None:
        self.tokens[token_id] = {
            "hash": digest,
            "person": person_id,
            "issued": issued,
            "revoked": False,
            "session": True,
        }

    def is_for_session(self, token_id: str) -> bool:
        """Whether this token was minted for a session a sign-in link opened (tokens issued
        before such tokens were told apart hold no mark, and count as personal ones)."""
        return bool(self.tokens.get(token_id, {}).get("session", False))

    def session_tokens_of(self, person_id: str) -> list[str]:
        return [t for t in self.held_by(person_id) if self.is_for_session(t)]

    def revoke(self, token_id: str) -> None:
        self._revoked(token_id)

    @event("TokenRevoked")
    def _revoked(self, token_id: str) -> None:
        self.tokens[token_id]["revoked"] = True

    def person_for(self, token: str) -> str | None:
        """Whose token this is, if it is one of ours and not revoked."""
        if not token.startswith(TOKEN_PREFIX):
            return None
        digest = token_hash(token)
        record = self.tokens.get(digest[:12])
        if record is None or not hmac.compare_digest(record["hash"], digest):
            return None
        return None if record["revoked"] else str(record["person"])

    def held_by(self, person_id: str) -> list[str]:
        return [
            token_id
            for token_id, record in self.tokens.items()
            if record["person"] == person_id and not record["revoked"]
        ]


# Stores written before the node was divided into rooms name these classes by their old path.
moved_from("node.credentials", __name__)
