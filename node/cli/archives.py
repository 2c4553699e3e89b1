"""The commands that write and read archives: `export` and `verify` the circle's portable
archive, `backup` and `restore` the node's data folder."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from node.cli.opening import (
    CircleOption,
    DataOption,
    Failure,
    fail,
    load_settings,
    node_settings,
    opened,
    require_node,
)
from node.cli.progress import progress_bar


def export(
    path: Annotated[Path, typer.Argument(help="Where to write the archive (one file)")],
    data: DataOption = None,
    circle: CircleOption = None,
) -> None:
    """Write a portable archive of the circle's feed, bodies and logbook."""
    from node.app.archive import export_archive

    with opened(data, circle=circle) as (node, _):
        try:
            manifest = export_archive(node, path, progress_bar("exporting"))
        except OSError as error:
            raise Failure(f"could not write {path}: {error}") from None
        typer.echo(f"Wrote {path}: {manifest['entries']} entries, {manifest['bodies']} bodies")


def verify(
    path: Annotated[Path, typer.Argument(help="An archive written by `circle-node export`")],
) -> None:
    """Check an exported archive offline; names the first thing that does not verify."""
    from node.app.archive import ArchiveError, verify_archive
    from node.app.node import KNOWN_TYPES

    try:
        result = verify_archive(path, KNOWN_TYPES, progress_bar("verifying"))
    except ArchiveError as error:
        raise fail(f"{path} does not verify: {error}") from None
    typer.echo(
        f"{path} verifies: {result.entries} entries of node {result.node_id} "
        f"({result.circle}), {result.bodies} bodies, {result.logbook_lines} logbook lines"
    )


def backup(
    path: Annotated[Path, typer.Argument(help="Where to write the backup (a .tar file)")],
    data: DataOption = None,
    circle: CircleOption = None,
) -> None:
    """Back up the node: its store (SQLite or PostgreSQL), keys and config (it may keep running).
    On a host, `--circle SLUG` backs up that circle, a node of its own."""
    from node.cli.backup import BackupError
    from node.cli.backup import backup as write_backup

    settings = node_settings(data, circle)
    require_node(settings)
    try:
        names = write_backup(settings, path)
    except (BackupError, OSError) as error:
        raise fail(f"could not back up {settings.data_dir}: {error}") from None
    typer.echo(f"Wrote {path}: {', '.join(names)}")


def restore(
    path: Annotated[Path, typer.Argument(help="A backup written by `circle-node backup`")],
    data: DataOption = None,
    circle: CircleOption = None,
) -> None:
    """Restore a backup into an empty data folder (and an empty PostgreSQL store, for a node on
    PostgreSQL); checks every file and the node's whole feed before it says it is done. On a
    host (or a new folder made one), `--circle SLUG` restores it as that circle, which must
    not be there yet."""
    from node.cli.backup import BackupError
    from node.cli.restore import restore as read_backup
    from node.host.layout import is_host, slugs
    from node.network.take_back import TAKE_BACK_FILE

    host = load_settings(data)
    if circle is None and is_host(host.data_dir):
        raise fail(
            f"{host.data_dir} is a host of circles ({', '.join(slugs(host.data_dir))}): "
            "restore a circle into it with --circle SLUG"
        )
    if circle is not None and circle in slugs(host.data_dir):
        raise fail(
            f"{host.data_dir} already holds a circle {circle!r}: restore it under another "
            "slug, or into another host"
        )
    settings = host if circle is None else node_settings(data, circle, create=True, settings=host)
    # A circle's store is the one its host gives it (its own schema on PostgreSQL): its
    # settings as loaded, password and all, not loaded again from the backup's file.
    given = settings if circle is not None else None
    try:
        restored = read_backup(path, settings.data_dir, progress_bar("restoring"), given)
    except (BackupError, OSError) as error:
        raise fail(f"could not restore {path}: {error}") from None
    typer.echo(
        f"Restored {', '.join(restored.names)} into {settings.data_dir}: node "
        f"{restored.node_id}, its feed verified to entry {restored.head}"
    )
    if (settings.data_dir / TAKE_BACK_FILE).exists():
        typer.echo(
            "When it is next served (circle-node serve) it takes back, from its peers, the "
            "entries it published after this backup; until then it publishes nothing."
        )
