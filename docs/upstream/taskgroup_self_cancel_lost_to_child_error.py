"""The variant with the task's own requests: a task cancels itself (twice),
then a TaskGroup's child fails. The CancelledError reaches TaskGroup's
__aexit__, which raises the ExceptionGroup instead: the task ends with it
and cancelling() == 2, neither request delivered nor withdrawn."""
import asyncio, sys
async def main():
    me = asyncio.current_task()
    me.cancel(); me.cancel()                  # the task's own requests, pending
    async def child():
        raise ValueError("child failed")
    async with asyncio.TaskGroup() as tg:     # CancelledError arrives in __aexit__
        tg.create_task(child())
async def outer():
    t = asyncio.create_task(main())
    try:
        await t
    except BaseException as e:
        print("main ended with", type(e).__name__, end="; ")
    print("cancelling() =", t.cancelling(), "cancelled() =", t.cancelled())
print(sys.version.split()[0], end=": "); asyncio.run(outer())
