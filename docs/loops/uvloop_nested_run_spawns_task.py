# uvloop_nested_run_spawns_task.py - plain program, uvloop only (Debian's
# python3-uvloop 0.17.0): loop.run_until_complete(coro) called inside the
# running loop raises RuntimeError, as it must, but only after wrapping coro
# in a Task, which then runs in the outer run anyway. Stock asyncio checks
# first and makes no task (CPython bpo-39191, fixed in 3.9 by PR #17796).
# asyncfuzz: nested-loop refused-late on target uvloop.
# usage: /usr/bin/python3.11 uvloop_nested_run_spawns_task.py
import asyncio
import uvloop

ran = []


async def body():
    ran.append("body ran")


async def main(loop):
    coro = body()
    try:
        loop.run_until_complete(coro)
    except RuntimeError as e:
        print("nested run_until_complete raised:", e)
    await asyncio.sleep(0.01)
    print("tasks made by the refused call ran:", ran or "none")
    return bool(ran)


for name, make in (("asyncio", asyncio.new_event_loop), ("uvloop " + uvloop.__version__, uvloop.new_event_loop)):
    loop = make()
    print("==", name)
    spawned = loop.run_until_complete(main(loop))
    loop.close()
    print("   DEFECT: the refused call started its body" if spawned else "   ok: refused before anything ran")
