# nest_asyncio_stop_leaks.py - plain program, nest_asyncio only (Debian's
# python3-nest-asyncio 1.5.4): loop.stop() inside a nested
# run_until_complete ends that nested run (RuntimeError 'Event loop stopped
# before Future completed.', as at top level), but nest_asyncio's
# run_until_complete never clears _stopping, so the ENCLOSING run stops too
# at its next iteration, although nothing stopped it. Not found upstream
# (erdewit/nest_asyncio is archived; nest-asyncio2 is the maintained fork).
# asyncfuzz: nested-loop reentrant-stop-scope on target nest_asyncio.
import asyncio
import nest_asyncio

loop = asyncio.new_event_loop()
asyncio.set_event_loop(loop)
nest_asyncio.apply(loop)


async def inner():
    loop.stop()
    await asyncio.sleep(0.01)


async def outer():
    try:
        loop.run_until_complete(inner())
    except RuntimeError as e:
        print("nested run raised (expected, as at top level):", e)
    await asyncio.sleep(0.01)
    return "outer finished"


try:
    print(loop.run_until_complete(outer()))
    print("ok: the enclosing run was not stopped")
except RuntimeError as e:
    print("DEFECT: the enclosing run raised too:", e)
