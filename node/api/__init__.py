"""The member API (`/api/...`): JSON for everything the circle's domain offers.

Each person signs in with their personal token (`Authorization: Bearer cn_...`); what they may
do follows the domain: their participation level and the hats they wear. Errors are
`application/problem+json` (RFC 9457) with a readable message; lists are paginated.
"""

from __future__ import annotations

from fastapi import APIRouter

from node.api.circle import router as circle_routes


def api_router() -> APIRouter:
    router = APIRouter(prefix="/api")
    router.include_router(circle_routes)
    return router
