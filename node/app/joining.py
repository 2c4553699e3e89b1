"""Asking a node to admit this circle to the network, over HTTP."""

from __future__ import annotations

import aiohttp

from domain.membership import check_records_keeper
from federation.client import FederationClient, TransportError
from federation.wire import PushReply
from node.app.node import CircleNode


async def join_network(node: CircleNode, url: str, own_url: str, message: str) -> PushReply:
    """Fetch the node's descriptor, write a join request addressed to it, and send it. Its
    circle decides by consent; its signed introduction then admits this circle."""
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30)) as session:
        client = FederationClient(session)
        descriptor = await client.descriptor(url)
        push = node.relations.ask_to_join_network(descriptor, url, own_url, message)
        reply: PushReply = await client.push(url, push)
        if reply.reason:
            raise TransportError(f"the join request was refused: {reply.reason}")
        return reply


def check_may_ask_to_join(node: CircleNode, by: str) -> None:
    """Who asks a node, for the circle, to admit it to a network (the members' pages; on the
    command line, the operator): the one who keeps the circle's records and speaks for it,
    the secretary, or any full participant while nobody wears that hat. What the circle binds
    itself to later is decided by consent, as every step between circles is."""
    check_records_keeper(node.records.peek_circle(), by, "ask to join a network")
