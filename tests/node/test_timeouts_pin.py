"""What node/http/timeouts.py relies on of uvicorn's h11 protocol, which it subclasses.

uvicorn has no deadline for a request to arrive, so the node adds one to its `H11Protocol`
(tests/node/test_hostile_http.py shows it cutting slow clients off). The subclass calls the
protocol's `connection_made`, `connection_lost` and `handle_events`, and reads the attributes
`conn` (the h11 connection), `cycle` (the request's response cycle), `transport` and `loop`.
If a new uvicorn renames any of them, this fails before a slow client gets through; pyproject
pins uvicorn to the versions this ran on.
"""

from __future__ import annotations

import asyncio
import inspect

import h11
from uvicorn.config import Config
from uvicorn.protocols.http.h11_impl import H11Protocol, RequestResponseCycle
from uvicorn.server import ServerState

from node.http.timeouts import timed_protocol


def test_the_h11_protocol_has_what_the_deadline_uses() -> None:
    for method in ("connection_made", "connection_lost", "handle_events"):
        assert callable(getattr(H11Protocol, method))
    made = inspect.getsource(H11Protocol.__init__) + inspect.getsource(H11Protocol.connection_made)
    for attribute in ("self.conn", "self.cycle", "self.transport", "self.loop"):
        assert attribute in made, attribute
    cycle = inspect.getsource(RequestResponseCycle.__init__)
    assert "self.response_started" in cycle and "self.response_complete" in cycle


def test_a_protocol_made_with_a_deadline_starts_it_on_connection_and_stops_it_on_loss() -> None:
    async def scenario() -> None:
        # Given: the node's protocol with a deadline, as uvicorn would make it.
        config = Config(app=lambda scope, receive, send: None, http="h11")
        config.load()
        protocol = timed_protocol(30.0)(config, ServerState(), {})

        class Transport(asyncio.Transport):
            def get_extra_info(self, name: str, default: object = None) -> object:
                return ("127.0.0.1", 1) if name in ("peername", "sockname") else default

            def is_closing(self) -> bool:
                return False

            def close(self) -> None:
                pass

        # When: a client connects and sends nothing.
        protocol.connection_made(Transport())
        # Then: the deadline runs, on the h11 connection uvicorn made; losing it stops it.
        assert protocol._deadline is not None
        assert isinstance(protocol.conn, h11.Connection)
        protocol.connection_lost(None)
        assert protocol._deadline is None

    asyncio.run(scenario())
