"""A run of a peer's verified entries on its way to the store: the rows of the entries and of
the bodies they bind, and the run the effects see (entries with their bodies)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from federation.wire import Entry, SignedEntry, body_hash, encode
from node.store.recorders import BodyRow, EntryRow

Run = list[tuple[Entry, bytes | None]]


@dataclass
class VerifiedRun:
    """Verified entries of one peer's feed, ready to store in one save: their rows, the rows of
    the bodies they bind, and the run the effects see (entries with their bodies)."""

    entries: list[EntryRow] = field(default_factory=list)
    bodies: list[BodyRow] = field(default_factory=list)
    run: Run = field(default_factory=list)

    def cut(self, entries: int, bodies: int, run: int) -> None:
        """Drop what was added after these lengths (a page refused after being bound)."""
        del self.entries[entries:], self.bodies[bodies:], self.run[run:]

    def bind(
        self,
        feed_id: bytes,
        taken: list[tuple[SignedEntry, Entry]],
        bodies: Sequence[bytes],
        cipher: Any,
    ) -> None:
        """Add verified entries, with the bodies that came with them (encrypted with `cipher`,
        the store's, if any): a body is taken only if one of these entries names its hash and
        its size. An entry whose body has another length than its `body_size` is taken as if
        its body were withheld: the same whether or not the body was sent (a node not sent it
        cannot tell)."""
        by_hash = {body_hash(body): body for body in bodies} if bodies else {}
        entry_rows, body_rows, effects_run = self.entries, self.bodies, self.run
        for signed, entry in taken:
            entry_rows.append((feed_id, entry.seq, encode(signed)))
            body = by_hash.get(entry.body_hash) if entry.body_hash else None
            if body is not None and len(body) != entry.body_size:
                body = None
            if body is not None:
                data = cipher.encrypt(body) if cipher is not None else body
                body_rows.append((entry.body_hash, data, b"".join(entry.audience)))
            effects_run.append((entry, body))
