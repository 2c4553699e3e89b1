"""A host's start (node/network/deliveries.py): the first looks at its nodes and their first
calendar checks take turns over a short window, on delivery's own threads, so that the
requests' threads are free to answer members from the first moment."""

from __future__ import annotations

import asyncio

import anyio.to_thread
import pytest

from node.logs import CIRCLE
from node.network.deliveries import Deliveries
from node.network.delivery import Federator
from tests.node.test_deliveries import driving, until
from tests.node.test_delivery import FakeNetwork

pytestmark = pytest.mark.timeout(120)


def test_first_looks_and_calendar_checks_take_turns_on_deliverys_threads(nodes) -> None:  # type: ignore[no-untyped-def]
    # Given four circles served together, whose first looks may take a second at most.
    names = ["a", "b", "c", "d"]
    turns: list[tuple[str | None, float]] = []  # (whose turn, seconds waited for it)

    async def pause(seconds: float) -> None:
        turns.append((CIRCLE.get(), seconds))

    deliveries = Deliveries(start_spacing=0.5, start_window=1.0, pause=pause)
    checked: list[str] = []
    for name in names:
        deliveries.add(
            name,
            Federator(nodes(name), FakeNetwork({}), pull_interval=3600),  # type: ignore[arg-type]
            calendar_check=lambda name=name: checked.append(name),  # type: ignore[misc]
            circle=name,
        )

    async def scenario() -> None:
        # While every thread that carries out requests is busy:
        requests = anyio.to_thread.current_default_thread_limiter()
        requests.total_tokens = 1
        busy = object()
        await requests.acquire_on_behalf_of(busy)
        try:
            # Then each circle is looked at, and its calendar checked, all the same.
            await until(lambda: sorted(checked) == names, "every calendar checked")
            ready = lambda: all(m.ready for m in deliveries.members.values())  # noqa: E731
            await until(ready, "every circle looked at")
        finally:
            requests.release_on_behalf_of(busy)
        # And the first looks took turns, a quarter of the window apart (the window over four
        # circles, closer than the spacing); the first circle's at once.
        assert sorted(t for t in turns if t[0] is not None) == [
            ("b", 0.25),
            ("c", 0.5),
            ("d", 0.75),
        ]
        # So did the first calendar checks, one turn between each two.
        assert [t for t in turns if t[0] is None] == [(None, 0.25)] * 3
        assert checked == names

    asyncio.run(driving(deliveries, scenario))


def test_circles_start_the_spacing_apart_when_the_window_is_wide_enough(nodes) -> None:  # type: ignore[no-untyped-def]
    turns: list[float] = []

    async def pause(seconds: float) -> None:
        turns.append(seconds)

    deliveries = Deliveries(start_spacing=0.01, start_window=10.0, pause=pause)
    for name in ("a", "b", "c"):
        deliveries.add(name, Federator(nodes(name), FakeNetwork({}), pull_interval=3600))  # type: ignore[arg-type]

    async def scenario() -> None:
        await until(lambda: all(m.ready for m in deliveries.members.values()), "all looked at")
        assert sorted(turns) == [0.01, 0.02]

    asyncio.run(driving(deliveries, scenario))
