# anyio (asyncio backend; 3.6.2 and, per our runs, up to 4.14.2 when the
# deadline fires first): a native task.cancel() landing in the loop
# iteration of a fail_after() deadline comes out of the block as
# TimeoutError, and a move_on_after() swallows it: the task goes on. The
# same shape as aio-libs/async-timeout#229; asyncio.timeout lets the
# CancelledError out. No upstream issue found. Plain asyncio + anyio, both
# timers at the same loop time (one iteration on any machine).
# Exit 1 while the defect is there, 0 once it is gone.
# Run: /usr/bin/python3.11 anyio_deadline_converts_native_cancel.py
import asyncio
import sys

import anyio


async def case(kind):
    loop = asyncio.get_running_loop()

    async def worker():
        if kind == "asyncio.timeout":
            async with asyncio.timeout(0.05):
                await asyncio.sleep(1)
        else:
            with getattr(anyio, kind)(0.05):
                await asyncio.sleep(1)
        await asyncio.sleep(0)
        return "went on"

    w = asyncio.create_task(worker())
    await asyncio.sleep(0)  # the worker entered: its deadline's timer is first
    loop.call_at(loop.time() + 0.05, w.cancel)
    await asyncio.gather(w, return_exceptions=True)
    return "cancelled" if w.cancelled() else repr(w.exception() or w.result())


async def main():
    ends = {k: await case(k) for k in ("fail_after", "move_on_after", "asyncio.timeout")}
    for k, v in ends.items():
        print("%-16s + task.cancel() in the deadline's iteration: %s" % (k, v))
    return ends["fail_after"] != "cancelled" or ends["move_on_after"] != "cancelled"


sys.exit(1 if asyncio.run(main()) else 0)
