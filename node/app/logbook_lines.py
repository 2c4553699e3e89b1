"""The logbook's lines as the store grows, so that a page of it is told alone: which events
are told (their notifications, in order, each line's kind and whether it is confidential), and
what the telling learnt of the records on the way (titles, hat names, circles' names), kept
with the notification that taught it. A page then reads only its own events and tells them as
a reading from the start would (node/app/logbook.py `read_logbook`), whatever the length of
the circle's history: names of people, seats and peers are read as they are now, as there.

The node keeps it in memory, per node, brought up to date from the store's notifications after
the last one it saw at each page asked (events from any worker); an erasure (which deletes told
events) has it told again from the start. Nothing of it is stored, so any store opens.
"""

from __future__ import annotations

import threading
import weakref
from array import array
from collections.abc import Sequence
from typing import Any

from domain.meeting import reads_confidential
from node.app.confidential import is_confidential
from node.app.event_classes import Circle
from node.app.logbook import PAGE, Context, LogbookEntry, describer, told
from node.app.logbook_kinds import LineKind, LineKinds
from node.app.node import CircleNode

_KINDS = list(LineKind)
# Two lines of a page at most this many events apart are read in one run, with the events
# between them: a page reads at most this many events per line.
RUN_GAP = 8


class LearntAsOf:
    """What the telling learnt, each value with the notification that taught it (and whether
    that was a confidential event's, which a guest's reading never told): read as of `at`,
    for a reader who reads confidential events or not. Set while the lines are read; a page's
    telling sets nothing (what it would set was learnt already)."""

    def __init__(self) -> None:
        self.values: dict[str, list[tuple[int, bool, str]]] = {}
        self.at = 0
        self.confidential = False  # of the event now told (while learning)
        self.learning = True
        self.reads_confidential = True  # the reader's (while telling a page)

    def __setitem__(self, key: str, value: str) -> None:
        if self.learning:
            self.values.setdefault(key, []).append((self.at, self.confidential, value))

    def get(self, key: str, default: str) -> str:
        for at, confidential, value in reversed(self.values.get(key, ())):
            if at <= self.at and (self.reads_confidential or not confidential):
                return value
        return default

    def view(self, reads_confidential: bool) -> LearntAsOf:
        """The same values, to tell a page with (its own position)."""
        other = LearntAsOf()
        other.values, other.learning, other.reads_confidential = (
            self.values,
            False,
            reads_confidential,
        )
        return other


