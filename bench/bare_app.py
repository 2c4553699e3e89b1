"""The API scenario's baseline: a bare FastAPI endpoint doing one eventsourcing save (SQLite,
or PostgreSQL by BENCH_DATABASE_URL), served by uvicorn like the node.

`python -m uvicorn --factory bench.bare_app:create_app`, with BENCH_SQLITE naming the database
file (or BENCH_DATABASE_URL a postgresql:// URL, `?schema=` included).
"""

from __future__ import annotations

import os
from typing import Any
from uuid import UUID

from eventsourcing.application import Application
from eventsourcing.domain import Aggregate, event
from fastapi import FastAPI, status
from pydantic import BaseModel

from node.app.persistence import ensure_postgres_schema, postgres_env


class Note(Aggregate):
    """A minimal aggregate: one event, created with a line of text."""

    @event("Written")
    def __init__(self, process: str, person: str, concern: str) -> None:
        self.process = process
        self.person = person
        self.concern = concern


class Notes(Application[UUID]):
    name = "bare"


def _env() -> dict[str, str]:
    url = os.environ.get("BENCH_DATABASE_URL")
    if url:
        env = postgres_env(url)
        ensure_postgres_schema(env)
        return env
    return {
        "PERSISTENCE_MODULE": "eventsourcing.sqlite",
        "SQLITE_DBNAME": os.environ.get("BENCH_SQLITE", "bare.sqlite"),
        "SQLITE_LOCK_TIMEOUT": "10",
    }


class ConsentIn(BaseModel):
    concern: str = ""


def create_app() -> FastAPI:
    notes = Notes(env=_env())
    app = FastAPI()

    @app.get("/healthz")
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.post("/api/processes/{process_id}/consents", status_code=status.HTTP_201_CREATED)
    def consent(process_id: str, body: ConsentIn) -> dict[str, Any]:
        note = Note(process=process_id, person="someone", concern=body.concern)
        notes.save(note)
        return {"id": str(note.id), "consents": True, "text": body.concern}

    return app
