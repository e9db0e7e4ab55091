# async-timeout 4.0.2: after converting its own cancellation into
# TimeoutError the block does not call task.uncancel(): cancelling() stays 1,
# and a later asyncio.timeout in the same task then lets CancelledError out
# instead of TimeoutError (aio-libs/async-timeout#362, PR #363, released in
# 4.0.3; symptom aiohttp#7479). Plain asyncio, real-time loop.
# Exit 1 while the defect is there, 0 once it is gone.
# Run: /usr/bin/python3.11 async_timeout_no_uncancel.py
import asyncio
import sys

import async_timeout


async def main():
    try:
        async with async_timeout.timeout(0.01):
            await asyncio.sleep(1)
    except TimeoutError:
        pass
    left = asyncio.current_task().cancelling()
    try:
        async with asyncio.timeout(0.01):
            await asyncio.sleep(1)
        later = "no exception"
    except TimeoutError:
        later = "TimeoutError"
    except asyncio.CancelledError:
        later = "CancelledError"
    print("async-timeout %s: cancelling() after a handled expiry: %d" % (async_timeout.__version__, left))
    print("a later asyncio.timeout raised: %s (expected TimeoutError)" % later)
    return left != 0 or later != "TimeoutError"


sys.exit(1 if asyncio.run(main()) else 0)
