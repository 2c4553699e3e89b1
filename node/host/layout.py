"""A host's data folder: its settings (`circle-node.toml`) at the top, and one complete node data
folder per circle at `circles/<slug>/`.

A folder with `node.keys` at its top is a single node's (today's layout, served at `/`); a folder
with circles is a host's. No folder is both: `init` refuses to make one so.
"""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from node.network.identity import KEYS_FILE
from node.settings import Settings, SettingsError

CIRCLES = "circles"
SLUG = re.compile(r"[a-z0-9](?:-?[a-z0-9])*")
MAX_SLUG = 40
# A circle's tables on PostgreSQL go in a schema of their own, named after the host's.
DEFAULT_SCHEMA = "circles"
# PostgreSQL cuts a name longer than this many bytes short, and two circles could then share
# one schema; its names here are ASCII (node/app/persistence.py), a byte a character.
MAX_SCHEMA = 63
SCHEMA = re.compile(r"[A-Za-z0-9_]+")


class HostError(Exception):
    """A host folder or a slug that cannot be used; the message says what to fix."""


def check_slug(slug: str) -> str:
    """The slug, if it can name a circle on a host (it is a path segment and a folder name)."""
    if len(slug) > MAX_SLUG or not SLUG.fullmatch(slug):
        raise HostError(
            f"{slug!r} cannot name a circle on a host: use 1 to {MAX_SLUG} lower-case letters "
            "and digits, with single hyphens between them (e.g. kitchen, north-garden)"
        )
    return slug


def holds_node(folder: Path) -> bool:
    """Whether the folder is a single node's (its keys at the top)."""
    return (folder / KEYS_FILE).exists()


def circle_folder(folder: Path, slug: str) -> Path:
    return folder / CIRCLES / check_slug(slug)


def slugs(folder: Path) -> list[str]:
    """The circles of the host in `folder`, by slug, in order: each folder of `circles/` that
    holds a node (one whose `init` failed half-way holds no keys, and is not one)."""
    circles = folder / CIRCLES
    if not circles.is_dir():
        return []
    return sorted(
        each.name for each in circles.iterdir() if SLUG.fullmatch(each.name) and holds_node(each)
    )


def is_host(folder: Path) -> bool:
    """Whether the folder is a host's: circles, and no node of its own at the top."""
    return not holds_node(folder) and bool(slugs(folder))


def circle_path(slug: str) -> str:
    """Where the circle is served on its host, below the host's URL: `/c/<slug>`."""
    return f"/c/{check_slug(slug)}"


def circle_url(host_url: str, slug: str) -> str:
    """The circle's public URL, its node's base URL (no trailing slash)."""
    return host_url.rstrip("/") + circle_path(slug)


def circle_settings(host: Settings, slug: str) -> Settings:
    """The settings of one circle of the host: the host's, with the circle's folder as its
    data folder and, on PostgreSQL, a schema of its own: the host URL's `?schema=S` (or
    `circles`), `_`, and the slug with `-` turned to `_`."""
    folder = circle_folder(host.data_dir, slug)
    if not host.database_url:
        return host.model_copy(update={"data_dir": folder})
    parts = urlsplit(host.database_url)
    query = [(key, value) for key, value in parse_qsl(parts.query) if key != "schema"]
    given = dict(parse_qsl(parts.query)).get("schema") or DEFAULT_SCHEMA
    if not SCHEMA.fullmatch(given):
        raise SettingsError(
            f"the host's ?schema= in its database_url, {given!r}, must be ASCII letters, "
            "digits and underscores only"
        )
    schema = f"{given}_{slug.replace('-', '_')}"
    if len(schema.encode("utf-8")) > MAX_SCHEMA:
        raise SettingsError(
            f"the schema of circle {slug!r}, {schema}, is longer than PostgreSQL's "
            f"{MAX_SCHEMA} bytes: give the host a shorter ?schema= in its database_url"
        )
    url = urlunsplit(parts._replace(query=urlencode([*query, ("schema", schema)])))
    return host.model_copy(update={"data_dir": folder, "database_url": url})
