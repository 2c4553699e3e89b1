"""The member API's routes: a plain-function endpoint runs in a worker thread, and FastAPI
checks and encodes its answer on the event loop.

FastAPI runs a plain-function endpoint in a worker thread, then hands the answer to another
worker thread to check it against the response model: two hand-offs per request. Here the
endpoint is wrapped in a coroutine that runs it in a worker thread (the same limiter, the
same context variables), so FastAPI treats it as a coroutine and checks the answer where it
is, on the event loop: far less for the API's small answer models than a hand-off to a
thread (which also waits its turn among the request threads)."""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import Any

import anyio
from fastapi.routing import APIRoute


def _in_thread(endpoint: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(endpoint)  # FastAPI reads the parameters and answer through __wrapped__
    async def run(**arguments: Any) -> Any:
        return await anyio.to_thread.run_sync(functools.partial(endpoint, **arguments))

    return run


class ThreadedRoute(APIRoute):
    def __init__(self, path: str, endpoint: Callable[..., Any], **options: Any) -> None:
        if not inspect.iscoroutinefunction(endpoint):
            endpoint = _in_thread(endpoint)
        super().__init__(path, endpoint, **options)
