"""The commands about the circle and its people: found it, list its people, issue and revoke
their tokens, print its logbook."""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, TextIO

import typer

from node.cli.opening import CircleOption, DataOption, Failure, fail, opened


def init(
    name: Annotated[str, typer.Option(help="The circle's name")],
    aim: Annotated[
        str,
        typer.Option(
            help="The circle's aim, a draft: the circle forms it together by consent "
            "before it becomes active"
        ),
    ],
    domain: Annotated[str, typer.Option(help="What the circle decides about")],
    founder: Annotated[str, typer.Option(help="The founder's name")],
    kind: Annotated[str, typer.Option(help="general, purpose, team, local or helping")] = "general",
    parent: Annotated[str | None, typer.Option(help="The broader circle, if any")] = None,
    data: DataOption = None,
    slug: Annotated[
        str | None,
        typer.Option(
            metavar="SLUG",
            help="Add the circle to the host in the data folder, served at /c/SLUG/ "
            "(lower-case letters, digits and hyphens)",
        ),
    ] = None,
    token_file: Annotated[
        Path | None,
        typer.Option(
            "--token-file",
            metavar="FILE",
            help="Write the founder's personal token to FILE (mode 0600) instead of showing "
            "it: for a script whose output goes to a log",
        ),
    ] = None,
) -> None:
    """Create a node and found its circle (with --slug, one more circle of a host)."""
    with (
        _kept_in(token_file) as kept,
        opened(data, circle=slug, create=True, flag="--slug") as (node, settings),
    ):
        founder_id = node.circle.found_circle(
            name=name, aim=aim, domain=domain, founder_name=founder, kind=kind, parent=parent
        )
        _, token = node.tokens.issue_token(founder_id)
        typer.echo(f"Founded {name!r} in {settings.data_dir}; node id {node.feed.node_id}")
        if slug is not None:
            typer.echo(f"Its place on the host: /c/{slug}/ below the URL the host is served at")
        typer.echo(f"Founder's person id: {founder_id}")
        if kept is None:
            typer.echo(f"Founder's personal token (shown this once; keep it safe): {token}")
        else:
            kept.write(token + "\n")
            typer.echo(f"Founder's personal token: in {token_file} (read it once, then delete it)")


@contextlib.contextmanager
def _kept_in(path: Path | None) -> Iterator[TextIO | None]:
    """Where the founder's token goes: a file of mode 0600 beside `path`, made before anything
    is founded (so that a token is never issued with nowhere to go), put in `path`'s place once
    the founding is done, and removed if it fails."""
    if path is None:
        yield None
        return
    try:
        fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")  # mode 0600
    except OSError as error:
        raise fail(f"cannot write the token file {path}: {error.strerror or error}") from None
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as kept:
            yield kept
        os.replace(temporary, path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)


def logbook(data: DataOption = None, circle: CircleOption = None) -> None:
    """Print the circle's logbook, whole (lines about confidential items marked so)."""
    from node.app.logbook import read_logbook

    with opened(data, circle=circle) as (node, settings):
        if not node.records.is_founded:
            raise Failure(f"No circle in {settings.data_dir}; run `circle-node init` first")
        for entry in read_logbook(node):
            marked = "(confidential) " if entry.confidential else ""
            typer.echo(f"{entry.at:%Y-%m-%d %H:%M %z}  {marked}{entry.text}")


def people(data: DataOption = None, circle: CircleOption = None) -> None:
    """List the circle's people with their ids, levels and status."""
    with opened(data, circle=circle) as (node, _):
        founded = node.records.get_circle()
        for participant in founded.participants.values():
            if "/" in participant.person_id:
                continue
            hats = ", ".join(founded.hats_worn_by(participant.person_id))
            typer.echo(
                f"{participant.person_id}  {node.records.person_name(participant.person_id):24} "
                f"{participant.level:8} {participant.status:12} {hats}"
            )


token_app = typer.Typer(help="Personal tokens with which members sign in.", no_args_is_help=True)


@token_app.command("issue")
def token_issue(
    person: Annotated[str, typer.Argument(help="The person id (see `circle-node people`)")],
    data: DataOption = None,
    circle: CircleOption = None,
) -> None:
    """Issue a personal token for someone of the circle (shown this once)."""
    with opened(data, circle=circle) as (node, _):
        token_id, token = node.tokens.issue_token(person)
        typer.echo(
            f"Token {token_id} for {node.records.person_name(person)} (shown this once): {token}"
        )


@token_app.command("revoke")
def token_revoke(
    token_id: Annotated[str, typer.Argument(help="The token's id (its first 12 characters)")],
    data: DataOption = None,
    circle: CircleOption = None,
) -> None:
    """Revoke a personal token."""
    with opened(data, circle=circle) as (node, _):
        node.tokens.revoke_token(token_id)
        typer.echo(f"Revoked token {token_id}")
