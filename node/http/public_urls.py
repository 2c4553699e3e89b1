"""Addresses built from the node's public URL (its configuration's `url`), for what is read
outside the node: calendar feeds, the Atom feed's links."""

from __future__ import annotations

from fastapi import Request

from node.http.served_circle import served


def public_url(request: Request) -> str:
    """The node's public URL, without a trailing slash."""
    return served(request).public_url


def calendar_url(request: Request, secret: str) -> str:
    """The address of a personal calendar feed (node/http/web/calendar_feed.py)."""
    return f"{public_url(request)}/calendar/{secret}.ics"
