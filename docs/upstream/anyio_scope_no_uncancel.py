# anyio 3.6.2 (asyncio backend): a cancel scope or task group that swallows
# its own cancellation never calls task.uncancel(): cancelling() stays 1 and
# a later asyncio.timeout in the task lets CancelledError out instead of
# TimeoutError. Fixed in 3.7.0 ("Fixed CancelScope to properly handle
# asyncio task uncancellation on Python 3.11"). Plain asyncio + anyio.
# Exit 1 while the defect is there, 0 once it is gone.
# Run: /usr/bin/python3.11 anyio_scope_no_uncancel.py
import asyncio
import sys

import anyio


async def main():
    with anyio.move_on_after(0.01):
        await asyncio.sleep(1)
    left = asyncio.current_task().cancelling()
    try:
        async with asyncio.timeout(0.01):
            await asyncio.sleep(1)
        later = "no exception"
    except TimeoutError:
        later = "TimeoutError"
    except asyncio.CancelledError:
        later = "CancelledError"
    print("anyio: cancelling() after move_on_after expired: %d" % left)
    print("a later asyncio.timeout raised: %s (expected TimeoutError)" % later)
    return left != 0 or later != "TimeoutError"


sys.exit(1 if asyncio.run(main()) else 0)
