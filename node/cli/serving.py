"""The commands that run nodes: `serve` this one, or `demo` a federation on this machine."""

from __future__ import annotations

import contextlib
import gc
import shutil
import signal
import socket
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from node.cli.opening import DataOption, fail, opened

if TYPE_CHECKING:
    from node.network.mail_sender import SmtpServer
    from node.settings import Settings


def demo(
    one_circle: Annotated[
        bool, typer.Option("--one-circle", help="One circle's story on a single node instead")
    ] = False,
    keep: Annotated[bool, typer.Option(help="Keep the demo's data folder afterwards")] = False,
) -> None:
    """A federation of four circle nodes on this machine tells its story, on SQLite in a
    temporary folder; with --one-circle, one circle's consent story and its logbook."""
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
            raise fail(f"the demo could not finish: {error}") from None
    if keep:
        typer.echo(f"\nThe nodes' data is kept in {folder}")
    else:
        shutil.rmtree(folder, ignore_errors=True)


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
    """Serve the node: the federation API, with delivery to and from peers. SIGTERM or SIGINT
    (Ctrl-C) stop it cleanly: requests under way are finished, then delivery, then the store."""
    import uvicorn

    from node.http.server import ServerOptions, create_app
    from node.http.timeouts import KEEP_ALIVE_TIMEOUT, timed_protocol
    from node.logs import configure as configure_logs
    from node.network.identity import KeyStore

    listening = listen(host, port)  # a port that is taken is refused before the store opens
    with listening, opened(data) as (node, settings):
        assert node.feed.keys is not None
        options = ServerOptions(
            public_url=url or f"http://{host}:{port}",
            pull_interval=pull_interval,
            threads=threads,
            smtp=smtp_server(settings),
            mail_from=settings.smtp_from or "",
        )
        server_app = create_app(node, KeyStore(settings.data_dir, node.feed.keys), options)
        typer.echo(f"Serving node {node.feed.node_id} at {options.public_url}")
        said = node.feed.own_feed().url
        if url and said and url.rstrip("/") != said:
            typer.secho(
                f"warning: this node's feed says it is served at {said}; if it moved, run "
                f"`circle-node move {url.rstrip('/')}` so that its peers follow",
                fg=typer.colors.YELLOW,
                err=True,
            )
        configure_logs(sys.stderr)
        out_of_the_collectors_way()
        config = uvicorn.Config(
            server_app,
            log_config=None,
            access_log=False,
            http=timed_protocol(request_timeout),  # slow or stalled clients are cut off
            timeout_keep_alive=KEEP_ALIVE_TIMEOUT,
        )
        with stopped_by_signals():
            uvicorn.Server(config).run(sockets=[listening])


def listen(host: str, port: int) -> socket.socket:
    """The server's socket, bound and listening; a taken port or an address this machine does
    not have is one line and exit 1."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    try:
        return socket.create_server((host, port), family=family, backlog=2048)
    except OSError as error:
        # The system's words for it, without the "(while attempting to bind ...)" that
        # create_server adds.
        reason = (error.strerror or str(error)).partition(" (while attempting")[0]
        raise fail(f"cannot listen on {host}:{port}: {reason}") from None


@contextlib.contextmanager
def stopped_by_signals() -> Iterator[None]:
    """uvicorn stops on SIGTERM or SIGINT, then raises the signal again once it has stopped:
    either one ends the server here, and the store is closed after it (exit 0), instead of
    SIGTERM ending the process before the store is closed."""

    def stop(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    before = {each: signal.signal(each, stop) for each in (signal.SIGTERM, signal.SIGINT)}
    try:
        yield
    except KeyboardInterrupt:
        pass
    finally:
        for each, handler in before.items():
            signal.signal(each, handler)


def out_of_the_collectors_way() -> None:
    """What exists once the server is built lives as long as the process (the libraries, the
    app, the node and its kept circle): the garbage collector leaves it alone from now on. Its
    full collections would otherwise walk all of it, and a command that makes many objects
    waits on them (bench/RESULTS.md, "member circle": a policy adopted at 1,000 decisions)."""
    gc.collect()  # garbage now is not kept for ever
    gc.freeze()


def smtp_server(settings: Settings) -> SmtpServer | None:
    """The SMTP server of the settings (node/settings.py), or None without a host and a from
    address: then mail stays queued in the store."""
    from node.network.mail_sender import SmtpServer

    if not (settings.smtp_host and settings.smtp_from):
        return None
    password = settings.smtp_password.get_secret_value() if settings.smtp_password else None
    return SmtpServer(
        settings.smtp_host,
        settings.smtp_port,
        settings.smtp_user,
        password,
        settings.smtp_tls,
    )
