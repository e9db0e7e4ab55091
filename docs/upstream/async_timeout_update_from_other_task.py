# async-timeout 4.0.2 / 4.0.3: Timeout.update() (and shift()) called from
# another task re-arm the timer for the *calling* task (_reschedule uses
# asyncio.current_task() at call time), not for the task that entered the
# block: when the deadline comes the caller is cancelled and the block's
# own task is never interrupted. asyncio.Timeout.reschedule() keeps the
# task captured in __aenter__ (as async-timeout 5.0 does on 3.11+). No
# upstream issue found. Plain asyncio, real-time loop.
# Exit 1 while the defect is there, 0 once it is gone.
# Run: /usr/bin/python3.11 async_timeout_update_from_other_task.py
import asyncio
import sys

import async_timeout


async def case(timeout, move):
    cms = []

    async def worker():
        async with timeout(None) as cm:
            cms.append(cm)
            await asyncio.sleep(0.5)
        return "ran to its end"

    async def other():
        await asyncio.sleep(0.01)
        move(cms[0], asyncio.get_running_loop().time() + 0.01)
        await asyncio.sleep(0.2)
        return "slept"

    w, o = asyncio.create_task(worker()), asyncio.create_task(other())
    await asyncio.gather(w, o, return_exceptions=True)

    def end(t):
        return "cancelled" if t.cancelled() else repr(t.exception() or t.result())
    return end(w), end(o)


async def main():
    lib = await case(async_timeout.timeout, lambda cm, when: cm.update(when))
    std = await case(asyncio.timeout, lambda cm, when: cm.reschedule(when))
    print("async-timeout %s: worker %s, other task %s" % ((async_timeout.__version__,) + lib))
    print("asyncio.timeout: worker %s, other task %s" % std)
    return lib != std


sys.exit(1 if asyncio.run(main()) else 0)
