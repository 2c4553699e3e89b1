"""Structured logs: one JSON object per line. No token, key or personal name is ever passed to
a logger; as a second guard, anything that looks like a personal token is masked."""

from __future__ import annotations

import json
import logging
import re
from datetime import UTC, datetime
from typing import TextIO

_TOKEN = re.compile(r"cn_[A-Za-z0-9_-]{20,}")


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": _TOKEN.sub("cn_[masked]", record.getMessage()),
        }
        if record.exc_info:
            entry["error"] = _TOKEN.sub("cn_[masked]", self.formatException(record.exc_info))
        return json.dumps(entry, ensure_ascii=False)


def configure(stream: TextIO, level: int = logging.INFO) -> None:
    """Send the node's and the web server's logs to `stream` as JSON lines."""
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    for name in ("circle_node", "uvicorn", "uvicorn.error"):
        logger = logging.getLogger(name)
        logger.handlers = [handler]
        logger.setLevel(level)
        logger.propagate = False
