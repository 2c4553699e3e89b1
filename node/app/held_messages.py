"""Messages of other circles that were taken but not applied yet, to apply once they may be.

A peer's entries are always stored when they verify (the feed is the source of truth), but
what their messages say does not always take effect at once (PROTOCOL.md 11.2):

- while this node's circle is not founded, no message can take effect (there is no circle to
  change); they take effect once it is founded;
- an applicant's messages take effect only once its circle is admitted (and never if it is not);
- the introductions of a node this one asked to join are followed only once it admits this
  node.

Such messages are held here, by the sender's node id and seq, in the save that takes them, and
applied in a later save once they may take effect (`release`, node/app/node.py). None is
dropped: a message either takes effect, is refused (the refusal recorded), or stays held.
"""

from __future__ import annotations

from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate, event

from domain.records import Copied

HELD_MESSAGES_ID = uuid5(NAMESPACE_URL, "circle-node:held-messages")


class HeldMessages(Copied, Aggregate):
    """The seqs of the messages held back, by the node id of their sender."""

    @staticmethod
    def create_id(**kwargs: Any) -> UUID:
        return HELD_MESSAGES_ID

    @event("Opened")
    def __init__(self) -> None:
        self.held: dict[str, list[int]] = {}

    def hold(self, other: str, seq: int) -> None:
        if seq not in self.held.get(other, ()):
            self._held(other, seq)

    @event("Held")
    def _held(self, other: str, seq: int) -> None:
        self.held.setdefault(other, []).append(seq)

    def release(self, other: str, seqs: list[int]) -> None:
        """These messages took effect (or were refused): they are held no longer."""
        if set(seqs) & set(self.held.get(other, ())):
            self._released(other, seqs)

    @event("Released")
    def _released(self, other: str, seqs: list[int]) -> None:
        left = [seq for seq in self.held.get(other, []) if seq not in seqs]
        if left:
            self.held[other] = left
        else:
            self.held.pop(other, None)
