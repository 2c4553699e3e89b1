"""Structured logs: one JSON object per line. No token, key or personal name is ever passed to
a logger; as a second guard, anything that looks like a personal token is masked.

Each line carries the context it was written in: the request's id (`REQUEST_ID`, set for each
request by node/http/front.py), the circle (`CIRCLE`, set by whoever serves several circles),
and the peer a delivery line is about (`extra={"peer": ...}`). Context variables follow the
work into its tasks, so that a background line carries its own context and never a request's.
"""

from __future__ import annotations

import contextlib
import json
import logging
import re
from collections.abc import Iterator
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any, TextIO

_TOKEN = re.compile(r"cn_[A-Za-z0-9_-]{20,}")
# One encoder for every line: `json.dumps` with an option makes an encoder per call.
_JSON = json.JSONEncoder(ensure_ascii=False)

REQUEST_ID: ContextVar[str | None] = ContextVar("request_id", default=None)
CIRCLE: ContextVar[str | None] = ContextVar("circle", default=None)

# What a line may carry besides its message, in this order: its context, and an access
# line's request (node/http/front.py).
FIELDS = ("request_id", "circle", "peer", "method", "path", "status", "duration_ms", "client")
LEVELS = {
    "debug": logging.DEBUG,
    "info": logging.INFO,
    "warning": logging.WARNING,
    "error": logging.ERROR,
}


@contextlib.contextmanager
def in_circle(slug: str | None) -> Iterator[None]:
    """Lines written inside (and in the tasks started inside) name the circle."""
    token = CIRCLE.set(slug)
    try:
        yield
    finally:
        CIRCLE.reset(token)


def about_peer(peer: str) -> dict[str, Any]:
    """`extra` for a line about one peer: `log.warning(..., extra=about_peer(node_id))`."""
    return {"peer": peer}


class ContextFilter(logging.Filter):
    """Gives each record the request id and the circle of the context it was written in
    (unless the call gave its own)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "request_id", None) is None:
            record.request_id = REQUEST_ID.get()
        if getattr(record, "circle", None) is None:
            record.circle = CIRCLE.get()
        return True


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": _TOKEN.sub("cn_[masked]", record.getMessage()),
        }
        for name in FIELDS:
            value = getattr(record, name, None)
            if value is not None:
                entry[name] = _TOKEN.sub("cn_[masked]", value) if isinstance(value, str) else value
        if record.exc_info:
            entry["error"] = _TOKEN.sub("cn_[masked]", self.formatException(record.exc_info))
        return _JSON.encode(entry)


def configure(stream: TextIO, level: int | str = logging.INFO) -> None:
    """Send the node's and the web server's logs to `stream` as JSON lines, from `level` up
    (a number, or `debug`, `info`, `warning`, `error`)."""
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    handler.addFilter(ContextFilter())
    number = LEVELS[level] if isinstance(level, str) else level
    for name in ("circle_node", "uvicorn", "uvicorn.error"):
        logger = logging.getLogger(name)
        logger.handlers = [handler]
        logger.setLevel(number)
        logger.propagate = False
