"""The `circle-node` command line: the app, composed of the commands of each theme in the order
`circle-node --help` lists them."""

from __future__ import annotations

from typing import Annotated

import typer

from node.cli.archives import backup, export, restore, verify
from node.cli.circle import init, logbook, people, token_app
from node.cli.hosting import host_app
from node.cli.network import catch_up, join, move, peer_app, recover, rotate_key, show_id
from node.cli.serving import demo, serve
from node.store.written_by import running_version

app = typer.Typer(
    help="circle-node: self-hosted software for sociocratic circles.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)


def installed_version() -> str:
    """The version of circle-node installed (pyproject.toml's), or `unknown` when it runs from
    a checkout that was never installed."""
    return running_version() or "unknown"


def show_version(given: bool) -> None:
    if given:
        typer.echo(f"circle-node {installed_version()}")
        raise typer.Exit()


@app.callback()
def main(
    _version: Annotated[
        bool,
        typer.Option(
            "--version",
            help="Print the version and exit",
            callback=show_version,
            is_eager=True,
        ),
    ] = False,
) -> None:
    """circle-node: self-hosted software for sociocratic circles."""


app.command()(demo)
app.command()(init)
app.command()(logbook)
app.command("id")(show_id)
app.command()(serve)
app.add_typer(host_app, name="host")
app.add_typer(peer_app, name="peer")
app.command()(join)
app.command("rotate-key")(rotate_key)
app.command()(move)
app.command()(recover)
app.add_typer(token_app, name="token")
app.command()(people)
app.command()(export)
app.command()(verify)
app.command()(backup)
app.command()(restore)
app.command("catch-up")(catch_up)
