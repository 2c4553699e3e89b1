"""Web pages for members: server-rendered (Jinja2), usable without JavaScript."""

from __future__ import annotations

from fastapi import APIRouter


def web_router() -> APIRouter:
    """The members' pages (the network page at / is served by node.server for now)."""
    return APIRouter()
