# vloop.py - a virtual-time asyncio event loop (part of asyncfuzz).
#
# time() is an integer tick counter. When no callback is ready, the clock
# jumps to the next timer instead of sleeping, so a scenario that waits an
# hour of ticks costs microseconds. There is no selector and no real I/O.
#
# The loop is reused across runs: reset() puts it back to tick 0 with empty
# queues. run_until(pred, ...) drives it like run_forever() does (the loop
# counts as running: asyncio.get_running_loop() returns it and a nested
# run_until_complete() sees is_running()) and stops on budgets:
#   hang      more than max_iterations iterations, or the clock would pass
#             max_vtime;
#   deadlock  nothing ready and no timer pending while pred() is false;
#   watchdog  more than watchdog_seconds of real time: checked every
#             WATCHDOG_EVERY iterations, and inside a callback that does not
#             return (a loop in the target's code): past the deadline a
#             WatchdogExpired is raised where that callback is (below), which
#             run_until catches. Where it was raised, the first time in that
#             run_until, is left in loop.watchdog_at: (len(events), clock,
#             iteration).
# A callback that advances the clock (block(ticks): a blocking call) by at
# least slow_ticks is recorded as a ("slow", vtime, iteration, ticks, what)
# event in self.events, the list the probe owns.
#
# Standalone on purpose: the reproducers paste this file's text above the
# probe's, so it imports nothing of asyncfuzz.
import asyncio
import asyncio.base_events
import asyncio.events
import asyncio.format_helpers
import contextvars
import heapq
import signal as _signal
import threading
import time as _time

WATCHDOG_EVERY = 256


class WatchdogExpired(KeyboardInterrupt):
    """Raised inside a callback still running past the run's watchdog.
    A KeyboardInterrupt: asyncio's task steps and the loop's handles
    re-raise those (other BaseExceptions would be stored on the task and the
    loop would go on), and the scenario's handlers (CancelledError,
    Exception) do not catch it. run_until catches it."""


# The watchdog inside a callback. Embedded, a thread of the harness raises
# it (harness/accel/watchdog_c.c: a pending call at the next bytecode); in a
# reproducer, SIGALRM from setitimer does, in the main thread.
_wd_loop = None
_wd_deadline = 0.0


def _wd_alarm(signum, frame):
    loop = _wd_loop
    if loop is None or _time.monotonic() < _wd_deadline:
        return
    if loop.watchdog_at is None:
        loop.watchdog_at = (len(loop.events), loop._clock, loop._iteration)
    raise WatchdogExpired()


def _wd_begin(loop, seconds):
    global _wd_loop, _wd_deadline
    loop.watchdog_at = None
    if threading.current_thread() is not threading.main_thread():
        return  # signals reach the main thread only
    _wd_loop = loop
    _wd_deadline = _time.monotonic() + seconds
    _signal.signal(_signal.SIGALRM, _wd_alarm)
    _signal.setitimer(_signal.ITIMER_REAL, seconds, min(max(seconds / 4, 0.01), 1.0))


def _wd_end():
    global _wd_loop
    if _wd_loop is not None:
        _signal.setitimer(_signal.ITIMER_REAL, 0)
        _wd_loop = None


_Handle = asyncio.events.Handle
_TimerHandle = asyncio.events.TimerHandle
_new = object.__new__
_copy_context = contextvars.copy_context
_heappush = heapq.heappush
_heappop = heapq.heappop

# The embedded harness runs the loop's iterations in C (harness/accel/probe_c.c:
# the same reads, writes and calls as run_until and _run_once below, without
# their Python frames); elsewhere (a reproducer, where this text is not the
# module `vloop`) the Python code runs.
_af_probe = _af_loop = None
if __name__ == "vloop":
    try:
        import _af_loop
        import _af_probe
    except ImportError:
        _af_probe = _af_loop = None
    try:
        import _af_watchdog
    except ImportError:  # imported by a plain python (tests)
        _af_watchdog = None
    if _af_watchdog is not None:
        _af_watchdog.bind(WatchdogExpired)
        _wd_begin = _af_watchdog.begin
        _wd_end = _af_watchdog.end
if _af_probe is not None:
    _af_probe.bind_vloop(globals())
    _c_run_until = _af_probe.run_until
else:
    _c_run_until = None


class _VTimerHandle(_TimerHandle):
    """A TimerHandle whose cancel() skips the debug bookkeeping (the loop
    never runs in debug mode); otherwise the stock one."""
    __slots__ = ()

    def cancel(self):
        if not self._cancelled:
            if self._scheduled:
                self._loop._timer_cancelled_count += 1
            self._cancelled = True
            self._callback = None
            self._args = None


def _callback_failed(h, exc):
    """What Handle._run does when its callback raised."""
    cb = asyncio.format_helpers._format_callback_source(h._callback, h._args)
    context = {
        "message": f"Exception in callback {cb}",
        "exception": exc,
        "handle": h,
    }
    if h._source_traceback:
        context["source_traceback"] = h._source_traceback
    h._loop.call_exception_handler(context)


