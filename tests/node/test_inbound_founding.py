"""Taking a run of a peer's entries asks once whether the node has a circle: an unfounded
node's answer is a read of its store, which would otherwise be made for each entry."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from node.app import inbound
from node.network.peers import PEER


class UnfoundedNode:
    """As much of a node as a run of opaque entries needs, counting the questions asked."""

    node_id = "me"
    asked = 0

    def clock(self) -> float:
        return 0.0

    @property
    def is_founded(self) -> bool:
        self.asked += 1
        return False


def test_an_unfounded_node_is_asked_once_a_run() -> None:
    # Given an unfounded node, and a run of a peer's entries whose bodies are no message.
    node = UnfoundedNode()
    sender = SimpleNamespace(feed_id=bytes(32), status=PEER)
    run: list[tuple[Any, bytes | None]] = [
        (SimpleNamespace(type="decision.record", seq=seq), b"opaque") for seq in range(1, 101)
    ]
    # When the run is taken, then whether the node has a circle is asked once.
    inbound.apply(node, sender, run, batch=None)  # type: ignore[arg-type]
    assert node.asked == 1
