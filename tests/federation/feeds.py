"""Builders for feed tests: deterministic keys and a feed with a few entries."""

from __future__ import annotations

from dataclasses import dataclass, field

from federation.feed import FeedState, KeyEpoch, append, incept, rotate
from federation.keys import NodeKeys
from federation.verify import decode_entry, verify_inception
from federation.wire import SignedEntry

TYPES = frozenset({"note", "decision.taken"})


def keys(n: int) -> NodeKeys:
    return NodeKeys.from_seeds(bytes([n]) * 32, bytes([n + 100]) * 32)


@dataclass
class Feed:
    """An author's feed and, beside it, what a fresh receiver knows after the inception."""

    keys: NodeKeys
    state: FeedState
    inception: SignedEntry
    entries: list[SignedEntry] = field(default_factory=list)

    @classmethod
    def start(cls, seed: int = 1) -> Feed:
        author_keys = keys(seed)
        inception, state = incept(author_keys, 1_700_000_000_000)
        return cls(author_keys, state, inception)

    def add(self, type: str = "note", body: bytes | None = b"body", **kw: object) -> SignedEntry:
        signed, self.state = append(
            self.state,
            self.keys,
            type,
            body,
            1_700_000_000_000 + self.state.next_seq,
            **kw,  # type: ignore[arg-type]
        )
        self.entries.append(signed)
        return signed

    def rotate(self) -> SignedEntry:
        signed, self.state, self.keys = rotate(self.state, self.keys, 1_700_000_000_500)
        self.entries.append(signed)
        return signed

    def receiver(self) -> FeedState:
        return verify_inception(self.inception)

    def hash_at(self, seq: int) -> bytes | None:
        if seq == 0:
            return self.inception.hash
        if 1 <= seq <= len(self.entries):
            return self.entries[seq - 1].hash
        return None

    def epochs(self) -> list[KeyEpoch]:
        """The feed's key epochs, as a receiver holding all of it knows them."""
        held = [self.inception, *self.entries]
        return [
            KeyEpoch(entry.seq, entry.keys.current, entry.keys.next_digest)
            for entry in map(decode_entry, held)
            if entry.keys is not None
        ]