class VirtualTime:
    """What every loop on virtual time does alike: VirtualLoop's, and that
    of a loop under test put on virtual time (loops.py's VirtualBase). The
    clock is an integer tick count, self._clock."""
    __slots__ = ()
    _Handle = _Handle
    _TimerHandle = _VTimerHandle

    # -- scheduling: BaseEventLoop's, without the debug-mode work (the loop
    # never runs in debug mode; if it is switched on, the stock methods run),
    # handles of the loop's classes _Handle and _TimerHandle.
    def call_soon(self, callback, *args, context=None):
        if self._debug:
            return super().call_soon(callback, *args, context=context)
        if self._closed:
            raise RuntimeError("Event loop is closed")
        h = _new(self._Handle)
        h._context = _copy_context() if context is None else context
        h._loop = self
        h._callback = callback
        h._args = args
        h._cancelled = False
        h._repr = None
        h._source_traceback = None
        self._ready.append(h)
        return h

    def call_at(self, when, callback, *args, context=None):
        if when is None:
            raise TypeError("when cannot be None")
        if self._debug:
            return super().call_at(when, callback, *args, context=context)
        if self._closed:
            raise RuntimeError("Event loop is closed")
        h = _new(self._TimerHandle)
        h._context = _copy_context() if context is None else context
        h._loop = self
        h._callback = callback
        h._args = args
        h._cancelled = False
        h._repr = None
        h._source_traceback = None
        h._when = when
        h._scheduled = True
        _heappush(self._scheduled, h)
        return h

    def call_later(self, delay, callback, *args, context=None):
        if delay is None:
            raise TypeError("delay must not be None")
        return self.call_at(self._clock + delay, callback, *args, context=context)

    def time(self):
        return self._clock

    def block(self, ticks, what=None):
        """A blocking call inside a callback: hold the loop for ticks."""
        self._clock += ticks
        self._slow_what = what

    def create_future(self):
        if self._future_cls is None:
            return super().create_future()
        return self._future_cls(loop=self)

    def reset(self, events, exception_handler, task_factory, slow_ticks=100,
              future_cls=None):
        """Back to tick 0 with empty queues, for the next run."""
        self.clear_queues()
        self._stopping = False
        self._clock = 0
        self._iteration = 0
        self._slow_what = None
        self.halted = False
        self.events = events
        self.slow_ticks = slow_ticks
        self._future_cls = future_cls
        self._exception_handler = exception_handler
        self._task_factory = task_factory
        self._debug = False

    def clear_queues(self):
        for h in self._scheduled:
            h._scheduled = False
        self._ready.clear()
        self._scheduled.clear()
        self._timer_cancelled_count = 0

    def enter_running(self):
        """Make this the running loop of the thread (as run_forever does,
        with the checks of _check_closed and _check_running inlined)."""
        if self._closed:
            raise RuntimeError("Event loop is closed")
        if self._thread_id is not None:  # self.is_running()
            raise RuntimeError("This event loop is already running")
        if asyncio.events._get_running_loop() is not None:
            raise RuntimeError("Cannot run the event loop while another loop is running")
        self._thread_id = threading.get_ident()
        asyncio.events._set_running_loop(self)

    def leave_running(self):
        self._stopping = False
        self._thread_id = None
        asyncio.events._set_running_loop(None)

    def has_work(self):
        """Whether an iteration could run anything."""
        if self._ready:
            return True
        sched = self._scheduled
        while sched and sched[0]._cancelled:
            self._timer_cancelled_count -= 1
            _heappop(sched)._scheduled = False
        return bool(sched)


