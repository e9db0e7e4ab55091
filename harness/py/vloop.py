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
#   watchdog  more than watchdog_seconds of real time (checked every
#             WATCHDOG_EVERY iterations).
# A callback that advances the clock (block(ticks): a blocking call) by at
# least slow_ticks is recorded as a ("slow", vtime, iteration, ticks, what)
# event in self.events, the list the probe owns.
#
# Standalone on purpose: the reproducers paste this file's text above the
# probe's, so it imports nothing of asyncfuzz.
import asyncio
import asyncio.base_events
import asyncio.events
import heapq
import threading
import time as _time

WATCHDOG_EVERY = 256


class VirtualLoop(asyncio.base_events.BaseEventLoop):
    def __init__(self):
        super().__init__()
        self._clock = 0
        self._iteration = 0
        self._clock_resolution = 0
        self.slow_ticks = 100
        self.events = []
        self._slow_what = None
        self._future_cls = None  # None: the C Future (create_future)
        self.set_debug(False)

    # -- the clock ----------------------------------------------------------
    def time(self):
        return self._clock

    def block(self, ticks, what=None):
        """A blocking call inside a callback: hold the loop for ticks."""
        self._clock += ticks
        self._slow_what = what

    # -- what BaseEventLoop leaves abstract --------------------------------
    def _process_events(self, event_list):
        pass

    def _write_to_self(self):
        pass

    def create_future(self):
        if self._future_cls is None:
            return super().create_future()
        return self._future_cls(loop=self)

    # -- reuse ---------------------------------------------------------------
    def reset(self, events, exception_handler, task_factory, slow_ticks=100,
              future_cls=None):
        """Back to tick 0 with empty queues, for the next run."""
        for h in self._scheduled:
            h._scheduled = False
        self._ready.clear()
        self._scheduled.clear()
        self._timer_cancelled_count = 0
        self._stopping = False
        self._clock = 0
        self._iteration = 0
        self._slow_what = None
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

    # -- running -------------------------------------------------------------
    def enter_running(self):
        """Make this the running loop of the thread (as run_forever does)."""
        self._check_closed()
        self._check_running()
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
            heapq.heappop(sched)._scheduled = False
        return bool(sched)

    def run_until(self, pred, max_iterations, max_vtime, watchdog_seconds):
        """Run iterations until pred() is true. Returns None, or the budget
        that stopped the run: "hang", "deadlock" or "watchdog". Must be
        called between enter_running() and leave_running(). KeyboardInterrupt
        and SystemExit raised by a callback propagate."""
        start_it = self._iteration
        deadline = _time.monotonic() + watchdog_seconds
        while not pred():
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
        return None

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
            keep = []
            for h in sched:
                if h._cancelled:
                    h._scheduled = False
                else:
                    keep.append(h)
            heapq.heapify(keep)
            self._scheduled = sched = keep
            self._timer_cancelled_count = 0
        while sched and sched[0]._cancelled:
            self._timer_cancelled_count -= 1
            heapq.heappop(sched)._scheduled = False
        if not ready and sched:
            when = sched[0]._when
            if when > self._clock:
                # Jump. Timers are ints when every delay is; ceil otherwise.
                iw = int(when)
                self._clock = iw if iw == when else iw + 1
        now = self._clock
        while sched and sched[0]._when <= now:
            h = heapq.heappop(sched)
            h._scheduled = False
            ready.append(h)
        slow = self.slow_ticks
        for _ in range(len(ready)):
            h = ready.popleft()
            if h._cancelled:
                continue
            t0 = self._clock
            h._run()
            dt = self._clock - t0
            if dt and dt >= slow:
                self.events.append(("slow", self._clock, self._iteration, dt,
                                    self._slow_what or "callback"))
            self._slow_what = None
