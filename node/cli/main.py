"""The `circle-node` command line."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import shutil
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from domain.errors import DomainError
from node.network.own_feed import IdentityError
from node.settings import Settings, SettingsError
from node.store.keyfiles import KeyFileError

if TYPE_CHECKING:
    from node.app.node import CircleNode

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


class _Failure(Exception):
    """A failure to report as one line and exit 1."""


FAILURES = (DomainError, KeyFileError, SettingsError, IdentityError, _Failure)


def _settings(data: Path | None) -> Settings:
    try:
        return Settings.load(data)
    except SettingsError as error:
        raise _fail(str(error)) from None


@app.command()
def demo(
    one_circle: Annotated[
        bool, typer.Option("--one-circle", help="One circle's story on a single node instead")
    ] = False,
    keep: Annotated[bool, typer.Option(help="Keep the demo's data folder afterwards")] = False,
) -> None:
    """A federation of four circle nodes on this machine tells its story, on SQLite in a
    temporary folder; with --one-circle, one circle's consent story and its logbook."""
    import sys
    import tempfile

    from node.demo.story import main, network_main

    if one_circle:
        folder = main()
    else:
        folder = Path(tempfile.mkdtemp(prefix="circle-node-network-"))
        try:
            network_main(folder, linger=sys.stdin.isatty() and not keep)
        except (TimeoutError, RuntimeError) as error:
            shutil.rmtree(folder, ignore_errors=True)
            raise _fail(f"the demo could not finish: {error}") from None
    if keep:
        typer.echo(f"\nThe nodes' data is kept in {folder}")
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
    with _opened(data) as (node, settings):
        founder_id = node.circle.found_circle(
            name=name, aim=aim, domain=domain, founder_name=founder, kind=kind, parent=parent
        )
        _, token = node.tokens.issue_token(founder_id)
        typer.echo(f"Founded {name!r} in {settings.data_dir}; node id {node.feed.node_id}")
        typer.echo(f"Founder's person id: {founder_id}")
        typer.echo(f"Founder's personal token (shown this once; keep it safe): {token}")


@app.command()
def logbook(data: DataOption = None) -> None:
    """Print the circle's logbook."""
    from node.app.logbook import read_logbook

    with _opened(data) as (node, settings):
        if not node.records.is_founded:
            raise _Failure(f"No circle in {settings.data_dir}; run `circle-node init` first")
        for entry in read_logbook(node):
            typer.echo(f"{entry.when:%Y-%m-%d}  {entry.text}")


@contextlib.contextmanager
def _opened(data: Path | None) -> Iterator[tuple[CircleNode, Settings]]:
    """Open the node in the data folder; any known failure becomes a message and exit 1."""
    from eventsourcing.persistence import InterfaceError, OperationalError

    from node.app.persistence import open_node

    settings = _settings(data)
    try:
        node = open_node(settings)
    except FAILURES as error:
        raise _fail(str(error)) from None
    except (OperationalError, InterfaceError) as error:
        raise _fail(_store_failure(error)) from None
    try:
        yield node, settings
    except FAILURES as error:
        raise _fail(str(error)) from None
    except (OperationalError, InterfaceError) as error:
        raise _fail(_store_failure(error)) from None
    finally:
        node.close()


def _store_failure(error: Exception) -> str:
    """A store that cannot be reached or written (database down, disk full, read-only)."""
    return (
        f"the node's store cannot be reached or written ({error}); nothing was changed. "
        "Check the disk space and permissions of the data folder, or the database server."
    )


@app.command("id")
def show_id(data: DataOption = None) -> None:
    """Print this node's id (the hash of its inception entry)."""
    with _opened(data) as (node, _):
        typer.echo(node.feed.node_id)