class VirtualLoop(VirtualTime, asyncio.base_events.BaseEventLoop):
    # Object slots (instances keep a __dict__ for the rest): the attributes
    # every iteration reads; the embedded harness reads and writes them at
    # their offsets (harness/accel/loop_c.c, bind_loop below).
    __slots__ = ("_clock", "_iteration", "_ready", "_scheduled", "_timer_cancelled_count",
                 "halted", "_debug", "_closed", "_future_cls", "slow_ticks", "_slow_what",
                 "events", "_thread_id", "_stopping", "_exception_handler", "_task_factory")
    watchdog_at = None  # where the watchdog stopped a callback (see the top)

    def __init__(self):
        super().__init__()
        self._clock = 0
        self._iteration = 0
        self._clock_resolution = 0
        self.slow_ticks = 100
        self.events = []
        self._slow_what = None
        self._future_cls = None  # None: the C Future (create_future)
        self.halted = False
        self.set_debug(False)

    # -- what BaseEventLoop leaves abstract --------------------------------
    def _process_events(self, event_list):
        pass

    def _write_to_self(self):
        pass

    def create_task(self, coro, *, name=None, context=None):
        if self._closed:
            raise RuntimeError("Event loop is closed")
        f = self._task_factory
        if f is None or self._debug:
            return super().create_task(coro, name=name, context=context)
        task = f(self, coro) if context is None else f(self, coro, context=context)
        if name is not None:  # asyncio.tasks._set_task_name
            try:
                set_name = task.set_name
            except AttributeError:
                asyncio.tasks._set_task_name(task, name)
            else:
                set_name(name)
        return task

    # -- reuse (reset, clear_queues: VirtualTime) ----------------------------
    def run_until(self, pred, max_iterations, max_vtime, watchdog_seconds):
        """Run iterations until pred() is true (pred None: until self.halted
        is true, which a callback sets: cheaper than a call per iteration).
        Returns None, or the budget that stopped the run: "hang", "deadlock"
        or "watchdog". Must be called between enter_running() and
        leave_running(). KeyboardInterrupt and SystemExit raised by a
        callback propagate (WatchdogExpired is the watchdog's: "watchdog"). A
        stop() ends the iteration as run_forever does; the run goes on as if
        the program called run_forever again, after a ("stopped", vtime,
        iteration) event."""
        if _c_run_until is not None:
            return _c_run_until(self, pred, max_iterations, max_vtime, watchdog_seconds)
        start_it = self._iteration
        deadline = _time.monotonic() + watchdog_seconds
        _wd_begin(self, watchdog_seconds)
        try:
            while not (self.halted if pred is None else pred()):
                n = self._iteration - start_it
                if n >= max_iterations:
                    return "hang"
                if n % WATCHDOG_EVERY == WATCHDOG_EVERY - 1 and _time.monotonic() > deadline:
                    return "watchdog"
                if not self._ready:
                    if not self.has_work():
                        return "deadlock"
                    when = self._scheduled[0]._when
                    if when > max_vtime:
                        return "hang"
                if self._clock > max_vtime:
                    return "hang"
                self._run_once()
                if self._stopping:
                    self._stopping = False
                    self.events.append(("stopped", self._clock, self._iteration))
        except WatchdogExpired:
            return "watchdog"
        except (KeyboardInterrupt, SystemExit):
            # as run_forever's finally does: a stop() of the interrupted
            # iteration does not outlive it
            self._stopping = False
            raise
        finally:
            _wd_end()
        return None

    def _purge_cancelled(self, sched):
        """Drop every cancelled timer of sched (the heap); the new heap."""
        keep = []
        for h in sched:
            if h._cancelled:
                h._scheduled = False
            else:
                keep.append(h)
        heapq.heapify(keep)
        self._scheduled = keep
        self._timer_cancelled_count = 0
        return keep

    def _run_once(self):
        """One iteration: like BaseEventLoop._run_once without the selector.

        If nothing is ready, the clock jumps to the earliest timer. Timers
        due at the current tick are moved to the ready queue, then every
        callback that was ready when the iteration started runs (callbacks
        they schedule run in the next iteration). A callback that advanced
        the clock by >= slow_ticks is recorded as a "slow" event."""
        self._iteration += 1
        ready = self._ready
        sched = self._scheduled
        # Purge cancelled timers: from the head always, wholesale when many.
        if self._timer_cancelled_count > 64 and self._timer_cancelled_count * 2 > len(sched):
            sched = self._purge_cancelled(sched)
        while sched and sched[0]._cancelled:
            self._timer_cancelled_count -= 1
            _heappop(sched)._scheduled = False
        if not ready and sched:
            when = sched[0]._when
            if when > self._clock:
                # Jump. Timers are ints when every delay is; ceil otherwise.
                iw = int(when)
                self._clock = iw if iw == when else iw + 1
        now = self._clock
        while sched and sched[0]._when <= now:
            h = _heappop(sched)
            h._scheduled = False
            ready.append(h)
        popleft = ready.popleft
        for _ in range(len(ready)):
            h = popleft()
            if h._cancelled:
                continue
            t0 = self._clock
            # h._run(), inlined (one Python frame less per callback).
            try:
                h._context.run(h._callback, *h._args)
            except (SystemExit, KeyboardInterrupt):
                raise
            except BaseException as exc:
                _callback_failed(h, exc)
            h = None
            if self._clock != t0:
                dt = self._clock - t0
                if dt >= self.slow_ticks:
                    self.events.append(("slow", self._clock, self._iteration, dt,
                                        self._slow_what or "callback"))
                self._slow_what = None


# Embedded, the scheduling methods are C too (harness/accel/loop_c.c: the same
# handles, the same heap order); each keeps its Python method to defer to
# in debug mode.
if _af_probe is not None:
    _af_loop.bind_handles(_Handle, _VTimerHandle)
    _af_loop.bind_loop(VirtualLoop)
    VirtualLoop.run_until = _af_probe.run_until_descr(VirtualLoop)
    for _name in ("call_soon", "call_at", "call_later", "create_future", "get_debug", "reset",
                  "clear_queues", "enter_running", "leave_running"):
        setattr(VirtualLoop, _name,
                _af_loop.method(VirtualLoop, _name, getattr(VirtualLoop, _name)))
    _VTimerHandle.cancel = _af_loop.method(_VTimerHandle, "cancel", _VTimerHandle.cancel)
    _heappop = _af_loop.heappop
    _heappush = _af_loop.heappush
    del _name
