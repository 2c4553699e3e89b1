"""Reading what linked circles sent: a co-op's member circles (and, at a member circle, its
co-op), their records, decisions in force and minutes, with the names kept apart put back.
Their decisions come from their public decision records (`PeerView`), their records and
minutes from what they sent this circle (node/app/linked_view.py).

Queries only: the records are kept as they arrive (node/app/linked_view.py). Anyone signed in
at this node reads them (the co-op's minutes are open to all its members)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from domain.errors import NotFound
from domain.relationships import Relationship
from domain.values import IN_FORCE, CoopLink, DecisionStatus
from federation.feed import feed_id_from_node_id
from node.app.linked_view import LinkedMinutes, LinkedRecords, linked_minutes_id, linked_records_id
from node.app.records import CircleRecords
from node.app.relations import Relations

# How a linked circle is linked to this one, by the relationship's co-op link.
LINKS: dict[str, str] = {
    CoopLink.HAS_MEMBER: "member",
    CoopLink.WITHDRAWN: "withdrawn",
    CoopLink.MEMBER_OF: "coop",
}


@dataclass(frozen=True)
class LinkedCircle:
    circle: str  # its node id
    name: str
    link: str  # "member", "withdrawn" or "coop"
    records: dict[str, Any]  # its last `circle.records` (empty if none came), names put back
    minutes: int  # how many meetings' minutes it sent


@dataclass(frozen=True)
class LinkedDecision:
    decision: str
    kind: str
    title: str
    text: str
    status: str
    review_date: date
    review_due: bool


class LinkedCircles:
    """The records linked circles sent this one."""

    def __init__(self, records: CircleRecords, relations: Relations) -> None:
        self._records = records
        self._relations = relations

    def linked_circles(self) -> list[LinkedCircle]:
        """The circles that are, or were, part of this one, and the co-ops it is part of."""
        return [self._linked(rel) for rel in self._relations.relationships() if rel.coop in LINKS]

    def linked_circle(self, other: str) -> LinkedCircle:
        rel = self._relations.relationship(other)
        if rel.coop not in LINKS:
            raise NotFound("That circle is not part of this one, nor its co-op")
        return self._linked(rel)

    def decisions(self, other: str, reviews_due: bool = False) -> list[LinkedDecision]:
        """Its decisions in force (those due for review, if asked), soonest review first, from
        the public decision records this node took from its feed (one aggregate, kept as they
        arrive: PeerView)."""
        self.linked_circle(other)
        view = self._relations.peer_view(feed_id_from_node_id(other))
        today = self._records.today()
        found = []
        for d in view.decisions.values() if view is not None else ():
            if d["status"] not in IN_FORCE:
                continue
            review_date = date.fromisoformat(d["review_date"])
            due = d["status"] == DecisionStatus.REVIEW_DUE or review_date <= today
            if reviews_due and not due:
                continue
            found.append(
                LinkedDecision(
                    decision=d["decision_id"],
                    kind=d["kind"],
                    title=d["title"],
                    text=d["text"],
                    status=d["status"],
                    review_date=review_date,
                    review_due=due,
                )
            )
        return sorted(found, key=lambda d: (d.review_date, d.title))

    def minutes(self, other: str, offset: int, limit: int) -> tuple[list[LinkedMinutes], int]:
        """A window of the minutes it sent, the latest first, and how many there are: only
        the window's minutes are read."""
        self.linked_circle(other)
        kept = self._kept(other)
        meetings = list(reversed(kept.minutes)) if kept is not None else []
        window = meetings[offset : offset + limit]
        found = [
            self._records.get_record(
                LinkedMinutes, linked_minutes_id(other, meeting), "meeting's minutes"
            )
            for meeting in window
        ]
        return found, len(meetings)

    def _kept(self, other: str) -> LinkedRecords | None:
        try:
            return self._records.get_record(LinkedRecords, linked_records_id(other), "records")
        except NotFound:
            return None

    def _linked(self, rel: Relationship) -> LinkedCircle:
        kept = self._kept(rel.other)
        records = self._named(rel.other, kept.records) if kept is not None else {}
        return LinkedCircle(
            rel.other, rel.name, LINKS[rel.coop], records, len(kept.minutes) if kept else 0
        )

    def _named(self, other: str, records: dict[str, Any]) -> dict[str, Any]:
        """The records with the names of the people they name (kept apart) put back."""

        def name(person: str) -> str:
            return self._relations.remote_name(other, person)

        hats = [
            {
                **hat,
                "wearers": [{**w, "name": name(w["person"])} for w in hat["wearers"]],
                "back_stop_name": name(hat["back_stop"]) if hat["back_stop"] else "",
            }
            for hat in records.get("hats", [])
        ]
        return {**records, "hats": hats}
