# anyio 3.6.2 (asyncio backend): a native task.cancel() of the task that
# waits in a task group's __aexit__ for its children is lost: __aexit__
# catches the CancelledError, cancels the children and exits normally, so
# the host goes on and returns a result (with cancelling() 1).
# asyncio.TaskGroup re-raises the CancelledError. Fixed in 4.0.0 (PR #586,
# "Updated cancellation semantics to better match the new trio and asyncio
# ones"). Plain asyncio + anyio. Exit 1 while the defect is there.
# Run: /usr/bin/python3.11 anyio_host_cancel_lost_in_aexit.py
import asyncio
import sys

import anyio


async def host():
    async with anyio.create_task_group() as tg:
        tg.start_soon(asyncio.sleep, 1)
    return "went on after the group"


async def main():
    h = asyncio.create_task(host())
    await asyncio.sleep(0.01)
    h.cancel()
    await asyncio.gather(h, return_exceptions=True)
    end = "cancelled" if h.cancelled() else repr(h.exception() or h.result())
    print("anyio: host cancelled while its group waits: %s, cancelling()=%d (expected: cancelled)"
          % (end, h.cancelling()))
    return end != "cancelled"


sys.exit(1 if asyncio.run(main()) else 0)