class LogbookLines:
    """The lines of one node's logbook (module docstring)."""

    def __init__(self, node: CircleNode) -> None:
        self._node = node
        self._lock = threading.Lock()
        self._start()

    def _start(self) -> None:
        self._position = 0  # the last notification read
        self._fresh_to = 0  # read from the start up to here: its erasures are read already
        self._ids = array("q")  # each line's notification, in order
        self._kinds = array("b")  # each line's kind, as its index in LineKind
        self._open = array("q")  # the lines a guest reads (not confidential), by their index
        # The lines of each kind (by its index in LineKind), by their index: all of them, and
        # those a guest reads.
        self._of_kind = {
            (whole, kind): array("q") for whole in (True, False) for kind in range(len(_KINDS))
        }
        self._learnt = (LearntAsOf(), LearntAsOf(), LearntAsOf())
        self._line_kinds = LineKinds()

    def page(
        self, level: str | None, offset: int, limit: int, kind: str | None = None
    ) -> tuple[list[LogbookEntry], int]:
        """The lines from `offset` on, at most `limit`, oldest first, as a participant of
        `level` reads them (None: the whole record), of `kind` only if given, and how many
        lines they read in all."""
        with self._lock:
            self._catch_up()
            whole = level is None or reads_confidential(level)
            chosen: array[int] | None = self._open if not whole else None
            if kind is not None:
                chosen = self._of_kind[whole, _KINDS.index(LineKind(kind))]
            total = len(self._ids) if chosen is None else len(chosen)
            lines = range(offset, min(offset + limit, total))
            at = list(lines) if chosen is None else [chosen[n] for n in lines]
            ids = [self._ids[n] for n in at]
            kinds = [_KINDS[self._kinds[n]] for n in at]
        return self._tell(ids, kinds, whole), total

    def _tell(self, ids: list[int], kinds: Sequence[str], whole: bool) -> list[LogbookEntry]:
        if not ids:
            return []
        store = self._node.store
        by_id = {notification.id: notification for notification in _read(store, ids)}
        views = tuple(learnt.view(whole) for learnt in self._learnt)
        context = Context(self._node, views)  # type: ignore[arg-type]
        entries = []
        for notification_id, kind in zip(ids, kinds, strict=True):
            notification = by_id.get(notification_id)
            if notification is None:  # erased since the lines were read: read next time
                continue
            event: Any = store.mapper.to_domain_event(notification)
            for view in views:
                view.at = notification_id
            describe = describer(type(event))
            assert describe is not None
            entries.append(told(event, describe, context, kind))
        return entries

    def _catch_up(self) -> None:
        """Read the events stored since the last read (under the lock)."""
        store = self._node.store
        top = store.recorder.max_notification_id() or 0
        if top < self._position:  # a store restored under a running node
            self._start()
        if not self._position:
            self._fresh_to = top
        context = Context(self._node, self._learnt)  # type: ignore[arg-type]
        while self._position < top:
            found = store.recorder.select_notifications(self._position + 1, PAGE, stop=top)
            if not found:
                break
            for notification in found:
                event: Any = store.mapper.to_domain_event(notification)
                if (
                    isinstance(event, Circle.PersonalDataErased)
                    and notification.id > self._fresh_to
                ):
                    # Told events of the person went with their data: read again from the
                    # start, what is left of them (the erasure is read there, not again).
                    self._start()
                    self._fresh_to = top
                    context = Context(self._node, self._learnt)  # type: ignore[arg-type]
                    break
                self._learn(notification.id, event, context)
                self._position = notification.id

    def _learn(self, notification_id: int, event: Any, context: Context) -> None:
        describe = describer(type(event))
        if describe is None:
            return
        confidential = is_confidential(type(event))
        for learnt in self._learnt:
            learnt.at, learnt.confidential = notification_id, confidential
        describe(event, context)  # for what it learns of the records; its text is told later
        kind = _KINDS.index(LineKind(self._line_kinds(type(event), str(event.originator_id))))
        line = len(self._ids)
        if not confidential:
            self._open.append(line)
            self._of_kind[False, kind].append(line)
        self._of_kind[True, kind].append(line)
        self._ids.append(notification_id)
        self._kinds.append(kind)


def _read(store: Any, ids: list[int]) -> list[Any]:
    """The notifications of these ids (ascending), in runs of nearby ones: one read of the
    store for a page of lines next to each other, a few for lines far apart (a page of one
    kind), never the events between distant lines."""
    found: list[Any] = []
    start = previous = ids[0]
    for notification_id in [*ids[1:], None]:
        if notification_id is not None and notification_id - previous <= RUN_GAP:
            previous = notification_id
            continue
        found += store.recorder.select_notifications(start, previous - start + 1, stop=previous)
        if notification_id is not None:
            start = previous = notification_id
    return found


_LINES: weakref.WeakKeyDictionary[CircleNode, LogbookLines] = weakref.WeakKeyDictionary()
_MADE = threading.Lock()


def logbook_page(
    node: CircleNode, level: str | None, offset: int, limit: int, kind: str | None = None
) -> tuple[list[LogbookEntry], int]:
    """A page of the node's logbook as a participant of `level` reads it (of `kind` only, if
    given), and its number of lines (LogbookLines.page)."""
    with _MADE:
        lines = _LINES.get(node)
        if lines is None:
            lines = _LINES[node] = LogbookLines(node)
    return lines.page(level, offset, limit, kind)