@app.command()
def serve(
    data: DataOption = None,
    host: Annotated[
        str, typer.Option(help="Address to listen on", envvar="CIRCLE_NODE_HOST")
    ] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on", envvar="CIRCLE_NODE_PORT")] = 8470,
    url: Annotated[
        str | None,
        typer.Option(
            help="The URL peers reach this node at (default http://HOST:PORT)",
            envvar="CIRCLE_NODE_URL",
        ),
    ] = None,
    pull_interval: Annotated[
        float,
        typer.Option(help="Seconds between pulls from peers", envvar="CIRCLE_NODE_PULL_INTERVAL"),
    ] = 30.0,
    request_timeout: Annotated[
        float,
        typer.Option(
            help="Seconds a request may take to arrive (headers and body); slower clients get "
            "408 and are cut off",
            envvar="CIRCLE_NODE_REQUEST_TIMEOUT",
            min=0.1,
        ),
    ] = 30.0,
    threads: Annotated[
        int,
        typer.Option(
            help="Threads that carry out requests (commands and queries); more only help a "
            "store on PostgreSQL, whose reads wait on the network",
            envvar="CIRCLE_NODE_THREADS",
            min=1,
            max=256,
        ),
    ] = 4,
) -> None:
    """Serve the node: the federation API, with delivery to and from peers."""
    import uvicorn

    from node.http.server import ServerOptions, create_app
    from node.http.timeouts import KEEP_ALIVE_TIMEOUT, timed_protocol
    from node.logs import configure as configure_logs
    from node.network.identity import KeyStore

    with _opened(data) as (node, settings):
        assert node.feed.keys is not None
        options = ServerOptions(
            public_url=url or f"http://{host}:{port}",
            pull_interval=pull_interval,
            threads=threads,
        )
        server_app = create_app(node, KeyStore(settings.data_dir, node.feed.keys), options)
        typer.echo(f"Serving node {node.feed.node_id} at {options.public_url}")
        configure_logs(sys.stderr)
        out_of_the_collectors_way()
        uvicorn.run(
            server_app,
            host=host,
            port=port,
            log_config=None,
            access_log=False,
            http=timed_protocol(request_timeout),  # slow or stalled clients are cut off
            timeout_keep_alive=KEEP_ALIVE_TIMEOUT,
        )


def out_of_the_collectors_way() -> None:
    """What exists once the server is built lives as long as the process (the libraries, the
    app, the node and its kept circle): the garbage collector leaves it alone from now on. Its
    full collections would otherwise walk all of it, and a command that makes many objects
    waits on them (a policy adopted at 1,000 decisions: 24 ms instead of 13, measured)."""
    gc.collect()  # garbage now is not kept for ever
    gc.freeze()


peer_app = typer.Typer(help="The nodes this one exchanges feeds with.", no_args_is_help=True)
app.add_typer(peer_app, name="peer")


@peer_app.command("add")
def peer_add(
    url: Annotated[str, typer.Argument(help="The peer's base URL, e.g. https://coop.example")],
    expect: Annotated[
        str | None, typer.Option(help="The node id you were given for it (checked)")
    ] = None,
    data: DataOption = None,
) -> None:
    """Add a peer by URL: its descriptor is fetched and its identity checked."""
    from federation.feed import feed_id_from_node_id, node_id
    from federation.verify import Rejected

    with _opened(data) as (node, _):
        try:
            descriptor = asyncio.run(_fetch_descriptor(url.rstrip("/")))
        except Exception as error:  # network errors of any kind: report, do not trace
            raise _Failure(f"could not reach {url}: {error}") from None
        if expect is not None:
            try:
                expected = feed_id_from_node_id(expect)
            except ValueError as error:
                raise _Failure(str(error)) from None
            if expected != descriptor.feed:
                raise _Failure(f"{url} is node {node_id(descriptor.feed)}, not {expect}")
        try:
            feed_id = node.peering.add_peer(descriptor, url.rstrip("/"))
        except (Rejected, ValueError) as error:
            raise _Failure(f"{url} does not prove its identity: {error}") from None
        typer.echo(f"Added peer {descriptor.name!r}: {node_id(feed_id)}")


async def _fetch_descriptor(url: str) -> Any:
    import aiohttp

    from federation.client import FederationClient

    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10)) as session:
        return await FederationClient(session).descriptor(url)


