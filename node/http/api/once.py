"""The `Idempotency-Key` header of the member API: a change sent again with the same key is not
carried out twice (node/app/idempotency.py)."""

from __future__ import annotations

from typing import Annotated

import anyio
from fastapi import Header, Request

from node.app.idempotency import Mark, carried_out, carrying_out
from node.http.api.auth import node_of

CHANGES = frozenset({"POST", "PUT", "PATCH", "DELETE"})


async def once(
    request: Request,
    idempotency_key: Annotated[
        str | None,
        Header(
            alias="Idempotency-Key",
            min_length=1,
            max_length=200,
            pattern=r"^[\x21-\x7e]+$",
            description=(
                "Optional, for changes: a key of your own (say a random UUID), new for each "
                "request. Sent again with the same key (after a lost answer or a 503), a change "
                "is not carried out twice: it is answered 409 `already_done`; the same key with "
                "another request is answered 422 `key_reused`."
            ),
        ),
    ] = None,
) -> None:
    if idempotency_key is None or request.method not in CHANGES:
        return
    authorization = request.headers.get("authorization")
    if not authorization:
        return  # the route refuses it as unauthenticated anyway
    mark = Mark.of(
        authorization, idempotency_key, request.method, request.url.path, await request.body()
    )
    node = node_of(request)
    done = await anyio.to_thread.run_sync(node.request_carried_out, mark.record_id)
    if done is not None:
        carried_out(done, mark)
    # Seen by the route's command in its thread (each request has a context of its own).
    carrying_out.set(mark)
