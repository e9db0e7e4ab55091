"""A task with a cancel request pending enters asyncio.timeout(); the
deadline passes in the block: the CancelledError of the earlier request
comes out as TimeoutError, and cancelling() stays 1 on the finished task:
the request returned True and is never delivered."""
import asyncio, sys

async def main():
    me = asyncio.current_task()
    me.cancel()                          # pending: delivered at the next suspension
    async with asyncio.timeout(0):       # the deadline has passed as well
        await asyncio.sleep(0)

async def outer():
    t = asyncio.create_task(main())
    try:
        await t
    except BaseException as e:
        print("main ended with", type(e).__name__)
    print("main.cancelling() =", t.cancelling(), " main.cancelled() =", t.cancelled())

print(sys.version.split()[0])
asyncio.run(outer())
