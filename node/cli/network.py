"""The commands about the node in the network: its id and signing key, its peers, joining a
network, and catching up with the peers' feeds."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Annotated, Any

import typer

from node.cli.opening import CircleOption, DataOption, Failure, fail, opened
from node.cli.progress import progress_bar

if TYPE_CHECKING:
    from node.app.node import CircleNode


def show_id(data: DataOption = None, circle: CircleOption = None) -> None:
    """Print this node's id (the hash of its inception entry)."""
    with opened(data, circle=circle) as (node, _):
        typer.echo(node.feed.node_id)


def rotate_key(data: DataOption = None, circle: CircleOption = None) -> None:
    """Rotate the node's signing key to the pre-committed next key."""
    from node.app.persistence import rotate_node_key

    with opened(data, circle=circle) as (node, settings):
        rotate_node_key(node, settings)
        typer.echo(f"Rotated the key of node {node.feed.node_id}; peers follow it from the feed")
        typer.echo(
            "Take a new backup now (circle-node backup): a backup taken before this rotation "
            "lacks the new next key, so a node restored from it could not recover its feed"
        )


def recover(
    after: Annotated[
        int | None,
        typer.Option(
            "--after",
            help="The last entry of this node's feed to keep (default: the last it holds). "
            "For a node that already forked, the last entry before the fork.",
        ),
    ] = None,
    yes: Annotated[bool, typer.Option("--yes", help="Do not ask for confirmation")] = False,
    data: DataOption = None,
    circle: CircleOption = None,
) -> None:
    """Recover a feed that forked, or whose later entries are lost: the pre-committed next key
    signs a rotation right after the entry kept, and peers drop what the feed holds after it."""
    from node.app.persistence import recover_node_feed

    with opened(data, circle=circle) as (node, settings):
        head = node.feed.check_can_supersede().head
        kept = head if after is None else after
        if not 0 <= kept <= head:
            raise Failure(f"this node's feed holds entries 0 to {head}; --after {kept} is not one")
        typer.echo(
            f"A rotation signed with the pre-committed next key will be entry {kept + 1} of "
            f"node {node.feed.node_id}. Every peer drops the entries it holds of this feed from "
            f"seq {kept + 1} on (kept there as evidence; what they did there stands) and tells "
            "its members which."
        )
        if kept < head:
            typer.echo(
                f"This node drops its own entries {kept + 1} to {head} ({head - kept}): they "
                "stay in its store as evidence, and its records keep what they said."
            )
        typer.echo(
            f"This node cannot know what its peers hold after seq {kept}: whatever they hold "
            "there is dropped too. Peers that hold less than this node catch up first."
        )
        if node.take_back.pending:
            typer.echo(
                "This node was restored from a backup and has not taken its feed back from its "
                "peers: what it published after the backup, which they hold, is dropped; it "
                "takes nothing back afterwards."
            )
        if not yes and not typer.confirm("Sign the superseding rotation?"):
            raise Failure("nothing was signed")
        seq = recover_node_feed(node, settings, kept)
        typer.echo(
            f"Signed the superseding rotation at seq {seq}; peers take it with the next push. "
            "Take a new backup now (circle-node backup): the keys changed."
        )


def move(
    url: Annotated[str, typer.Argument(help="The URL this node is served at from now on")],
    data: DataOption = None,
    circle: CircleOption = None,
) -> None:
    """Tell the peers this node is served at URL from now on: a signed `node.moved` entry.
    Serve the node there first: each peer follows once URL serves this node's feed."""
    from federation.wire import is_base_url

    url = url.rstrip("/")
    if not is_base_url(url):
        raise fail(
            f"{url!r} is not a node's base URL (http:// or https://, e.g. https://kitchen.example)"
        )
    with opened(data, circle=circle) as (node, _):
        try:
            seq = node.feed.announce_url(url)
        except ValueError as error:
            raise Failure(str(error)) from None
        typer.echo(
            f"Node {node.feed.node_id} says at entry {seq} that it is served at {url}; "
            "each peer follows once that URL serves its feed"
        )


peer_app = typer.Typer(help="The nodes this one exchanges feeds with.", no_args_is_help=True)