@peer_app.command("list")
def peer_list(data: DataOption = None) -> None:
    """List peers: status, how much of their feed is held, and how much of ours they have."""
    from federation.feed import node_id

    with _opened(data) as (node, _):
        own_head = node.feed.own_feed().head
        for peer in node.peering.peers():
            held = node.peering.peer_feed(peer.feed_id).next_seq - 1
            status = "STOPPED (equivocation)" if peer.stopped else peer.status
            line = f"{node_id(peer.feed_id)}  {status:10}  {peer.name or '-'}  {peer.url or '-'}"
            line += f"  holds their seq {held}"
            if peer.status == "peer":
                delivered = node.outbox.delivery(peer.feed_id).next_seq - 1
                line += f", delivered {delivered}/{own_head}"
            typer.echo(line)


@app.command()
def join(
    url: Annotated[str, typer.Argument(help="The URL of a node of the network, e.g. a co-op's")],
    own_url: Annotated[str, typer.Option("--url", help="The URL others reach this node at")],
    message: Annotated[str, typer.Option(help="A word to the circle you ask")] = "",
    data: DataOption = None,
) -> None:
    """Ask a node to admit this circle to the network (its circle decides by consent)."""
    from federation.client import TransportError
    from node.app.joining import join_network

    with _opened(data) as (node, _):
        try:
            asyncio.run(join_network(node, url.rstrip("/"), own_url, message))
        except (TransportError, ValueError) as error:
            raise _Failure(f"could not ask {url}: {error}") from None
        typer.echo(
            f"Asked {url} to admit {node.records.get_circle().name!r}; its circle will decide"
        )


@app.command("rotate-key")
def rotate_key(data: DataOption = None) -> None:
    """Rotate the node's signing key to the pre-committed next key."""
    from node.app.persistence import rotate_node_key

    with _opened(data) as (node, settings):
        rotate_node_key(node, settings)
        typer.echo(f"Rotated the key of node {node.feed.node_id}; peers follow it from the feed")


@peer_app.command("remove")
def peer_remove(
    node_id_text: Annotated[str, typer.Argument(metavar="NODE_ID", help="The peer's node id")],
    data: DataOption = None,
) -> None:
    """Stop exchanging feeds with a peer (what is held of its feed stays, and still verifies)."""
    from federation.feed import feed_id_from_node_id

    with _opened(data) as (node, _):
        try:
            feed_id = feed_id_from_node_id(node_id_text)
        except ValueError as error:
            raise _Failure(str(error)) from None
        if not node.peering.remove_peer(feed_id):
            raise _Failure(f"{node_id_text} is not a peer of this node")
        typer.echo(f"Removed peer {node_id_text}")


token_app = typer.Typer(help="Personal tokens with which members sign in.", no_args_is_help=True)
app.add_typer(token_app, name="token")


@token_app.command("issue")
def token_issue(
    person: Annotated[str, typer.Argument(help="The person id (see `circle-node people`)")],
    data: DataOption = None,
) -> None:
    """Issue a personal token for someone of the circle (shown this once)."""
    with _opened(data) as (node, _):
        token_id, token = node.tokens.issue_token(person)
        typer.echo(
            f"Token {token_id} for {node.records.person_name(person)} (shown this once): {token}"
        )


@token_app.command("revoke")
def token_revoke(
    token_id: Annotated[str, typer.Argument(help="The token's id (its first 12 characters)")],
    data: DataOption = None,
) -> None:
    """Revoke a personal token."""
    with _opened(data) as (node, _):
        node.tokens.revoke_token(token_id)
        typer.echo(f"Revoked token {token_id}")


@app.command()
def people(data: DataOption = None) -> None:
    """List the circle's people with their ids, levels and status."""
    with _opened(data) as (node, _):
        circle = node.records.get_circle()
        for participant in circle.participants.values():
            if "/" in participant.person_id:
                continue
            hats = ", ".join(circle.hats_worn_by(participant.person_id))
            typer.echo(
                f"{participant.person_id}  {node.records.person_name(participant.person_id):24} "
                f"{participant.level:8} {participant.status:12} {hats}"
            )


