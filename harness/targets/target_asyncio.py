# target_asyncio.py - target adapter: stock asyncio, C Task and Future (the
# default target, and the reference of the differential oracle). An adapter
# written to the contract of docs/VENDORS.md (version 1); copy this file to
# start one. The two operations asyncio has no primitive for, cancel_scope
# and start, are adapterlib.py's emulations, used only by scenarios that
# have them (cancellable=True is passed only for a timeout or task group a
# cancel_scope names), so every other scenario runs asyncio's own objects.
# An adapter may also bring its own event loop (LOOP = "selector" or
# "realtime", loop_factory(), setup_loop(loop), REENTRANT, PROCESS_WIDE,
# TICK_MS: docs/LOOPS.md; harness/py/loops.py reads them).
# A reproducer pastes this file: it imports only asyncio and adapterlib.
import asyncio

import adapterlib

CONTRACT = 1
NAME = "asyncio"
PROVIDES = frozenset({
    "sleep", "gather", "wait_for", "timeout", "reschedule", "cancel_scope", "shield", "wait",
    "as_completed", "task_group", "start", "event", "lock", "condition", "semaphore", "queue"})
PURE_PYTHON_TASKS = False


def version():
    import sys
    return "asyncio (CPython %d.%d.%d)" % sys.version_info[:3]


def _now():
    return asyncio.get_running_loop().time()


sleep = asyncio.sleep
gather = asyncio.gather
wait_for = asyncio.wait_for
shield = asyncio.shield
wait = asyncio.wait
as_completed = asyncio.as_completed
Event = asyncio.Event
Lock = asyncio.Lock
Condition = asyncio.Condition
Semaphore = asyncio.Semaphore
Queue = asyncio.Queue


def timeout(delay, *, cancellable=False):
    cm = asyncio.timeout(delay)
    return adapterlib.Cancellable(cm, _now) if cancellable else cm


def timeout_at(when, *, cancellable=False):
    cm = asyncio.timeout_at(when)
    return adapterlib.Cancellable(cm, _now) if cancellable else cm


def TaskGroup(*, cancellable=False):
    group = asyncio.TaskGroup()
    if not cancellable:
        return group
    return adapterlib.CancellableGroup(timeout(None, cancellable=True), group)


async def start(group, coro_fn, *, name=None):
    """group: what TaskGroup() returned, entered; None: a task of its own."""
    return await adapterlib.start(None if group is None else group.create_task, coro_fn, name)


def cancel_scope(scope):
    """scope: what timeout(), timeout_at() or TaskGroup() returned with
    cancellable=True: before it is entered, inside, or after it exited."""
    scope.cancel()
