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
from typing import TYPE_CHECKING, Annotated, Any

import typer

from node.cli.opening import DataOption, fail, load_settings, opened
from node.cli.workers import ThisWorker, fork_workers, refuse_sqlite
from node.settings import MAX_PULLS_AT_ONCE, MAX_THREADS, MAX_WORKERS

if TYPE_CHECKING:
    from node.app.node import CircleNode
    from node.http.server import ServerOptions
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
        str | None, typer.Option(help="Address to listen on (default: 127.0.0.1)")
    ] = None,
    port: Annotated[int | None, typer.Option(help="Port to listen on (default: 8470)")] = None,
    url: Annotated[
        str | None,
        typer.Option(help="The URL peers reach this node at (default: http://HOST:PORT)"),
    ] = None,
    pull_interval: Annotated[
        float | None, typer.Option(help="Seconds between pulls from peers (default: 30)")
    ] = None,
    pulls_at_once: Annotated[
        int | None,
        typer.Option(
            help="Peers pulled from at once, over every circle served (default: 8)",
            min=1,
            max=MAX_PULLS_AT_ONCE,
        ),
    ] = None,
    push_poll_interval: Annotated[
        float | None,
        typer.Option(
            help="Seconds between looks at each circle's outbox for what no one told of; pushes "
            "go out as soon as a circle appends anyway (default: 60)",
            min=1,
        ),
    ] = None,
    mail_poll_interval: Annotated[
        float | None,
        typer.Option(
            help="Seconds between looks at each circle's mail queue for what no one told of; a "
            "letter queued is sent at once anyway (default: 300)",
            min=1,
        ),
    ] = None,
    request_timeout: Annotated[
        float | None,
        typer.Option(
            help="Seconds a request may take to arrive (headers and body); slower clients get "
            "408 and are cut off (default: 30)",
            min=0.1,
        ),
    ] = None,
    threads: Annotated[
        int | None,
        typer.Option(
            help="Threads that carry out requests (commands and queries); more only help a "
            "store on PostgreSQL, whose reads wait on the network (default: 4)",
            min=1,
            max=MAX_THREADS,
        ),
    ] = None,
    workers: Annotated[
        int | None,
        typer.Option(
            help="Server processes, each with its own connections to the store (more than one "
            "needs PostgreSQL) (default: 1)",
            min=1,
            max=MAX_WORKERS,
        ),
    ] = None,
    trusted_proxies: Annotated[
        str | None,
        typer.Option(
            help="Addresses or networks of the reverse proxies in front, separated by commas: "
            "only from them are X-Forwarded-For, X-Forwarded-Proto and X-Request-ID believed "
            "(default: none)"
        ),
    ] = None,
    log_level: Annotated[
        str | None, typer.Option(help="debug, info, warning or error (default: info)")
    ] = None,
    access_log: Annotated[
        bool | None,
        typer.Option("--access-log/--no-access-log", help="A log line per request (default: on)"),
    ] = None,
) -> None:
    """Serve the node: the federation API, with delivery to and from peers; in a host's folder,
    every circle of the host, each at /c/SLUG/. SIGTERM or SIGINT (Ctrl-C) stop it cleanly:
    requests under way are finished, then delivery, then the store.

    Each option may also be set in the environment (CIRCLE_NODE_PORT...) or in the data
    folder's circle-node.toml (port = 8470...): a flag wins over the environment, which wins
    over the file (docs/operating.md, "Configuration").

    With --workers N, N processes serve on one socket, and a parent starts again any that
    dies (node/cli/workers.py)."""
    from node.host.layout import is_host
    from node.http.server import ServerOptions, create_app
    from node.network.identity import KeyStore

    flags = {
        "host": host,
        "port": port,
        "url": url,
        "pull_interval": pull_interval,
        "pulls_at_once": pulls_at_once,
        "push_poll_interval": push_poll_interval,
        "mail_poll_interval": mail_poll_interval,
        "request_timeout": request_timeout,
        "threads": threads,
        "workers": workers,
        "trusted_proxies": trusted_proxies,
        "log_level": log_level,
        "access_log": access_log,
    }
    settings = load_settings(data, flags)
    refuse_sqlite(settings)
    # A port that is taken is refused before the store opens.
    listening = listen(settings.host, settings.port)
    worker = fork_workers(listening, settings)  # with several workers, the parent stays in there
    options = ServerOptions(
        public_url=settings.url or f"http://{settings.host}:{settings.port}",
        pull_interval=settings.pull_interval,
        pulls_at_once=settings.pulls_at_once,
        poll_interval=settings.push_poll_interval,
        mail_interval=settings.mail_poll_interval,
        threads=settings.threads,
        smtp=smtp_server(settings),
        mail_from=settings.smtp_from or "",
    )
    if is_host(settings.data_dir):
        with listening:
            _serve_host(settings, options, listening, worker)
        return
    with listening, opened(data, settings=settings) as (node, settings):
        assert node.feed.keys is not None
        server_app = create_app(node, KeyStore(settings.data_dir, node.feed.keys), options)
        typer.echo(f"Serving node {node.feed.node_id} at {options.public_url}")
        _warn_if_moved(node, settings.url)
        _run(server_app, listening, settings, worker)


