"""Waiting for a wake-up or a while, whichever comes first, in the background loops."""

from __future__ import annotations

import asyncio


async def woken_within(event: asyncio.Event, seconds: float) -> bool:
    """Wait until `event` is set or `seconds` have passed; True if it was set.

    Python 3.11's `asyncio.wait_for` can lose a cancellation that arrives just as the wait
    ends (it returns, or raises TimeoutError, instead of CancelledError): a loop that waits
    with it then runs on after it was cancelled, and whoever awaits the cancelled task waits
    for ever (a server that never finishes stopping). `asyncio.timeout` does not lose it."""
    try:
        async with asyncio.timeout(max(0.0, seconds)):
            await event.wait()
    except TimeoutError:
        return False
    return True
