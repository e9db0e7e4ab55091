# async-timeout 4.0.2 / 4.0.3: an external task.cancel() landing in the loop
# iteration of the timeout's expiry comes out of `async with timeout()` as
# TimeoutError: the cancellation is lost (aio-libs/async-timeout#229; fixed
# in 5.0.0, where Timeout is asyncio.Timeout on 3.11+). asyncio.timeout
# lets the CancelledError out. Both timers are at the same loop time, so
# they run in one iteration on any machine. Plain asyncio, real-time loop.
# Exit 1 while the defect is there, 0 once it is gone.
# Run: /usr/bin/python3.11 async_timeout_229_cancel_becomes_timeout.py
import asyncio
import sys

import async_timeout


async def outcome(timeout_at):
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 0.05

    async def worker():
        async with timeout_at(deadline):
            await asyncio.sleep(1)

    w = asyncio.create_task(worker())
    loop.call_at(deadline, w.cancel)  # scheduled before the worker's own timer
    await asyncio.gather(w, return_exceptions=True)
    return "cancelled" if w.cancelled() else repr(w.exception())


async def main():
    lib = await outcome(async_timeout.timeout_at)
    std = await outcome(asyncio.timeout_at)
    print("async-timeout %s: %s" % (async_timeout.__version__, lib))
    print("asyncio.timeout_at: %s" % std)
    return lib != "cancelled"


sys.exit(1 if asyncio.run(main()) else 0)
