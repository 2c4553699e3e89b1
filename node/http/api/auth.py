"""Who is calling: the person a personal token belongs to."""

from __future__ import annotations

import logging
from typing import Annotated

import anyio
from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from node.app.node import CircleNode
from node.http.api.errors import Problem
from node.http.front import client_address
from node.http.ratelimit import RateLimiter

log = logging.getLogger("circle_node.api")

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
    # Wrong tokens are counted per client, as sign-ins are: over the limit, a client's tokens
    # are not even looked at until its bucket refills (429).
    client = client_address(request)
    guesses: RateLimiter = request.app.state.token_limiter
    if guesses.refusing(client):
        raise _too_many(guesses, client)
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
        log.info("a wrong personal token from %s", client)
        if not guesses.allow(client):
            raise _too_many(guesses, client)
        raise Problem(
            401,
            "unauthenticated",
            "That token is unknown, revoked, or belongs to someone who has left the circle",
            {"WWW-Authenticate": "Bearer"},
        )
    return found


def _too_many(guesses: RateLimiter, client: str) -> Problem:
    log.warning("wrong personal tokens from %s are over the limit", client)
    return Problem(
        429,
        "rate_limited",
        "Too many wrong personal tokens from your address; try again after Retry-After seconds",
        {"Retry-After": str(guesses.retry_after(client))},
    )


async def _node(request: Request) -> CircleNode:
    # A coroutine: FastAPI runs a plain function dependency in a worker thread, a hand-off
    # per request (bench/RESULTS.md, "API") for an attribute lookup.
    return node_of(request)


Node = Annotated[CircleNode, Depends(_node)]
Person = Annotated[str, Depends(person)]
