# anyio 3.6.2 (asyncio backend): a fail_after() scope cancelled explicitly
# (scope.cancel(), long before its deadline) raises TimeoutError; the
# cancel is a request to leave the block quietly. Fixed in 4.0.0 ("Fixed
# fail_after() raising an unwarranted TimeoutError when the cancel scope
# was cancelled before reaching its deadline", anyio #589 / PR #591).
# Plain asyncio + anyio. Exit 1 while the defect is there, 0 once it is gone.
# Run: /usr/bin/python3.11 anyio_fail_after_cancelled_raises_timeout.py
import asyncio
import sys

import anyio


async def main():
    try:
        with anyio.fail_after(10) as scope:
            scope.cancel()
            await asyncio.sleep(1)
        result = "left quietly"
    except TimeoutError:
        result = "TimeoutError"
    print("anyio: fail_after(10) cancelled at once: %s (expected: left quietly)" % result)
    return result != "left quietly"


sys.exit(1 if asyncio.run(main()) else 0)
