"""The circle's decisions in force, as a member circle's summary reads them (the policies in
force, the reviews come due), kept up to date as decisions change instead of read from every
decision at each change (node/app/published_records.py `summaries`).

It is built from every filed decision the first time it is read, a few hundred decisions
to a read of the store and none of them kept in memory beyond its lists (a node that restarts
reads a large circle's decisions in few reads, not one by one), and from then on brought up
to date from the store's notifications after the last one it saw: the decisions their events
name are read again (a command's own save hands over its decisions as saved, `saved`). Events
saved by another thread or worker are found the same way, so a node on a shared store reads
what every worker saved. Each use then costs what changed since the last, not the circle's
history. The node keeps it in memory only: nothing of it is stored, so any store opens.
"""

from __future__ import annotations

import threading
from bisect import bisect_right, insort
from collections.abc import Callable, Iterable, Sequence
from datetime import date
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate
from eventsourcing.utils import get_topic

from domain.decision import Decision
from domain.values import DecisionKind
from node.app.notified import notified_since
from node.store.application import NodeStore


def _decision_topics() -> tuple[str, ...]:
    """The topics of a decision's events, as the store names them."""
    classes = {
        cls
        for cls in vars(Decision).values()
        if isinstance(cls, type) and issubclass(cls, Decision.Event)
    }
    return tuple(sorted(get_topic(cls) for cls in classes))


TOPICS = _decision_topics()


class DecisionsInForce:
    """The titles of the policies in force and the review dates of the decisions in force,
    by decision, brought up to date from the store at each read."""

    def __init__(self, store: NodeStore, decision_ids: Callable[[], Sequence[UUID]]) -> None:
        self._store = store
        self._decision_ids = decision_ids  # every filed decision's, in the order filed
        self._lock = threading.Lock()  # held while the lists are read or changed
        self._catching = threading.Lock()  # one catch-up at a time: none puts back older state
        self._position: int | None = None  # the last notification seen; None: not built
        self._policies: dict[UUID, str] = {}  # title, of each policy in force
        self._reviews: dict[UUID, tuple[date, str]] = {}  # review date and title, in force
        self._by_review: list[tuple[date, str]] = []  # (review date, id), sorted

    def lists(self, today: date, pending: Sequence[Decision] = ()) -> tuple[list[str], list[str]]:
        """The titles of the policies in force and of the decisions due for review on `today`,
        each sorted, as the store holds them with `pending` (changed, not yet saved) as they
        are now."""
        self.catch_up()
        changed = {decision.id for decision in pending}
        with self._lock:
            policies = [t for i, t in self._policies.items() if i not in changed]
            last_due = bisect_right(self._by_review, (today, "~"))
            due = [
                self._reviews[UUID(i)][1]
                for _, i in self._by_review[:last_due]
                if UUID(i) not in changed
            ]
        policies += [d.title for d in pending if d.in_force and d.kind == DecisionKind.POLICY]
        due += [d.title for d in pending if d.is_review_due(today)]
        return sorted(policies), sorted(due)

    def saved(self, aggregates: Iterable[Aggregate]) -> None:
        """A save of this node stored these aggregates: brought up to date now (if built), its
        decisions taken as saved, so the next read finds nothing left to read."""
        decisions = [a for a in aggregates if isinstance(a, Decision)]
        if decisions and self._position is not None:
            self.catch_up(decisions)

    def catch_up(self, saved: Sequence[Decision] = ()) -> None:
        """Read the decisions changed since the last notification seen (all of them, the
        first time)."""
        with self._catching:
            self._catch_up(saved)

    def _catch_up(self, saved: Sequence[Decision]) -> None:
        recorder: Any = self._store.recorder
        top = recorder.max_notification_id() or 0
        position = self._position
        if position is None or top < position:  # not built, or a store restored under it
            self._build(top)
            return
        if top == position:
            return
        versions: dict[UUID, int] = {}
        for notification in notified_since(recorder, position + 1, top, TOPICS):
            versions[notification.originator_id] = notification.originator_version
        as_saved = {d.id: d for d in saved}
        changed = []
        for decision_id, version in versions.items():
            decision = as_saved.get(decision_id)
            if decision is None or decision.version != version or decision.pending_events:
                decision = self._store.kept.peek(decision_id)
            changed.append(decision)
        with self._lock:
            for decision in changed:
                self._put(decision)
            self._position = max(top, self._position or 0)

    def _build(self, top: int) -> None:
        """Every filed decision as stored now (any change from `top` on is read again next
        time), read a chunk at a time into fresh lists, which replace the old at once."""
        policies: dict[UUID, str] = {}
        reviews: dict[UUID, tuple[date, str]] = {}
        ids = list(dict.fromkeys(self._decision_ids()))  # a record filed twice counts once
        for decision in self._store.kept.replay_all(ids):
            if not isinstance(decision, Decision) or not decision.in_force:
                continue
            if decision.kind == DecisionKind.POLICY:
                policies[decision.id] = decision.title
            reviews[decision.id] = (decision.review_date, decision.title)
        by_review = sorted((review, str(i)) for i, (review, _) in reviews.items())
        with self._lock:
            self._policies, self._reviews, self._by_review = policies, reviews, by_review
            self._position = top

    def _put(self, decision: Decision) -> None:
        """Record the decision as it is now (under the lock)."""
        self._policies.pop(decision.id, None)
        held = self._reviews.pop(decision.id, None)
        if held is not None:
            entry = (held[0], str(decision.id))
            at = bisect_right(self._by_review, entry) - 1
            if at >= 0 and self._by_review[at] == entry:
                del self._by_review[at]
        if not decision.in_force:
            return
        if decision.kind == DecisionKind.POLICY:
            self._policies[decision.id] = decision.title
        self._reviews[decision.id] = (decision.review_date, decision.title)
        insort(self._by_review, (decision.review_date, str(decision.id)))
