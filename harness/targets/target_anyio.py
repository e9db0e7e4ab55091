# target_anyio.py - target adapter: anyio on its asyncio backend (Debian
# bookworm's python3-anyio, 3.6.2), contract version 1 (docs/VENDORS.md).
# Written against anyio's public API, so 3.7 and 4.x run too. anyio provides
# task groups (create_task_group; start = TaskGroup.start), cancel scopes (a
# scenario timeout is anyio.fail_after's scope: reschedule sets its
# deadline, cancel_scope cancels it), sleep and the synchronisation
# primitives but Queue; gather, wait_for, shield, wait, as_completed and
# queues run on stock asyncio. anyio dispatches through sniffio, which needs
# a current task: the harness calls every factory inside a task of the
# running loop.
import asyncio
import math

import anyio

import adapterlib

CONTRACT = 1
NAME = "anyio"
PROVIDES = frozenset({"sleep", "timeout", "reschedule", "cancel_scope", "task_group", "start",
                      "event", "lock", "condition", "semaphore"})
# anyio's documented semantics that differ from asyncio's (docs/cancellation.rst,
# "Differences between asyncio and AnyIO cancellation semantics"); the
# differential oracle normalises what each names.
DIFFERENCES = frozenset({
    "level-cancellation",         # awaits inside a cancelled scope raise again
    "unstarted-children-run",     # an aborted group's unstarted child runs to its first await
    "child-cancel-aborts-group",  # a child cancelled natively cancels its whole group
    "scheduling",                 # extra checkpoints (Lock, Semaphore, Event.wait in 3.x)
})


def version():
    """The version of the anyio imported (the distribution metadata found by
    name may describe another copy on sys.path)."""
    import os
    from importlib.metadata import Distribution
    where = os.path.dirname(os.path.dirname(anyio.__file__))
    for dist in Distribution.discover(name="anyio", path=[where]):
        return "anyio " + dist.version
    return "anyio (%s)" % where


sleep = anyio.sleep
Event = anyio.Event
Lock = anyio.Lock
Condition = anyio.Condition
Semaphore = anyio.Semaphore


def _as_group(e):
    """anyio 3.x raises the bare exception for one error and its own
    ExceptionGroup (not a PEP 654 group) for several; asyncio.TaskGroup
    raises a BaseExceptionGroup every time, which `except*` in a scenario
    relies on. anyio 4 raises PEP 654 groups (returned as they are)."""
    if isinstance(e, (BaseExceptionGroup, asyncio.CancelledError)):
        return e
    if type(e).__name__ == "ExceptionGroup" and hasattr(e, "exceptions"):
        return BaseExceptionGroup("unhandled errors in a TaskGroup", list(e.exceptions))
    return BaseExceptionGroup("unhandled errors in a TaskGroup", [e])


class TaskGroup:
    """asyncio.TaskGroup's surface over anyio's task group: create_task
    (start_soon, which returns no task: the harness takes the task its task
    factory created), start, and cancel (the group's cancel scope; before
    the group is entered too)."""

    def __init__(self, *, cancellable=False):
        self.group = anyio.create_task_group()

    async def __aenter__(self):
        await self.group.__aenter__()
        return self

    async def __aexit__(self, et, ev, tb):
        try:
            return await self.group.__aexit__(et, ev, tb)
        except BaseException as e:
            g = _as_group(e)
            if g is e:
                raise
            raise g from None

    def create_task(self, coro, *, name=None):
        self.group.start_soon(lambda: coro, name=name)

    def cancel(self):
        self.group.cancel_scope.cancel()


class _Timeout:
    """asyncio.Timeout's surface over anyio.fail_after (the library's own
    TimeoutError rule is what is under test). fail_after gives its cancel
    scope only once entered (anyio 4), so a cancel before the block is
    entered is applied right after entering, before the body runs: the body
    is interrupted at its first await either way. expired(): the scope was
    cancelled and its deadline has passed."""

    def __init__(self, delay):
        self._cm = anyio.fail_after(delay)
        self._scope = None
        self._cancel_early = False

    async def __aenter__(self):
        self._scope = self._cm.__enter__()
        if self._cancel_early:
            self._scope.cancel()
        return self

    async def __aexit__(self, et, ev, tb):
        return self._cm.__exit__(et, ev, tb)

    def expired(self):
        s = self._scope
        return s is not None and s.cancel_called and anyio.current_time() >= s.deadline

    def when(self):
        d = self._scope.deadline
        return None if d == math.inf else d

    def reschedule(self, when):
        self._scope.deadline = math.inf if when is None else when

    def cancel(self):
        if self._scope is None:
            self._cancel_early = True
        else:
            self._scope.cancel()


def timeout(delay, *, cancellable=False):
    return _Timeout(delay)


def timeout_at(when, *, cancellable=False):
    return _Timeout(None if when is None else max(0, when - anyio.current_time()))


async def start(group, coro_fn, *, name=None):
    """In a group: anyio's TaskGroup.start. Without one anyio has no
    equivalent: stock asyncio's (adapterlib's) task of its own."""
    if group is None:
        return await adapterlib.start(None, coro_fn, name)
    return await group.group.start(coro_fn, name=name)


def cancel_scope(scope):
    scope.cancel()
