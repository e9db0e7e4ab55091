# CPython 3.11 (3.11.2 and 3.11.7 checked): a task that awaits itself gets
# RuntimeError("Task cannot await on itself: ...") from both Task
# implementations; awaiting itself a second time (say in the except or
# finally of the first) gives "Task cannot await on itself" again with the
# pure-Python Task but RuntimeError("await wasn't used with future") with
# the C Task (_asyncio). A misuse either way: only the message differs.
# Found by `asyncfuzz conform --target asyncio_py` (C against pure-Python
# tasks). Not searched upstream yet. Exit 1 while the two differ.
# Run: /usr/bin/python3.11 cpython_c_task_self_await_twice.py
import asyncio
import asyncio.tasks
import sys


async def main():
    out = []
    for _ in range(2):
        try:
            await asyncio.current_task()
        except RuntimeError as e:
            out.append(str(e).split(":")[0])
    return out


ends = {}
for name, cls in (("C Task", asyncio.tasks._CTask), ("pure-Python Task", asyncio.tasks._PyTask)):
    loop = asyncio.new_event_loop()
    loop.set_task_factory(lambda lp, coro: cls(coro, loop=lp))
    ends[name] = loop.run_until_complete(main())
    loop.close()
    print("%-17s %s" % (name, ends[name]))
sys.exit(1 if ends["C Task"] != ends["pure-Python Task"] else 0)
