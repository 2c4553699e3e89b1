"""Telling the other processes on a PostgreSQL store that a node appended to its own feed, so
that whichever of them delivers to a peer pushes at once instead of at its next look.

A save that appends is followed by a notification (`NOTIFY`) on one channel, its payload naming
the store (`scope`: its schema and tables). Each process listens on one connection of its own
per database, outside the store's pool, and hears every store's notifications there (its own
too, which it ignores: it wakes itself directly). A store that one process serves alone
(SQLite, memory) needs none.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

log = logging.getLogger("circle_node.store.notices")

CHANNEL = "circle_node_appended"


def this_process() -> str:
    """What names the process that sends a notification, in its payload after the scope: a
    process does not need to hear its own (it wakes itself directly)."""
    return f"{socket.gethostname()}:{os.getpid()}"


def payload(scope: str) -> str:
    return f"{scope} {this_process()}"


@dataclass(frozen=True)
class NoticeSource:
    """Where a store's notifications are heard: its database (`connect_kwargs`, for psycopg)
    and its name in the payload (`scope`)."""

    connect_kwargs: Mapping[str, Any]
    scope: str

    @property
    def database(self) -> tuple[Any, ...]:
        """What tells one database from another: one listening connection serves each."""
        kwargs = self.connect_kwargs
        return tuple(kwargs.get(key) for key in ("host", "port", "dbname", "user"))


async def listen(
    source: NoticeSource,
    heard: Callable[[str], None],
    connected: Callable[[], None],
) -> None:
    """Listen on `source`'s database until cancelled: `heard(scope)` for each notification,
    `connected()` each time the connection is made (notifications sent while there was none are
    lost: the caller looks at everything then). A lost connection is made again after a while;
    the failure is logged once per outage."""
    import psycopg

    delay, failing = 1.0, False
    while True:
        try:
            async with await psycopg.AsyncConnection.connect(
                **source.connect_kwargs, autocommit=True
            ) as connection:
                await connection.execute(f"LISTEN {CHANNEL}")
                if failing:
                    log.info("listening for appends again")
                delay, failing = 1.0, False
                connected()
                me = this_process()
                async for notice in connection.notifies():
                    scope, _, sender = notice.payload.partition(" ")
                    if sender != me:
                        heard(scope)
        except psycopg.Error as error:
            # Not an error of its own: the safety poll finds the appends meanwhile, and a store
            # that is down is said once by the background work (node/network/store_outage.py).
            if not failing:
                log.info("not listening for appends (looking now and then instead): %s", error)
            failing = True
        await asyncio.sleep(delay)
        delay = min(delay * 2, 60.0)
