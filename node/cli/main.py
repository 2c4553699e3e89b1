"""The `circle-node` command line: the app, composed of the commands of each theme in the order
`circle-node --help` lists them."""

from __future__ import annotations

import typer

from node.cli.archives import backup, export, restore, verify
from node.cli.circle import init, logbook, people, token_app
from node.cli.network import catch_up, join, move, peer_app, recover, rotate_key, show_id
from node.cli.serving import demo, serve

app = typer.Typer(
    help="circle-node: self-hosted software for sociocratic circles.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)

app.command()(demo)
app.command()(init)
app.command()(logbook)
app.command("id")(show_id)
app.command()(serve)
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
