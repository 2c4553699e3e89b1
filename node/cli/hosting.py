"""The commands about a host's circles: `host list`, and `host release` (node/cli/leaving.py).
(`init --slug` adds a circle, `serve` serves them all, and every command about one node takes
`--circle`.)"""

from __future__ import annotations

import typer

from node.cli.leaving import release
from node.cli.opening import DataOption, fail, load_settings, opened

host_app = typer.Typer(
    help="A host's circles: many circles, each its own node, served by one process at /c/SLUG/.",
    no_args_is_help=True,
)


@host_app.command("list")
def host_list(data: DataOption = None) -> None:
    """List the host's circles: slug, name, node id, and place below the host's URL."""
    from node.host.layout import circle_folder, circle_path, holds_node, slugs
    from node.host.moved_marker import moved_to

    folder = load_settings(data).data_dir
    if holds_node(folder):
        raise fail(f"{folder} holds a single node of its own, not a host's circles")
    held = slugs(folder)
    if not held:
        raise fail(
            f"no circles in {folder} (`circle-node init --data {folder} --slug SLUG ...` adds one)"
        )
    for slug in held:
        url = moved_to(circle_folder(folder, slug))
        with opened(data, circle=slug, moved_ok=True) as (node, _):
            founded = node.records.is_founded
            name = node.records.get_circle().name if founded else "(not founded)"
            where = f"{circle_path(slug)}/" if url is None else f"moved to {url}"
            typer.echo(f"{slug}  {name}  {node.feed.node_id}  {where}")


host_app.command("release")(release)
