"""The server's listening socket (`circle-node serve`): each connection it accepts has Nagle's
algorithm off, so that a response's body, written after its headers, is not held back until
the client acknowledges them (a delayed acknowledgement: about 40 ms a request)."""

from __future__ import annotations

import asyncio
import socket

from node.cli.serving import listen


def test_each_connection_accepted_sends_without_delay() -> None:
    async def nodelay_of_accepted() -> int:
        accepted: asyncio.Future[int] = asyncio.get_running_loop().create_future()

        def on_connection(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            sock = writer.get_extra_info("socket")
            accepted.set_result(sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY))
            writer.close()

        with listen("127.0.0.1", 0) as listening:
            port = listening.getsockname()[1]
            server = await asyncio.start_server(on_connection, sock=listening)
            async with server:
                _, writer = await asyncio.open_connection("127.0.0.1", port)
                value = await asyncio.wait_for(accepted, 5)
                writer.close()
                return value

    assert asyncio.run(nodelay_of_accepted()) != 0
