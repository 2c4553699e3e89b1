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
from node.http.ratelimit import Limiter
from node.http.served_circle import served

log = logging.getLogger("circle_node.api")


def node_of(request: Request) -> CircleNode:
    return served(request).node


class PersonalToken(HTTPBearer):
    """The dependency that answers who is calling: the person a personal token belongs to.

    A subclass of FastAPI's HTTPBearer, documented as it (the spec's `HTTPBearer` scheme),
    so that reading the header and checking the token are one dependency of each route
    instead of two: FastAPI's work for each dependency, on the event loop, is most of what
    they cost."""

    def __init__(self) -> None:
        super().__init__(
            scheme_name="HTTPBearer", auto_error=False, description="A personal token (cn_...)"
        )

    async def __call__(self, request: Request) -> str:  # type: ignore[override]
        return await person(request, await super().__call__(request))


async def person(request: Request, credentials: HTTPAuthorizationCredentials | None) -> str:
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
    guesses: Limiter = served(request).token_limiter
    node = node_of(request)

    def look_up() -> tuple[int | None, str | None]:
        # (seconds to wait if the client is over its limit, the token's person)
        if guesses.refusing(client):
            return guesses.retry_after(client), None
        return None, node.tokens.person_for_token(credentials.credentials)

    if node.store.reads_are_local:
        # Two reads (the client's bucket on a kept read connection, the credentials and the
        # circle in one), quick on SQLite: cheaper here than a hand-off to a thread (the
        # route's own hand-off follows). A store across a network is read off the event loop.
        wait, found = look_up()
    else:
        wait, found = await anyio.to_thread.run_sync(look_up)
    if wait is not None:
        raise _too_many(wait, client)
    if found is None:
        log.info("a wrong personal token from %s", client)
        # Counted in the store (a write): off the event loop.
        wait = await anyio.to_thread.run_sync(_counted, guesses, client)
        if wait is not None:
            raise _too_many(wait, client)
        raise Problem(
            401,
            "unauthenticated",
            "That token is unknown, revoked, or belongs to someone who has left the circle",
            {"WWW-Authenticate": "Bearer"},
        )
    return found


def _counted(guesses: Limiter, client: str) -> int | None:
    """Count a wrong token from `client`: None if it is within its limit, else the seconds to
    wait."""
    return None if guesses.allow(client) else guesses.retry_after(client)


def _too_many(wait: int, client: str) -> Problem:
    log.warning("wrong personal tokens from %s are over the limit", client)
    return Problem(
        429,
        "rate_limited",
        "Too many wrong personal tokens from your address; try again after Retry-After seconds",
        {"Retry-After": str(wait)},
    )


async def _node(request: Request) -> CircleNode:
    # A coroutine: FastAPI runs a plain function dependency in a worker thread, a hand-off
    # per request (bench/RESULTS.md, "API") for an attribute lookup.
    return node_of(request)


Node = Annotated[CircleNode, Depends(_node)]
Person = Annotated[str, Depends(PersonalToken())]
