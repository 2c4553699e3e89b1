"""What a server is given to serve a circle, or every circle of a host (node/http/server.py,
node/http/background.py): its public URL, the intervals of its background work, its limits."""

from __future__ import annotations

from dataclasses import dataclass

from node.network.delivery import PULLS_AT_ONCE
from node.network.mail_sender import SmtpServer


@dataclass(frozen=True)
class ServerOptions:
    public_url: str
    pull_interval: float = 30.0
    # Pushes go out as soon as a node appends (node/network/deliveries.py); besides, every node's
    # outbox is looked at every `poll_interval` seconds, for what no one told of.
    poll_interval: float = 60.0
    # Peers pulled at once, over every circle of the process.
    pulls_at_once: int = PULLS_AT_ONCE
    # Seconds between a worker's attempts to take the lease that lets one worker of those
    # sharing a store pull and keep the calendar (node/store/leader_lease.py).
    lease_interval: float = 10.0
    request_timeout: float = 10.0
    # Threads that run the commands and queries (FastAPI runs each route in one). Writes to
    # the store take turns anyway, and a command is mostly Python holding the GIL: with a
    # few threads, requests wait their turn in order; with anyio's default of 40 they
    # contend for the GIL and the store's write lock, and the slowest wait longest
    # (bench/RESULTS.md, "API": the p99 latency with 40 threads against 4).
    threads: int = 4
    # Seconds between checks of the calendar (reviews due, terms over, processes lapsed).
    due_interval: float = 3600.0
    # Seconds the server waits, as it stops, for delivery's and the calendar's store work.
    stop_timeout: float = 30.0
    # The SMTP server mail goes through, and who it comes from (node/settings.py); without
    # them mail stays queued in the store, unsent. A letter queued is sent at once, and one
    # that failed when its backoff is over (node/network/mailing.py); besides, each circle's
    # queue is looked at every `mail_interval` seconds, for what no one told of.
    smtp: SmtpServer | None = None
    mail_from: str = ""
    mail_interval: float = 300.0
