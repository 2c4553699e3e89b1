"""Who is calling: the person a personal token belongs to."""

from __future__ import annotations

from typing import Annotated

import anyio
from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from node.app.node import CircleNode
from node.http.api.errors import Problem

_bearer = HTTPBearer(auto_error=False, description="A personal token (cn_...)")


def node_of(request: Request) -> CircleNode:
    node: CircleNode = request.app.state.node
    return node


async def person(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> str:
    """The person id of the caller; 401 without a valid token of someone still in the circle."""
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise Problem(
            401,
            "unauthenticated",
            "Sign in with your personal token",
            {"WWW-Authenticate": "Bearer"},
        )
    node = node_of(request)
    if node.store.reads_are_local:
        # Two reads of kept aggregates, quick on SQLite: cheaper here than a hand-off
        # to a thread (the route's own hand-off follows). A store across a network is read
        # off the event loop.
        found = node.tokens.person_for_token(credentials.credentials)
    else:
        found = await anyio.to_thread.run_sync(
            node.tokens.person_for_token, credentials.credentials
        )
    if found is None:
        raise Problem(
            401,
            "unauthenticated",
            "That token is unknown, revoked, or belongs to someone who has left the circle",
            {"WWW-Authenticate": "Bearer"},
        )
    return found


async def _node(request: Request) -> CircleNode:
    # A coroutine: FastAPI runs a plain function dependency in a worker thread, a hand-off
    # per request (bench/RESULTS.md, "API") for an attribute lookup.
    return node_of(request)


Node = Annotated[CircleNode, Depends(_node)]
Person = Annotated[str, Depends(person)]
