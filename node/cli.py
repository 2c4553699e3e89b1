"""The `circle-node` command line."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Annotated

import typer

from domain.errors import DomainError
from node.keyfiles import KeyFileError
from node.settings import Settings, SettingsError

app = typer.Typer(
    help="circle-node: self-hosted software for sociocratic circles.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)

DataOption = Annotated[
    Path | None,
    typer.Option(
        "--data", help="The node's data folder (default: $CIRCLE_NODE_DATA or ./circle-node-data)"
    ),
]


def _fail(message: str) -> typer.Exit:
    typer.secho(f"error: {message}", fg=typer.colors.RED, err=True)
    return typer.Exit(code=1)


def _settings(data: Path | None) -> Settings:
    try:
        return Settings.load(data)
    except SettingsError as error:
        raise _fail(str(error)) from None


@app.command()
def demo(
    keep: Annotated[bool, typer.Option(help="Keep the demo's data folder afterwards")] = False,
) -> None:
    """Run a circle's story on a fresh node (SQLite in a temporary folder) and print its logbook."""
    from node.demo import main

    folder = main()
    if keep:
        typer.echo(f"\nThe node's data is kept in {folder}")
    else:
        shutil.rmtree(folder, ignore_errors=True)


@app.command()
def init(
    name: Annotated[str, typer.Option(help="The circle's name")],
    aim: Annotated[str, typer.Option(help="The circle's aim")],
    domain: Annotated[str, typer.Option(help="What the circle decides about")],
    founder: Annotated[str, typer.Option(help="The founder's name")],
    kind: Annotated[str, typer.Option(help="general, purpose, team, local or helping")] = "general",
    parent: Annotated[str | None, typer.Option(help="The broader circle, if any")] = None,
    data: DataOption = None,
) -> None:
    """Create a node and found its circle."""
    from node.persistence import open_node

    settings = _settings(data)
    try:
        node = open_node(settings)
        try:
            founder_id = node.found_circle(
                name=name, aim=aim, domain=domain, founder_name=founder, kind=kind, parent=parent
            )
        finally:
            node.close()
    except (DomainError, KeyFileError, SettingsError) as error:
        raise _fail(str(error)) from None
    typer.echo(f"Founded {name!r} in {settings.data_dir}; founder's person id: {founder_id}")


@app.command()
def logbook(data: DataOption = None) -> None:
    """Print the circle's logbook."""
    from node.logbook import read_logbook
    from node.persistence import open_node

    settings = _settings(data)
    try:
        node = open_node(settings)
        try:
            if not node.is_founded:
                raise _fail(f"No circle in {settings.data_dir}; run `circle-node init` first")
            for entry in read_logbook(node):
                typer.echo(f"{entry.when:%Y-%m-%d}  {entry.text}")
        finally:
            node.close()
    except (DomainError, KeyFileError, SettingsError) as error:
        raise _fail(str(error)) from None