def _serve_host(
    settings: Settings, options: ServerOptions, listening: socket.socket, worker: ThisWorker
) -> None:
    """Serve every circle of the host in the settings' folder, each at /c/SLUG/."""
    from node.host.circles import CircleFailure, opened_circles
    from node.host.layout import circle_url
    from node.host.server import create_host_app

    try:
        with opened_circles(settings) as circles:
            server_app = create_host_app(circles, options)
            typer.echo(f"Serving the host {settings.data_dir} at {options.public_url}")
            for circle in circles:
                at = circle_url(options.public_url, circle.slug)
                node_id = circle.node.feed.node_id
                typer.echo(f"Serving circle {circle.slug} (node {node_id}) at {at}")
                _warn_if_moved(circle.node, at)
            _run(server_app, listening, settings, worker)
    except CircleFailure as failure:
        raise fail(str(failure)) from None


def _warn_if_moved(node: CircleNode, url: str | None) -> None:
    said = node.feed.own_feed().url
    if url and said and url.rstrip("/") != said:
        typer.secho(
            f"warning: this node's feed says it is served at {said}; if it moved, run "
            f"`circle-node move {url.rstrip('/')}` so that its peers follow",
            fg=typer.colors.YELLOW,
            err=True,
        )


def _run(server_app: Any, listening: socket.socket, settings: Settings, worker: ThisWorker) -> None:
    import uvicorn

    from node.http.front import front
    from node.http.timeouts import KEEP_ALIVE_TIMEOUT, timed_protocol
    from node.logs import configure as configure_logs

    configure_logs(sys.stderr, settings.log_level)
    out_of_the_collectors_way()
    config = uvicorn.Config(
        front(server_app, settings.trusted_proxies, access_log=settings.access_log),
        log_config=None,
        access_log=False,  # the node's own (node/http/front.py)
        proxy_headers=False,  # taken from trusted_proxies only (node/http/front.py)
        http=timed_protocol(settings.request_timeout),  # slow clients are cut off
        timeout_keep_alive=KEEP_ALIVE_TIMEOUT,
        headers=worker.headers,
    )
    with stopped_by_signals():
        worker.ready()
        uvicorn.Server(config).run(sockets=[listening])


def listen(host: str, port: int) -> socket.socket:
    """The server's socket, bound and listening; a taken port or an address this machine does
    not have is one line and exit 1."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    try:
        made = socket.create_server((host, port), family=family, backlog=2048)
    except OSError as error:
        # The system's words for it, without the "(while attempting to bind ...)" that
        # create_server adds.
        reason = (error.strerror or str(error)).partition(" (while attempting")[0]
        raise fail(f"cannot listen on {host}:{port}: {reason}") from None
    # Named TCP (create_server leaves the protocol 0), so that each connection accepted is
    # too and asyncio turns Nagle's algorithm off on it (TCP_NODELAY): otherwise a response's
    # body, written after its headers, waits for the client's delayed acknowledgement.
    return socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP, fileno=made.detach())


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