def _progress_bar(label: str) -> Any:
    """A progress callback drawing on the terminal (stderr), one bar per kind of work."""
    bars: dict[str, Any] = {}

    def progress(what: str, done: int, total: int) -> None:
        bar = bars.get(what)
        if bar is None:
            bar = bars[what] = typer.progressbar(
                length=total, label=f"{label} {what}", file=sys.stderr
            )
            bar.__enter__()
        bar.update(done - bar.pos)
        if done >= total:
            bar.__exit__(None, None, None)

    return progress


@app.command()
def export(
    path: Annotated[Path, typer.Argument(help="Where to write the archive (one file)")],
    data: DataOption = None,
) -> None:
    """Write a portable archive of the circle's feed, bodies and logbook."""
    from node.app.archive import export_archive

    with _opened(data) as (node, _):
        try:
            manifest = export_archive(node, path, _progress_bar("exporting"))
        except OSError as error:
            raise _Failure(f"could not write {path}: {error}") from None
        typer.echo(f"Wrote {path}: {manifest['entries']} entries, {manifest['bodies']} bodies")


@app.command()
def verify(
    path: Annotated[Path, typer.Argument(help="An archive written by `circle-node export`")],
) -> None:
    """Check an exported archive offline; names the first thing that does not verify."""
    from node.app.archive import ArchiveError, verify_archive
    from node.app.node import KNOWN_TYPES

    try:
        result = verify_archive(path, KNOWN_TYPES, _progress_bar("verifying"))
    except ArchiveError as error:
        raise _fail(f"{path} does not verify: {error}") from None
    typer.echo(
        f"{path} verifies: {result.entries} entries of node {result.node_id} "
        f"({result.circle}), {result.bodies} bodies, {result.logbook_lines} logbook lines"
    )


@app.command()
def backup(
    path: Annotated[Path, typer.Argument(help="Where to write the backup (a .tar file)")],
    data: DataOption = None,
) -> None:
    """Back up the node's data folder (the node may keep running)."""
    from node.cli.backup import BackupError
    from node.cli.backup import backup as write_backup

    settings = _settings(data)
    try:
        names = write_backup(settings, path)
    except (BackupError, OSError) as error:
        raise _fail(f"could not back up {settings.data_dir}: {error}") from None
    typer.echo(f"Wrote {path}: {', '.join(names)}")
    if settings.database_url:
        typer.echo("The PostgreSQL database is not in it: back it up with pg_dump.")


@app.command()
def restore(
    path: Annotated[Path, typer.Argument(help="A backup written by `circle-node backup`")],
    data: DataOption = None,
) -> None:
    """Restore a backup into an empty data folder, and check the node opens from it."""
    from node.cli.backup import BackupError
    from node.cli.backup import restore as read_backup

    settings = _settings(data)
    try:
        names = read_backup(path, settings.data_dir, _progress_bar("restoring"))
    except (BackupError, OSError) as error:
        raise _fail(f"could not restore {path}: {error}") from None
    with _opened(data) as (node, _):
        typer.echo(
            f"Restored {', '.join(names)} into {settings.data_dir}: node {node.feed.node_id}"
        )


@app.command("catch-up")
def catch_up(data: DataOption = None) -> None:
    """Pull every peer's feed now, verifying and storing it, with progress."""
    with _opened(data) as (node, _):
        try:
            taken = asyncio.run(_catch_up_all(node))
        except OSError as error:
            raise _Failure(f"could not catch up: {error}") from None
        typer.echo(f"Caught up: {taken} new entries")


async def _catch_up_all(node: CircleNode) -> int:
    import aiohttp

    from federation.client import FederationClient
    from federation.feed import node_id
    from node.network.delivery import Federator
    from node.network.peers import JOINING, PEER

    assert node.feed.keys is not None
    keys = node.feed.keys
    taken = 0
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=60)) as session:
        client = FederationClient(session, lambda: (node.feed.node_id, keys.current))
        federator = Federator(node, client)
        for peer in node.peering.peers():
            if peer.status not in (PEER, JOINING) or peer.stopped or not peer.url:
                continue
            bar = _progress_bar(f"from {peer.name or node_id(peer.feed_id)[:12]}")

            def progress(held: int, head: int, bar: Any = bar) -> None:
                bar("entries", held, max(head, 1))

            taken += await federator.catch_up(peer, progress)
    return taken
