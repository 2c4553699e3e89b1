"""What this node knows of a peer circle: its profile and public decisions, from its feed."""

from __future__ import annotations

from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate, event

from domain.records import Copied
from node.store.topics import moved_from


def peer_view_id(feed_id: bytes) -> UUID:
    return uuid5(NAMESPACE_URL, f"circle-node:peer-view:{feed_id.hex()}")


class PeerView(Copied, Aggregate):
    @staticmethod
    def create_id(feed_id: bytes, **kwargs: Any) -> UUID:
        return peer_view_id(feed_id)

    @event("Opened")
    def __init__(self, feed_id: bytes) -> None:
        self.feed_id = feed_id
        self.profile: dict[str, Any] = {}
        self.decisions: dict[str, dict[str, Any]] = {}
        self.up_to_seq = 0
        self.summary: dict[str, Any] = {}

    @event("RecordsSeen")
    def seen(
        self, up_to_seq: int, profile: dict[str, Any] | None, decisions: list[dict[str, Any]]
    ) -> None:
        """The peer's records as its entries up to `up_to_seq` say (latest record wins)."""
        if profile is not None:
            self.profile = profile
        for decision in decisions:
            self.decisions[decision["decision_id"]] = decision
        self.up_to_seq = up_to_seq

    @event("SummarySeen")
    def summary_seen(self, summary: dict[str, Any]) -> None:
        """A member circle's logbook summary (hat holders by person id; names kept apart)."""
        self.summary = summary


class RemotePerson(Copied, Aggregate):
    """The name of a person of another circle (a delegate, a hat wearer in a summary): kept
    apart, so that it can be erased when that circle says they asked for it."""

    @staticmethod
    def create_id(other: str, person: str, **kwargs: Any) -> UUID:
        return uuid5(NAMESPACE_URL, f"circle-node:remote-person:{other}:{person}")

    @event("Named")
    def __init__(self, other: str, person: str, name: str) -> None:
        self.other = other
        self.person = person
        self.name = name

    @event("Renamed")
    def rename(self, name: str) -> None:
        self.name = name


# Stores written before the node was divided into rooms name these classes by their old path.
moved_from("node.peer_view", __name__)
