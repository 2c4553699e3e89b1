"""Personal calendar links: each person's secret address of their calendar feed. Only hashes
are stored.

A secret is `cal_` followed by 43 random URL-safe characters (256 bits), shown once when it
is made; the node keeps its SHA-256 hash, under a short public id (the hash's first 12 hex
digits), as it keeps personal tokens (node/app/credentials.py). A person has at most one
link: making another replaces it. Looking a secret up hashes it first; the hash is compared
in constant time.
"""

from __future__ import annotations

import hmac
import secrets
from datetime import datetime
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate, event

from domain.records import Copied
from node.app.credentials import token_hash

CALENDAR_SECRETS_ID = uuid5(NAMESPACE_URL, "circle-node:calendar-secrets")
SECRET_PREFIX = "cal_"


class CalendarSecrets(Copied, Aggregate):
    """Every live calendar link on this node: by id, its hash, whose it is, when it was made."""

    @staticmethod
    def create_id(**kwargs: Any) -> UUID:
        return CALENDAR_SECRETS_ID

    @event("Opened")
    def __init__(self) -> None:
        # link id -> {"hash", "person", "made"}
        self.links: dict[str, dict[str, str]] = {}

    def make(self, person_id: str, now: datetime) -> str:
        """A new link for a person, replacing theirs if they had one; returns the secret,
        shown this once."""
        secret = SECRET_PREFIX + secrets.token_urlsafe(32)
        digest = token_hash(secret)
        self._made(digest[:12], digest, person_id, now.isoformat(timespec="seconds"))
        return secret

    @event("LinkMade")
    def _made(self, link_id: str, digest: str, person_id: str, made: str) -> None:
        self.links = {
            other: link for other, link in self.links.items() if link["person"] != person_id
        }
        self.links[link_id] = {"hash": digest, "person": person_id, "made": made}

    def revoke(self, person_id: str) -> None:
        self._revoked(person_id)

    @event("LinkRevoked")
    def _revoked(self, person_id: str) -> None:
        self.links = {
            other: link for other, link in self.links.items() if link["person"] != person_id
        }

    def made_for(self, person_id: str) -> str | None:
        """When the person's live link was made (ISO 8601), or None if they have none."""
        for link in self.links.values():
            if link["person"] == person_id:
                return link["made"]
        return None

    def person_for(self, secret: str) -> str | None:
        """Whose link this secret opens, if it is a live one of ours."""
        if not secret.startswith(SECRET_PREFIX):
            return None
        digest = token_hash(secret)
        link = self.links.get(digest[:12])
        if link is None or not hmac.compare_digest(link["hash"], digest):
            return None
        return link["person"]
