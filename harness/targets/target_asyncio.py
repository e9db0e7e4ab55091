# target_asyncio.py - target adapter: stock asyncio, C Task/Future (the default).
#
# A target adapter is a module named target_<name> (harness/py/, or a
# vendor's file) that gives the scenario interpreter (interp.py) and the
# reproducers (reports/repro.c) the implementation of each primitive
# they exercise:
#     wait_for, gather, shield, wait, as_completed, timeout, timeout_at,
#     TaskGroup, Event, Lock, Condition, Semaphore, Queue, sleep
# with asyncio's signatures and behaviour, plus
#     PURE_PYTHON_TASKS  True: tasks and futures are asyncio's pure-Python
#                        Task/Future instead of the C ones;
#     LOOP               "virtual": asyncfuzz's virtual-time loop (the
#                        default); "selector": the adapter's own loop, built
#                        on asyncio's BaseEventLoop, on virtual time;
#                        "realtime": its own loop on scaled real time (a loop
#                        scheduling in C, uvloop). With "selector" or
#                        "realtime": loop_factory() (required), setup_loop(loop)
#                        (optional: apply a patch, install a policy),
#                        REENTRANT, PROCESS_WIDE, TICK_MS (docs/LOOPS.md;
#                        harness/py/loops.py reads and checks them).
# Names the adapter leaves out fall back to this module's (stock asyncio).
# A reproducer pastes the adapter's text, so an adapter imports only the
# interpreter's and the target library's modules (and target_asyncio).
import asyncio

PURE_PYTHON_TASKS = False
LOOP = "virtual"

wait_for = asyncio.wait_for
gather = asyncio.gather
shield = asyncio.shield
wait = asyncio.wait
as_completed = asyncio.as_completed
timeout = asyncio.timeout
timeout_at = asyncio.timeout_at
TaskGroup = asyncio.TaskGroup
Event = asyncio.Event
Lock = asyncio.Lock
Condition = asyncio.Condition
Semaphore = asyncio.Semaphore
Queue = asyncio.Queue
sleep = asyncio.sleep
