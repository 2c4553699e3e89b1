"""A store outage in the log as two lines: one when the store starts failing the node's
background work, one when it serves it again; not a traceback at every round in between.

The background tasks (delivery's pushes and pulls, the mail sender, the calendar) each try
again after a while. While the store cannot be reached or written, each of their rounds fails
the same way: `failed` tells a task whether its error is the store's (then the outage is
logged once, as it starts, and the task says nothing more), and `served` is told each round
that went through. The outage is over when a task that failed in it goes through again; a
task that never failed proves nothing (a round that only read works on a read-only store).
"""

from __future__ import annotations

import logging

from eventsourcing.persistence import InterfaceError, OperationalError

log = logging.getLogger("circle_node.store")

# The store's own failures: the database down or unreachable, a full disk, a read-only file.
# (A conflict, IntegrityError, is other writers winning a race, not an outage.)
UNAVAILABLE = (OperationalError, InterfaceError)


class StoreOutage:
    """What the background tasks know of the store's state, shared by all of them."""

    def __init__(self) -> None:
        self._failing: set[str] = set()

    @property
    def down(self) -> bool:
        return bool(self._failing)

    def failed(self, task: str, error: BaseException) -> bool:
        """`task`'s round failed with `error`: True when it is the store's (logged once per
        outage, here), False for anything else (the task logs it in full)."""
        if not isinstance(error, UNAVAILABLE):
            return False
        if not self._failing:
            log.warning(
                "the store cannot be reached or written (%s): background work waits for it "
                "and tries again",
                _first_line(error),
            )
        self._failing.add(task)
        return True

    def served(self, task: str) -> None:
        """`task`'s round went through."""
        if task in self._failing:
            self._failing.clear()
            log.warning("the store serves background work again (%s went through)", task)


def _first_line(error: BaseException) -> str:
    return (str(error).strip().splitlines() or [type(error).__name__])[0]
