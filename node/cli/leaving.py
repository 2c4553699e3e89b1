"""`circle-node host release`: a circle leaves its host (node/host/leaving.py).

In this order, so that a failure at any step leaves nothing the host may sign: the marker
first (from then on the host signs nothing for the circle, serves only its feed's public
reads, and runs no work for it), then the signed `node.moved` entry, then the backup, which
holds that entry. Run again with the same URL, it finishes what an interrupted run began.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from node.cli.opening import CircleOption, DataOption, Failure, fail, load_settings, opened


def release(
    path: Annotated[Path, typer.Argument(help="Where to write the circle's backup (a .tar file)")],
    to: Annotated[
        str,
        typer.Option(
            "--to", metavar="URL", help="The circle's new URL, where it will be restored and served"
        ),
    ],
    data: DataOption = None,
    circle: CircleOption = None,
) -> None:
    """A circle leaves this host: the host stops serving and signing for it (410 Gone, naming
    URL), its feed says it moved to URL (a signed `node.moved`), and its backup is written to
    PATH, for `circle-node restore` where URL is served."""
    from federation.wire import is_base_url
    from node.cli.backup import BackupError, backup
    from node.host.layout import holds_node
    from node.host.moved_marker import mark_moved, moved_to
    from node.store.retry import retry_on_conflict

    url = to.rstrip("/")
    if not is_base_url(url):
        raise fail(
            f"{url!r} is not a node's base URL (http:// or https://, e.g. "
            "https://coop.example/c/kitchen)"
        )
    host = load_settings(data)
    if holds_node(host.data_dir):
        raise fail(
            f"{host.data_dir} holds a single node, not a host's circles: a single node moves "
            "with `circle-node move URL` (PROTOCOL.md 10.7)"
        )
    if circle is None:
        raise fail("name the circle that leaves with --circle SLUG (`circle-node host list`)")
    if not path.parent.is_dir():
        raise fail(f"cannot write the backup to {path}: {path.parent} is not a folder")
    with opened(data, circle=circle, settings=host, moved_ok=True) as (node, settings):
        folder = settings.data_dir
        node_id = node.feed.node_id
        earlier = moved_to(folder)
        if earlier is not None and earlier != url:
            raise Failure(f"circle {circle!r} has already left this host for {earlier}")
        if node.feed.keys is None:
            raise Failure(f"circle {circle!r} has no keys: it is no node of the federation")
        if node.take_back.pending:
            raise Failure(
                f"circle {circle!r} is taking its feed back after a restore and may not sign "
                "yet; serve it until it has (circle-node serve), then release it"
            )
        if earlier is None:
            mark_moved(folder, url)
        own = node.feed.own_feed()
        if own.url == url:  # an earlier run signed it: nothing was signed after it
            seq = own.head
        else:
            try:
                seq = retry_on_conflict(node.feed.announce_url)(url)
            except ValueError as error:
                raise Failure(str(error)) from None
        try:
            names = backup(settings, path)
        except (BackupError, OSError) as error:
            raise Failure(
                f"the circle has left this host, but its backup could not be written to {path} "
                f"({error}); run this command again to write it"
            ) from None
    typer.echo(
        f"Circle {circle!r} (node {node_id}) has left this host: it says at entry "
        f"{seq} that it is served at {url}, and this host now answers 410 Gone for it."
    )
    typer.echo(f"Wrote {path}: {', '.join(names)}")
    typer.echo(
        f"Restore it where {url} is served (circle-node restore --data NEWHOST --circle SLUG "
        f"{path.name}) and serve it there; it takes its feed back from its peers, then signs."
    )
