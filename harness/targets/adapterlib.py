# adapterlib.py - the plainest asyncio equivalents of the two operations
# asyncio has no primitive for (part of asyncfuzz, docs/VENDORS.md). Stock
# asyncio's adapter (target_asyncio.py) is made of them; a library that
# lacks one of the operations may use them too (target_async_timeout.py).
# They are built only on the surface an adapter already provides, and a
# reproducer pastes this file, so it imports nothing but asyncio.
#
#   Cancellable(cm, now)   a timeout object given a cancel() (the scenario
#       op cancel_scope): the block's body is interrupted at its next await
#       and the block exits without raising. Built on cm.reschedule(now()):
#       the timeout expires in the next loop iteration, and the TimeoutError
#       the block then raises is dropped at its exit, unless the deadline
#       the block had before the cancel has passed too (then it is a real
#       expiry: TimeoutError, as anyio 4 raises; expired() is True only
#       then). cancel() before the block is entered takes effect when it is
#       entered (at its first await); after the block exited it does
#       nothing.
#   CancellableGroup(scope, group)   a task group given a cancel(): the group
#       runs inside a Cancellable timeout(None); cancel() cancels that, the
#       group aborts its children and the block exits without raising.
#   start(create_task, coro_fn, name)   spawn a task and wait until it
#       reports started (anyio's TaskGroup.start contract, 4.x): coro_fn
#       (task_status) makes the task's coroutine; start() returns the value
#       given to task_status.started(value); an exception, a cancellation or
#       a return before started() is raised by start() (a return as
#       RuntimeError), not by the group; cancelling the caller while it
#       waits cancels the task; a second started() raises RuntimeError in
#       the task. With a group (create_task: its create_task), one helper
#       task named asyncfuzz.start joins the group first and waits for the
#       task, so the group waits for it too and gets its later exception; a
#       group that no longer takes tasks makes start() raise before the task
#       exists (anyio: "This task group is not active").
import asyncio

# The harness's own helper tasks are named with this prefix; the
# differential oracle does not compare them.
HELPER_PREFIX = "asyncfuzz."


class Cancellable:
    """A timeout object (async with, expired(), reschedule(), when()) with
    cancel()."""
    __slots__ = ("cm", "_now", "_cancelled", "_deadline", "_entered", "_exited", "_quiet")

    def __init__(self, cm, now):
        self.cm = cm
        self._now = now
        self._cancelled = self._entered = self._exited = self._quiet = False
        self._deadline = None

    async def __aenter__(self):
        await self.cm.__aenter__()
        self._entered = True
        if self._cancelled:
            self._expire_now()
        return self

    async def __aexit__(self, et, ev, tb):
        self._exited = True
        try:
            return await self.cm.__aexit__(et, ev, tb)
        except TimeoutError:
            if self._cancelled and not self._deadline_passed():
                self._quiet = True
                return True  # the cancel's own expiry: the block exits quietly
            raise

    def cancel(self):
        if self._exited or self._cancelled:
            return
        self._cancelled = True
        if self._entered:
            self._expire_now()

    def _expire_now(self):
        self._deadline = self.cm.when()
        self.cm.reschedule(self._now())

    def _deadline_passed(self):
        return self._deadline is not None and self._now() >= self._deadline

    def expired(self):
        """Whether the block's deadline expired: not when cancel() ended it."""
        return not self._quiet and self.cm.expired()

    def reschedule(self, when):
        return self.cm.reschedule(when)

    def when(self):
        return self.cm.when()


class CancellableGroup:
    """A task group (async with, create_task()) with cancel()."""
    __slots__ = ("scope", "group")

    def __init__(self, scope, group):
        self.scope, self.group = scope, group

    async def __aenter__(self):
        await self.scope.__aenter__()
        try:
            await self.group.__aenter__()
        except BaseException as e:
            if not await self.scope.__aexit__(type(e), e, e.__traceback__):
                raise
        return self

    async def __aexit__(self, et, ev, tb):
        try:
            handled = await self.group.__aexit__(et, ev, tb)
        except BaseException as e:
            if await self.scope.__aexit__(type(e), e, e.__traceback__):
                return True
            raise
        if handled:
            et = ev = tb = None
        return await self.scope.__aexit__(et, ev, tb) or handled

    def create_task(self, coro, *, name=None):
        return self.group.create_task(coro, name=name)

    def cancel(self):
        self.scope.cancel()


class TaskStatus:
    """What the started task gets: started(value) once."""
    __slots__ = ("_fut",)

    def __init__(self, fut):
        self._fut = fut

    def started(self, value=None):
        if self._fut.done():
            raise RuntimeError("called 'started' twice on the same task status")
        self._fut.set_result(value)


async def _join(made, fut):
    """The group's helper: waits for the started task (made: a future of
    it); a failure before started() is start()'s caller's, not the
    group's. start() primes it up to `await made`, so that a cancel before
    the helper's first step (the group's) lands here: the helper then
    cancels the task and waits for it, as the group waits for its tasks,
    before it ends cancelled."""
    try:
        task = await made
    except asyncio.CancelledError:
        task = made.result()
        task.cancel()
        await asyncio.wait([task])
        raise
    try:
        return await task
    except BaseException as e:
        # the task's own failure before started(); a CancelledError here
        # is the helper's own (the group's), never the task's: a task that
        # ends cancelled cancels fut
        if (not isinstance(e, asyncio.CancelledError) and fut.done() and not fut.cancelled()
                and fut.exception() is not None):
            return None
        raise


def _on_task_done(fut, task):
    if fut.done():
        return
    if task.cancelled():
        fut.cancel()
    elif task.exception() is not None:
        fut.set_exception(task.exception())
    else:
        fut.set_exception(RuntimeError("Child exited without calling task_status.started()"))


async def start(create_task, coro_fn, name=None):
    """create_task: the group's create_task, or None for a task of its own."""
    loop = asyncio.get_running_loop()
    fut = loop.create_future()
    if create_task is not None:
        made = loop.create_future()
        join = _join(made, fut)
        join.__qualname__ = HELPER_PREFIX + "start"  # the probe names tasks after it
        join.send(None)  # primed: suspended in `await made` (see _join)
        try:
            helper = create_task(join, name=HELPER_PREFIX + "start")
        except BaseException:
            join.close()  # the group takes no task: nothing is started
            raise
    task = loop.create_task(coro_fn(TaskStatus(fut)), name=name)
    task.add_done_callback(lambda t: _on_task_done(fut, t))
    if create_task is not None:
        made.set_result(task)  # before the helper's first step, which resumes there
    try:
        return await fut
    except asyncio.CancelledError:
        task.cancel()
        raise
