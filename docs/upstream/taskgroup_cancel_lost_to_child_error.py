"""A task cancelled from outside, while its TaskGroup's child fails in the
same step, ends with the ExceptionGroup and cancelling() == 1: the cancel
request returned True and is never delivered as CancelledError."""
import asyncio, sys

async def main():
    me = asyncio.current_task()

    async def child():
        me.cancel()                       # a cancel request from outside: returns True
        raise ValueError("child failed")  # ...and the child fails in the same step

    async with asyncio.TaskGroup() as tg:
        tg.create_task(child())
        await asyncio.sleep(1)            # CancelledError arrives here

async def outer():
    t = asyncio.create_task(main())
    try:
        await t
    except BaseException as e:
        print("main ended with", type(e).__name__, repr(e)[:70])
    print("main.cancelling() =", t.cancelling(), " main.cancelled() =", t.cancelled())

print(sys.version.split()[0])
asyncio.run(outer())
