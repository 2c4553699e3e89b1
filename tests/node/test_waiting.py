"""The background loops' wait: woken, timed out, and above all cancelled."""

from __future__ import annotations

import asyncio

import pytest

from node.network.waiting import woken_within


def test_a_wake_ends_the_wait_and_says_so() -> None:
    async def scene() -> tuple[bool, bool]:
        event = asyncio.Event()
        asyncio.get_running_loop().call_soon(event.set)
        woken = await woken_within(event, 60)
        event.clear()
        return woken, await woken_within(event, 0.01)

    assert asyncio.run(scene()) == (True, False)


def test_a_cancellation_that_arrives_as_the_wake_does_is_not_lost() -> None:
    # Python 3.11's asyncio.wait_for returns normally here, and a loop waiting with it runs on
    # after being cancelled: whoever awaits it (a server stopping) then waits for ever.
    async def scene() -> None:
        event = asyncio.Event()
        task = asyncio.create_task(woken_within(event, 60))
        await asyncio.sleep(0)  # the task is waiting
        event.set()
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    asyncio.run(scene())
