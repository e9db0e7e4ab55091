# target_planted_wait_for.py - TEST-ONLY target adapter with a planted
# defect: its wait_for swallows CancelledError, so a task cancelled while it
# waits goes on as if nothing happened (a cancel request that is neither
# delivered nor withdrawn: the oracle cancellation.swallowed). The engines'
# tests must find it. Everything else is stock asyncio (target_asyncio.py).
import asyncio

from target_asyncio import *  # noqa: F401,F403

NAME = "planted_wait_for"


async def wait_for(aw, timeout):
    try:
        return await asyncio.wait_for(aw, timeout)
    except asyncio.CancelledError:  # the planted defect
        return None
