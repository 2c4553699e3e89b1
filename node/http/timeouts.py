"""A deadline for each request to arrive: slow or stalled clients are cut off.

uvicorn closes a keep-alive connection that stays idle between requests (`timeout_keep_alive`),
but it sets no limit on how long a request may take to *arrive*: a client that connects and
sends nothing, sends its headers a byte at a time, or sends its headers and then stalls on the
body would hold the connection (and the handler waiting for the body) forever. This protocol
gives each request `request_timeout` seconds, from the connection (or its first byte) until the
last byte of its body; past that it answers 408 (when no response has started) and closes.
Once a request has fully arrived the deadline no longer applies: a slow handler is not cut off.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

import h11
from uvicorn.protocols.http.h11_impl import H11Protocol

DEFAULT_REQUEST_TIMEOUT = 30.0  # a 2 MiB push at 100 kB/s arrives in about 21 s
KEEP_ALIVE_TIMEOUT = 5  # seconds an idle connection is kept between requests

_PROBLEM = json.dumps(
    {
        "type": "about:blank",
        "title": "request timeout",
        "status": 408,
        "detail": "The request did not arrive in time",
        "reason": "request_timeout",
    }
).encode()
TIMEOUT_RESPONSE = (
    b"HTTP/1.1 408 Request Timeout\r\n"
    b"content-type: application/problem+json\r\n"
    b"content-length: " + str(len(_PROBLEM)).encode() + b"\r\n"
    b"connection: close\r\n\r\n" + _PROBLEM
)
_ARRIVED = (h11.DONE, h11.MUST_CLOSE, h11.CLOSED, h11.ERROR)


class TimedH11Protocol(H11Protocol):
    """uvicorn's h11 protocol with a deadline for each request to arrive."""

    request_timeout: float = DEFAULT_REQUEST_TIMEOUT

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._deadline: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm()  # a client that connects and sends nothing is cut off too

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def handle_events(self) -> None:
        super().handle_events()
        state = self.conn.their_state
        if state in _ARRIVED:
            self._disarm()  # the request is in: the handler takes the time it needs
        elif state is h11.SEND_BODY or self.conn.trailing_data[0]:
            self._arm()  # a request (its headers or its body) is on its way

    def _arm(self) -> None:
        if self._deadline is None:
            self._deadline = self.loop.call_later(self.request_timeout, self._expired)

    def _disarm(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None

    def _expired(self) -> None:
        self._deadline = None
        if self.transport.is_closing() or self.conn.their_state in _ARRIVED:
            return
        cycle = self.cycle  # the last request's, or this one's once its headers are in
        if cycle is None or cycle.response_complete or not cycle.response_started:
            self.transport.write(TIMEOUT_RESPONSE)
        # Closing tells a handler waiting for the body that the client is gone.
        self.transport.close()


def timed_protocol(request_timeout: float) -> type[TimedH11Protocol]:
    """The protocol class with this deadline (uvicorn takes a class, not an instance)."""
    return type("TimedH11Protocol", (TimedH11Protocol,), {"request_timeout": request_timeout})