@peer_app.command("add")
def peer_add(
    url: Annotated[str, typer.Argument(help="The peer's base URL, e.g. https://coop.example")],
    expect: Annotated[
        str | None, typer.Option(help="The node id you were given for it (checked)")
    ] = None,
    data: DataOption = None,
    circle: CircleOption = None,
) -> None:
    """Add a peer by URL: its descriptor is fetched and its identity checked."""
    from federation.feed import feed_id_from_node_id, node_id
    from federation.verify import Rejected

    with opened(data, circle=circle) as (node, _):
        try:
            descriptor = asyncio.run(_fetch_descriptor(url.rstrip("/")))
        except Exception as error:  # network errors of any kind: report, do not trace
            raise Failure(f"could not reach {url}: {error}") from None
        if expect is not None:
            try:
                expected = feed_id_from_node_id(expect)
            except ValueError as error:
                raise Failure(str(error)) from None
            if expected != descriptor.feed:
                raise Failure(f"{url} is node {node_id(descriptor.feed)}, not {expect}")
        try:
            feed_id = node.peering.add_peer(descriptor, url.rstrip("/"))
        except (Rejected, ValueError) as error:
            raise Failure(f"{url} does not prove its identity: {error}") from None
        node.release_held()  # an applicant's messages held back take effect now
        typer.echo(f"Added peer {descriptor.name!r}: {node_id(feed_id)}")


async def _fetch_descriptor(url: str) -> Any:
    import aiohttp

    from federation.client import FederationClient

    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10)) as session:
        return await FederationClient(session).descriptor(url)


@peer_app.command("list")
def peer_list(data: DataOption = None, circle: CircleOption = None) -> None:
    """List peers: status, how much of their feed is held, and how much of ours they have."""
    from federation.feed import node_id

    with opened(data, circle=circle) as (node, _):
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


@peer_app.command("remove")
def peer_remove(
    node_id_text: Annotated[str, typer.Argument(metavar="NODE_ID", help="The peer's node id")],
    data: DataOption = None,
    circle: CircleOption = None,
) -> None:
    """Stop exchanging feeds with a peer (what is held of its feed stays, and still verifies)."""
    from federation.feed import feed_id_from_node_id

    with opened(data, circle=circle) as (node, _):
        try:
            feed_id = feed_id_from_node_id(node_id_text)
        except ValueError as error:
            raise Failure(str(error)) from None
        if not node.peering.remove_peer(feed_id):
            raise Failure(f"{node_id_text} is not a peer of this node")
        typer.echo(f"Removed peer {node_id_text}")


def join(
    url: Annotated[str, typer.Argument(help="The URL of a node of the network, e.g. a co-op's")],
    own_url: Annotated[str, typer.Option("--url", help="The URL others reach this node at")],
    message: Annotated[str, typer.Option(help="A word to the circle you ask")] = "",
    data: DataOption = None,
    circle: CircleOption = None,
) -> None:
    """Ask a node to admit this circle to the network (its circle decides by consent)."""
    from federation.client import TransportError
    from node.app.joining import join_network

    with opened(data, circle=circle) as (node, _):
        try:
            asyncio.run(join_network(node, url.rstrip("/"), own_url, message))
        except (TransportError, ValueError) as error:
            raise Failure(f"could not ask {url}: {error}") from None
        typer.echo(
            f"Asked {url} to admit {node.records.get_circle().name!r}; its circle will decide"
        )


def catch_up(data: DataOption = None, circle: CircleOption = None) -> None:
    """Pull every peer's feed now, verifying and storing it, with progress."""
    with opened(data, circle=circle) as (node, _):
        try:
            taken = asyncio.run(_catch_up_all(node))
        except OSError as error:
            raise Failure(f"could not catch up: {error}") from None
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
            bar = progress_bar(f"from {peer.name or node_id(peer.feed_id)[:12]}")

            def progress(held: int, head: int, bar: Any = bar) -> None:
                bar("entries", held, max(head, 1))

            peer = await federator.follow_move(peer)
            taken += await federator.catch_up(peer, progress)
    return taken
