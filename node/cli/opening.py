"""Opening the node for one command: the data folder option (and, in a host's folder, the
circle's), and the failures a command reports as one line and exit 1."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from domain.errors import DomainError
from node.network.own_feed import FeedBehind, IdentityError
from node.settings import Settings, SettingsError
from node.store.keyfiles import KeyFileError
from node.store.written_by import StoreTooNew

if TYPE_CHECKING:
    from node.app.node import CircleNode

DataOption = Annotated[
    Path | None,
    typer.Option(
        "--data", help="The node's data folder (default: $CIRCLE_NODE_DATA or ./circle-node-data)"
    ),
]

CircleOption = Annotated[
    str | None,
    typer.Option(
        "--circle",
        metavar="SLUG",
        help="The circle, when the data folder is a host's (`circle-node host list` lists them)",
    ),
]


def fail(message: str) -> typer.Exit:
    typer.secho(f"error: {message}", fg=typer.colors.RED, err=True)
    return typer.Exit(code=1)


class Failure(Exception):
    """A failure to report as one line and exit 1."""


FAILURES = (DomainError, KeyFileError, SettingsError, IdentityError, StoreTooNew, Failure)
SERVE_TO_TAKE_BACK = " (It takes its feed back from its peers while served: circle-node serve.)"


def load_settings(data: Path | None, flags: Mapping[str, Any] | None = None) -> Settings:
    """The settings of the node in `data`, with `flags` given on the command line (by setting:
    None for a flag not given)."""
    try:
        return Settings.load(data, flags)
    except SettingsError as error:
        raise fail(str(error)) from None


def require_node(settings: Settings) -> None:
    """Only `init` makes a node: any other command given a folder that holds none (a typo in
    `--data`, an empty folder, a host's folder) says so instead of making a new identity
    there."""
    from node.host.layout import is_host, slugs
    from node.network.identity import KEYS_FILE

    folder = settings.data_dir
    if not folder.is_dir():
        raise fail(f"no node in {folder}: the folder does not exist (`circle-node init` makes one)")
    if not any(folder.iterdir()):
        raise fail(f"no node in {folder}: the folder is empty (`circle-node init` makes one)")
    if is_host(folder):
        raise fail(
            f"{folder} is a host of circles ({', '.join(slugs(folder))}), not one node's folder"
        )
    if not (folder / KEYS_FILE).exists():
        raise fail(
            f"no node in {folder}: it holds no {KEYS_FILE} (restore it from a backup, "
            "or `circle-node init` a new node)"
        )


def node_settings(
    data: Path | None,
    circle: str | None,
    *,
    create: bool = False,
    flag: str = "--circle",
    settings: Settings | None = None,
) -> Settings:
    """The settings of the node a command works on: the data folder's own, or in a host's
    folder, those of the circle `circle` names (node/host/layout.py). A host's folder without
    a circle named, or a circle named for a single node's folder, is refused; so is a circle
    the host does not hold, unless `create` (`init --slug` adds it). `settings`: the folder's,
    if already loaded."""
    from node.host.layout import HostError, check_slug, circle_settings, holds_node, slugs

    settings = settings or load_settings(data)
    folder = settings.data_dir
    held = slugs(folder)
    if circle is None:
        if held and not holds_node(folder):
            act = "add one with --slug SLUG" if create else f"name one with {flag} SLUG"
            raise fail(f"{folder} is a host of circles ({', '.join(held)}): {act}")
        return settings
    if holds_node(folder):
        act = "a host's circles go in a folder of their own" if create else f"leave {flag} out"
        raise fail(
            f"{folder} holds a single node of its own ({folder / 'node.keys'}), not a host's "
            f"circles: {act}"
        )
    try:
        check_slug(circle)
    except HostError as error:
        raise fail(str(error)) from None
    if not create and circle not in held:
        there = f"its circles: {', '.join(held)}" if held else "it holds none"
        raise fail(f"no circle {circle!r} in {folder} ({there})")
    try:
        return circle_settings(settings, circle)
    except SettingsError as error:
        raise fail(str(error)) from None


@contextlib.contextmanager
def opened(
    data: Path | None,
    *,
    circle: str | None = None,
    create: bool = False,
    flag: str = "--circle",
    settings: Settings | None = None,
    moved_ok: bool = False,
) -> Iterator[tuple[CircleNode, Settings]]:
    """Open the node in the data folder, or the host's circle `circle` names (made there only
    with `create`: `init`), with its settings (loaded unless given: a host's, for a circle);
    any known failure becomes a message and exit 1. `flag` is the option that named the
    circle, for the messages. A circle that left its host (node/host/moved_marker.py) is refused,
    unless `moved_ok` (the release itself, finishing what it began)."""
    from eventsourcing.persistence import InterfaceError, OperationalError

    from node.app.persistence import open_node
    from node.host.moved_marker import moved_message, moved_to

    settings = node_settings(data, circle, create=create, flag=flag, settings=settings)
    if not create:
        require_node(settings)
    gone_to = moved_to(settings.data_dir)
    if gone_to is not None and not moved_ok:
        raise fail(moved_message(circle or str(settings.data_dir), gone_to))
    try:
        node = open_node(settings)
    except FAILURES as error:
        raise fail(str(error)) from None
    except (OperationalError, InterfaceError) as error:
        raise fail(_store_failure(error)) from None
    try:
        yield node, settings
    except FeedBehind as error:
        raise fail(str(error) + SERVE_TO_TAKE_BACK) from None
    except FAILURES as error:
        raise fail(str(error)) from None
    except (OperationalError, InterfaceError) as error:
        raise fail(_store_failure(error)) from None
    finally:
        node.close()


def _store_failure(error: Exception) -> str:
    """A store that cannot be reached or written (database down, disk full, read-only)."""
    return (
        f"the node's store cannot be reached or written ({error}); nothing was changed. "
        "Check the disk space and permissions of the data folder, or the database server."
    )
